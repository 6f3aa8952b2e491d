"""Load curves of a sweep over the shared server's load: the series and the two markers.

A load sweep sweeps `server.sessions` (a closed population of conversations) or
`server.arrival_rate` (new conversations per second). Two markers, per policy:

- **advantage disappears**: the first load at which the 95% interval of the speedup vs sync
  reaches down to 1 (lower bound <= 1: no longer distinguishable from sync; the speedup
  itself where the interval is missing);
- **server saturates**: the first load at which requests wait for a batch slot (mean queue
  wait >= 10 ms: the batch is full) or each unit of load gets half the throughput it got
  at the lightest load (tokens/s per session, or per arrival/s, <= 0.5 of its first value:
  throughput has stopped growing with load), whichever comes first.

Busy share, mean batch and tokens/s are the steady-state figures (`server_steady_*`,
docs/server.md) where the results have them, else the whole-run ones.

Between the last load before a crossing and the first at or past it, the marker is placed
where the straight line between the two points crosses the threshold, on the axis the plot
uses (log load when the loads span more than 10x). A crossing at the lightest load is
reported as that load; none in the swept range as None.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtsim.reports.sweep_data import short_key, show_value

LOAD_KEYS = {"server.sessions": ("concurrent conversations", "sessions"),
             "server.arrival_rate": ("new conversations per second", "conversations/s")}
QUEUE_WAIT_SATURATED = 0.01  # s: requests wait for a batch slot
THROUGHPUT_SATURATED = 0.5  # tokens/s per unit load, as a share of its lightest-load value
LOG_SPAN = 10.0  # loads spanning more than this ratio go on a log axis
LABEL_GAP = 0.04  # markers closer than this share of the load axis share one label
LabelGroup = tuple[tuple[str, ...], float, float]  # policies, lowest and highest load


@dataclass(frozen=True)
class Saturation:
    """Where the server saturates under one policy, and by which rule (None: not swept)."""

    load: float | None
    rule: str = ""


def server_column(results: pd.DataFrame, figure: str) -> str:
    """The column of a server figure: its steady-state one when the results have it."""
    steady = f"server_steady_{figure}"
    if steady in results.columns and results[steady].notna().any():
        return steady
    return f"server_{figure}"


def load_key(keys: tuple[str, ...]) -> str | None:
    """The first swept key that is a server load, or None."""
    return next((k for k in keys if k in LOAD_KEYS), None)


def log_axis(loads) -> bool:
    """Whether loads span more than LOG_SPAN (all positive): draw and interpolate in log."""
    loads = np.asarray(loads, dtype=float)
    return bool(loads.min() > 0 and loads.max() / loads.min() > LOG_SPAN)


def first_crossing(loads, values, threshold: float, rising: bool, log: bool) -> float | None:
    """The load at which `values` first reach `threshold` (>= if rising, else <=),
    interpolated linearly (in log load if `log`) from the previous load; NaN points are
    skipped; loads[0] if the first value already does; None if none does."""
    pts = [(float(x), float(y)) for x, y in zip(loads, values, strict=True) if not math.isnan(y)]
    pts.sort()
    for i, (x1, y1) in enumerate(pts):
        if (y1 >= threshold) if rising else (y1 <= threshold):
            if i == 0:
                return x1
            x0, y0 = pts[i - 1]
            share = (threshold - y0) / (y1 - y0)
            if log:
                return math.exp(math.log(x0) + share * (math.log(x1) - math.log(x0)))
            return x0 + share * (x1 - x0)
    return None


def series(results: pd.DataFrame, key: str, policy: str) -> pd.DataFrame:
    """One policy's rows of one load series, sorted by load."""
    return results[results.policy == policy].sort_values(key, kind="stable")


def advantage_ends(rows: pd.DataFrame, key: str, log: bool) -> float | None:
    """Where a policy's speedup stops being distinguishable from 1 (module doc)."""
    lower = rows.speedup_lo.fillna(rows.speedup)
    return first_crossing(rows[key], lower, 1.0, rising=False, log=log)


