"""Steady state of a simulation output series: initial-transient deletion and batch means.

MSER-5 (White 1997; Hoad, Robinson & Davies 2010): cut the series into batches of BATCH
observations; the truncation d (in batches) minimises the MSER statistic
sum_{i>d} (Z_i - mean(Z_{>d}))^2 / (m - d)^2 over the batch means Z_1..Z_m, searched over
the first half of the batches. The run is too short for a steady state when that minimum
is the last d searched (the statistic still falls at half the series: the warm-up lasts
beyond it), or when there are fewer than 2 x MIN_BATCHES batches in all. The kept
observations give a batch-means 95% interval of their mean: CI_BATCHES (or fewer)
non-overlapping batches and Student's t.
"""

from dataclasses import dataclass

import numpy as np

BATCH = 5  # observations per MSER batch
MIN_BATCHES = 10  # MSER batches a steady state keeps at least
CI_BATCHES = 20  # batches of the batch-means interval
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093)  # Student t 0.975, 1..19 d.o.f.


@dataclass(frozen=True)
class SteadyState:
    """The steady state of one series: the first observation kept, the mean of the kept
    ones with its batch-means 95% half-width and number of batches, and whether the series
    is too short for a steady state (module doc)."""

    start: int
    mean: float
    half_width: float
    batches: int
    too_short: bool


def batch_means(values, size: int) -> np.ndarray:
    """Means of consecutive batches of `size` observations (a partial last batch dropped)."""
    x = np.asarray(values, dtype=float)
    m = len(x) // size
    return x[:m * size].reshape(m, size).mean(axis=1)


def mser(values) -> np.ndarray:
    """The MSER statistic of truncating the first d observations, for d = 0..n-1."""
    z = np.asarray(values, dtype=float)
    z = z - np.median(z) if len(z) else z  # centred: the same statistic, less cancellation
    kept = np.arange(len(z), 0, -1, dtype=float)  # n - d
    s1 = np.cumsum(z[::-1])[::-1]
    s2 = np.cumsum((z * z)[::-1])[::-1]
    return np.maximum(s2 - s1 * s1 / kept, 0.0) / kept ** 2


def mser_truncation(values, batch: int = BATCH) -> tuple[int, bool]:
    """(observations to drop, too short) by MSER-`batch` (module doc)."""
    z = batch_means(values, batch)
    m = len(z)
    if m < 2 * MIN_BATCHES:
        return 0, True
    d = int(np.argmin(mser(z)[:m // 2 + 1]))
    return d * batch, d == m // 2


def batch_means_ci(values, batches: int = CI_BATCHES) -> tuple[float, float, int]:
    """(mean, 95% half-width, batches) of non-overlapping batch means: `batches` equal
    batches, fewer when there are fewer observations; the remainder is dropped from the
    front. NaN half-width with fewer than 2 batches."""
    x = np.asarray(values, dtype=float)
    k = min(batches, len(x))
    if k < 2:
        return (float(x.mean()) if len(x) else float("nan")), float("nan"), k
    size = len(x) // k
    means = batch_means(x[len(x) - k * size:], size)
    half = T975[k - 2] * float(means.std(ddof=1)) / float(np.sqrt(k))
    return float(means.mean()), half, k


def steady_state(values, batch: int = BATCH) -> SteadyState:
    """MSER-`batch` truncation of a series, then the batch-means interval of the rest."""
    start, too_short = mser_truncation(values, batch)
    mean, half, k = batch_means_ci(np.asarray(values, dtype=float)[start:])
    return SteadyState(start, mean, half, k, too_short)
