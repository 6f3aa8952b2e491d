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


def point_label(row: dict, keys: tuple[str, ...]) -> str:
    """'latency=0.5, silence=0.3': a point's values under short key names."""
    return ", ".join(f"{short_key(k, keys)}={show_value(row[k])}" for k in keys)


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