def saturation(rows: pd.DataFrame, key: str, log: bool) -> Saturation:
    """Where the server saturates under a policy's load (module doc)."""
    rows = rows[rows[server_column(rows, "tokens_per_s")].notna()]
    if rows.empty:
        return Saturation(None)
    queue = first_crossing(rows[key], rows.server_mean_queue_wait, QUEUE_WAIT_SATURATED,
                           rising=True, log=log)
    efficiency = throughput_share(rows, key)
    slow = first_crossing(rows[key], efficiency, THROUGHPUT_SATURATED, rising=False, log=log)
    found = [(x, rule) for x, rule in (
        (queue, f"mean queue wait reaches {QUEUE_WAIT_SATURATED * 1000:g} ms"),
        (slow, "throughput per unit of load halves")) if x is not None]
    return Saturation(*min(found, key=lambda f: f[0])) if found else Saturation(None)


def throughput_share(rows: pd.DataFrame, key: str) -> pd.Series:
    """Tokens/s per unit of load, as a share of its value at the lightest load."""
    per_load = rows[server_column(rows, "tokens_per_s")] / rows[key]
    return per_load / per_load.iloc[0]


def label_groups(at: dict[str, float], loads, log: bool) -> list[LabelGroup]:
    """Markers (policy: load) that share one label: sorted by load, a marker joins the
    previous group when it lies within LABEL_GAP of the load axis (on the plot's scale) of
    that group's highest marker. Each group: (policies, lowest load, highest load); the
    labels of consecutive groups are thus at least LABEL_GAP apart."""
    pos = math.log if log else float
    span = (pos(max(loads)) - pos(min(loads))) or 1.0
    groups: list[list] = []
    for policy, x in sorted(at.items(), key=lambda item: item[1]):
        if groups and (pos(x) - pos(groups[-1][2])) / span < LABEL_GAP:
            groups[-1][0].append(policy)
            groups[-1][2] = x
        else:
            groups.append([[policy], x, x])
    return [(tuple(names), lo, hi) for names, lo, hi in groups]


def about_range(low: float, high: float) -> str:
    """Two marker loads as one: '~260', or '~257\u2013263' when they round apart."""
    return f"~{about(low)}" if about(low) == about(high) else f"~{about(low)}\u2013{about(high)}"


def about(load: float) -> str:
    """A marker load to 3 significant digits, whole from 10 up: '96', '1,230', '0.153'."""
    value = float(f"{load:.3g}")
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:g}"


@dataclass(frozen=True)
class Markers:
    """The markers of one policy on one load series. `gain`: 'ends' (the advantage
    disappears at `advantage`), 'never' (gone at the lightest load already), 'lasts' (over
    the whole range), or 'none' (sync, or no speedups in the table)."""

    gain: str
    advantage: float | None
    saturation: Saturation


def markers(results: pd.DataFrame, key: str, policies: list[str]) -> dict[str, Markers]:
    """Markers per policy of one load series (the rows of one trace set and other values)."""
    log = log_axis(results[key])
    out = {}
    for policy in policies:
        rows = series(results, key, policy)
        ends, gain = None, "none"
        if policy != "sync" and rows.speedup.notna().any():
            ends = advantage_ends(rows, key, log)
            gain = ("lasts" if ends is None else
                    "never" if ends == float(rows[key].iloc[0]) else "ends")
        out[policy] = Markers(gain, ends, saturation(rows, key, log))
    return out


def load_groups(results: pd.DataFrame, keys: tuple[str, ...],
                key: str) -> list[tuple[str, pd.DataFrame]]:
    """The load series of a sweep: one per trace set and combination of other swept values,
    labelled ('' when there is only one)."""
    by = ["traces", *(k for k in keys if k != key)]
    parts = list(results.groupby(by, sort=False, dropna=False))
    if len(parts) == 1:
        return [("", parts[0][1])]
    return [(", ".join(f"{short_key(k, keys)}={show_value(v)}"
                       for k, v in zip(by, values, strict=True)), part)
            for values, part in parts]
