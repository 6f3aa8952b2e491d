"""Shaping a sweep's results table for its plots: value order, units, labels, cell means."""

import re

import pandas as pd

UNITS = {
    "words_per_minute": "words/min", "pause": "s", "interval": "s", "lag": "s",
    "final_lag": "s", "silence": "s", "rtt": "s", "request_overhead": "s", "latency": "s",
    "first_audio": "s", "think_time": "s", "prefill_rate": "tokens/s",
    "decode_rate": "tokens/s", "prefill_slowdown_per_1k": "fraction per 1k tokens",
    "decode_slowdown_per_1k": "fraction per 1k tokens", "system_tokens": "tokens",
    "accuracy": "probability", "premature_rate": "probability per partial transcript",
    "confirm_error": "probability", "revise_error": "probability",
    "seeds": "replications",
}


def axis_label(key: str) -> str:
    """The swept key with its unit, e.g. 'tools.default.latency (s)'."""
    unit = UNITS.get(key.split(".")[-1])
    return f"{key} ({unit})" if unit else key


def is_numeric(column: pd.Series) -> bool:
    """Whether a swept key's values are numbers (drawn on a numeric axis)."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def ordered_values(results: pd.DataFrame, key: str) -> list:
    """A swept key's distinct values: sorted if numeric, else in order of appearance."""
    values = results[key].drop_duplicates().tolist()
    return sorted(values) if is_numeric(results[key]) else values


def policy_order(results: pd.DataFrame, spec: dict) -> list[str]:
    """Policies in the sweep file's order, then any others in table order."""
    listed = [str(p) for p in spec.get("policies") or [] if str(p) in set(results.policy)]
    return listed + [p for p in dict.fromkeys(results.policy) if p not in listed]


def cell_means(results: pd.DataFrame, x: str, y: str, metric: str) -> pd.DataFrame:
    """Mean of `metric` per (traces, policy, x, y), averaged over any other swept keys."""
    return results.groupby(["traces", "policy", x, y], sort=False)[metric].mean().reset_index()


SUFFIXED = ("s", "words/min", "tokens/s", "tokens")  # units written after a value


def point_label(row: dict, keys: tuple[str, ...]) -> str:
    """'latency=0.5 s, silence=0.3 s': a point's values under short key names."""
    return ", ".join(value_label(k, row[k], keys) for k in keys)


def value_label(key: str, value, keys: tuple[str, ...], sep: str = "=",
                every_unit: bool = False) -> str:
    """'silence=0.3 s': a swept value with its unit (if SUFFIXED; with `every_unit` any
    other in brackets: 'accuracy = 0.9 (probability)')."""
    unit = UNITS.get(key.split(".")[-1])
    text = f"{short_key(key, keys)}{sep}{show_value(value)}"
    if unit in SUFFIXED:
        return f"{text} {unit}"
    return f"{text} ({unit})" if unit and every_unit else text


def short_key(key: str, keys: tuple[str, ...]) -> str:
    """The last part of a dotted key, or the whole key if another key shares that part."""
    last = key.split(".")[-1]
    return last if sum(k.split(".")[-1] == last for k in keys) == 1 else key


def show_value(value) -> str:
    """A swept value as text: floats without trailing zeros."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def slug(key: str) -> str:
    """A swept key as part of a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key)


def speedup_summary(results: pd.DataFrame, keys: tuple[str, ...], policies: list[str]) -> str:
    """One sentence per non-sync policy (speculative first): at how many points it is
    faster or slower than sync with 95% confidence, its range of speedups, and the points
    where it gains most and least. Empty without speedups."""
    rows = results[(results.policy != "sync") & results.speedup.notna()]
    several = rows.traces.nunique() > 1
    lines = []
    present = set(rows.policy)
    for policy in sorted((p for p in policies if p in present), key=lambda p: p != "speculative"):
        part = rows[rows.policy == policy]
        faster, slower = int((part.speedup_lo > 1).sum()), int((part.speedup_hi < 1).sum())
        best, worst = (part.loc[i].to_dict() for i in (part.speedup.idxmax(),
                                                        part.speedup.idxmin()))
        where = "points and trace sets" if several else "points"
        verdict = (f"{policy} is faster than sync at {faster}"
                   + (f" and slower at {slower}" if slower else "")
                   + f" of {len(part)} {where} (95% interval clear of 1)")
        lines.append(f"{verdict}, speedup {worst['speedup']:.2f}-{best['speedup']:.2f}: most "
                     f"at {_at(best, keys, several)}, least at {_at(worst, keys, several)}.")
    return " ".join(line[0].upper() + line[1:] for line in lines)


def _at(row: dict, keys: tuple[str, ...], several: bool) -> str:
    where = point_label(row, keys) + (f", traces {row['traces']}" if several else "")
    return (f"{where} ({row['speedup']:.2f} [{row['speedup_lo']:.2f}, "
            f"{row['speedup_hi']:.2f}])")
