"""Verdicts on latency targets: does a policy meet them with the requested confidence?

Every statistic is computed on the whole sample and on `BOOTSTRAP_SAMPLES` resamples of
units (replication, episode): each unit keeps its turns together, and the same resampled
units serve every policy, so speedups are paired as in rtsim.analysis.summary. A resample is a
vector of unit weights (how often each unit was drawn); means and ratios are weighted
sums, percentiles are those of the resampled turns (numpy's linear interpolation).
"""

import numpy as np
import pandas as pd

from rtsim.analysis.summary import BOOTSTRAP_SAMPLES, UNIT
from rtsim.analysis.targets import Comparison, evaluate, format_expr
from rtsim.engine.seeds import VALIDATE_BOOTSTRAP, branch_stream
from rtsim.text import count

_CHUNK = 2**22  # weight-matrix entries handled at once by percentile()


class Bootstrap:
    """Statistics of one policy's turns: entry 0 on the sample, then one per resample."""

    def __init__(self, turns: pd.DataFrame, policy: str, seed: int, baseline: str = "sync",
                 resamples: int = BOOTSTRAP_SAMPLES):
        self.rows = turns[turns.policy == policy]
        self.base = turns[turns.policy == baseline]
        self.units = pd.MultiIndex.from_frame(self.rows[UNIT]).unique()
        rng = branch_stream(seed, VALIDATE_BOOTSTRAP)
        n = len(self.units)
        draws = rng.integers(0, n, size=(resamples, n)) + n * np.arange(resamples)[:, None]
        counts = np.bincount(draws.ravel(), minlength=resamples * n).reshape(resamples, n)
        self.weights = np.vstack([np.ones(n, dtype=counts.dtype), counts])
        self.unit, self.base_unit = self._unit_of(self.rows), self._unit_of(self.base)

    def _unit_of(self, rows: pd.DataFrame) -> np.ndarray:
        return self.units.get_indexer(pd.MultiIndex.from_frame(rows[UNIT]))

    def _sums(self, rows: pd.DataFrame, unit: np.ndarray, column: str | None) -> np.ndarray:
        """Weighted sums of `column` (of ones if None) over the units, per resample."""
        keep = unit >= 0
        values = None if column is None else rows[column].to_numpy(dtype=float)[keep]
        return self.weights @ np.bincount(unit[keep], values, minlength=len(self.units))

    def mean(self, column: str) -> np.ndarray:
        """Mean of `column` over the turns."""
        return self._sums(self.rows, self.unit, column) / self._sums(self.rows, self.unit, None)

    def ratio(self, numerator: str, denominator: str) -> np.ndarray:
        """Sum of one column over the sum of another (e.g. hits / guesses)."""
        return (self._sums(self.rows, self.unit, numerator)
                / self._sums(self.rows, self.unit, denominator))

    def speedup(self, column: str) -> np.ndarray:
        """Mean `column` of the baseline over the policy's, on the same units."""
        base = (self._sums(self.base, self.base_unit, column)
                / self._sums(self.base, self.base_unit, None))
        return base / self.mean(column)

    def max(self, column: str) -> np.ndarray:
        """Largest value of `column` over the drawn turns."""
        return self._extreme(column, np.maximum, -np.inf)

    def min(self, column: str) -> np.ndarray:
        """Smallest value of `column` over the drawn turns."""
        return self._extreme(column, np.minimum, np.inf)

    def _extreme(self, column: str, ufunc, empty: float) -> np.ndarray:
        per_unit = np.full(len(self.units), empty)
        ufunc.at(per_unit, self.unit, self.rows[column].to_numpy(dtype=float))
        return ufunc.reduce(np.where(self.weights > 0, per_unit, empty), axis=1)

    def percentile(self, q: int, column: str) -> np.ndarray:
        """The q-th percentile of `column` over the drawn turns (each drawn unit's turns
        repeated as often as the unit was drawn)."""
        values = self.rows[column].to_numpy(dtype=float)
        order = np.argsort(values, kind="stable")
        values, unit = values[order], self.unit[order]
        step = max(1, _CHUNK // max(1, len(values)))
        return np.concatenate([_percentile(values, self.weights[i:i + step][:, unit], q)
                               for i in range(0, len(self.weights), step)])


def _percentile(values: np.ndarray, weights: np.ndarray, q: int) -> np.ndarray:
    """Per row, np.percentile(q) of sorted `values` each repeated `weights[row, k]` times."""
    cum = np.cumsum(weights, axis=1)
    h = q / 100 * (cum[:, -1] - 1)
    lo = np.floor(h).astype(int)
    hi = np.minimum(lo + 1, cum[:, -1] - 1)
    v_lo = values[(cum <= lo[:, None]).sum(axis=1)]
    v_hi = values[(cum <= hi[:, None]).sum(axis=1)]
    return v_lo + (h - lo) * (v_hi - v_lo)


def verdict(comparison: Comparison, values, confidence: float) -> dict:
    """Pass, fail or unsure for one comparison, from its sample and resampled values.

    `stat < x` passes when the `confidence` percentile of the resampled values is below x;
    `stat > x` when the 1 - `confidence` percentile is above x; `stat == x` when both equal
    x (its bound is the one farther from x). An undefined resample (a zero denominator)
    counts against the target.
    """
    values = np.asarray(values, dtype=float)
    estimate = float(values[0])
    if comparison.op == "==":
        low, high = (_bound(values, 1 - confidence, -np.inf), _bound(values, confidence, np.inf))
        upper = abs(high - comparison.threshold) >= abs(low - comparison.threshold)
        bound = high if upper else low
    else:
        upper = comparison.op in ("<", "<=")
        bound = _bound(values, confidence if upper else 1 - confidence,
                       np.inf if upper else -np.inf)
    holds = _compare(comparison.op)
    result = ("fail" if not holds(estimate, comparison.threshold) else
              "pass" if holds(bound, comparison.threshold) else "unsure")
    return {"name": comparison.name, "target": comparison.text,
            "statistic": format_expr(comparison.stat), "op": comparison.op,
            "threshold": comparison.threshold, "estimate": _finite(estimate),
            "bound": _finite(bound), "bound_side": "upper" if upper else "lower",
            "verdict": result}


def _bound(values: np.ndarray, share: float, undefined: float) -> float:
    """The `share` percentile of the resampled values; undefined ones count as `undefined`."""
    resampled = np.nan_to_num(values[1:], nan=undefined)
    with np.errstate(invalid="ignore"):
        return float(np.percentile(resampled, 100 * share))


def _compare(op: str):
    return {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__,
            "==": float.__eq__}[op]


def _finite(x: float) -> float | None:
    return x if np.isfinite(x) else None


def validate(turns: pd.DataFrame, policy: str, comparisons: list[Comparison], seed: int,
             confidence: float = 0.95) -> dict:
    """Verdicts of `policy` on every comparison; overall pass iff every one passes."""
    stats = Bootstrap(turns, policy, seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        results = [verdict(c, evaluate(c.stat, stats), confidence) for c in comparisons]
    return {"policy": policy, "confidence": confidence, "resamples": BOOTSTRAP_SAMPLES,
            "targets": results,
            "verdict": "pass" if all(r["verdict"] == "pass" for r in results) else "fail"}


def verdict_table(report: dict) -> str:
    """The verdicts as a plain-text table with a closing line."""
    rows = report["targets"]
    level = f"{100 * report['confidence']:g}%"
    named = any(r["name"] for r in rows)
    width = max(len(_label(r, named)) for r in rows + [{"name": "", "target": "target"}])
    lines = [f"{'target':<{width}}  {'estimate':>9}  {level + ' bound':>15}  verdict"]
    for r in rows:
        bound = "-" if r["bound"] is None else f"{r['bound_side']} {_fmt(r['bound'])}"
        lines.append(f"{_label(r, named):<{width}}  {_fmt(r['estimate']):>9}  {bound:>15}  "
                     f"{r['verdict']}")
    passed = sum(r["verdict"] == "pass" for r in rows)
    lines.append(f"\n{report['verdict'].upper()}: {passed} of {count(len(rows), 'target')} "
                 f"{'holds' if passed == 1 else 'hold'} with {level} confidence "
                 f"({report['resamples']} bootstrap resamples of episodes)")
    return "\n".join(lines)


def _label(row: dict, named: bool) -> str:
    return f"{row['name'] or '-'}: {row['target']}" if named else row["target"]


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"
