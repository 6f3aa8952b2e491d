"""Steady-state figures of a shared-server run, from its LoadSeries (rtsim.engine.shared).

The steady state lies between the warm-up and the drain. The drain starts when the last
episode of the work list starts (no new work comes). Up to then, the server's running
totals are cut into equal time bins (at most MAX_BINS, no more than the samples), and each
bin's busy share, mean batch and tokens/s goes through MSER-5
(rtsim.analysis.steady_state). The latest of the three truncations starts the window.
The turns that end before the drain, in the order they end, go through MSER-5 of their own.
"""

import numpy as np

from rtsim.analysis.steady_state import batch_means_ci, mser_truncation, steady_state

MAX_BINS = 500  # time bins of the server's series (100 MSER batches)


def server_bins(times, totals, end: float) -> tuple[np.ndarray, np.ndarray]:
    """(bin edges over [0, end], running totals at the edges), totals interpolated linearly
    between samples."""
    times = np.asarray(times, dtype=float)
    bins = max(1, min(MAX_BINS, int((times <= end).sum())))
    edges = np.linspace(0.0, end, bins + 1)
    columns = np.asarray(totals, dtype=float).T
    return edges, np.stack([np.interp(edges, times, c) for c in columns], axis=1)


def steady_figures(series) -> dict:
    """The steady-state figures of one run: window (`steady_from`, `steady_to`, s), server
    busy share, mean batch and tokens/s (95% half-widths `_ci`), turn latency, batches of
    the intervals, and `steady_too_short` (no steady state: the figures are then those of
    the window found, for what they are worth)."""
    end = series.drain
    if end <= 0 or len(series.times) < 2:
        return _none()
    edges, at = server_bins(series.times, series.totals, end)
    width = edges[1] - edges[0]
    per_bin = np.diff(at, axis=0) / width  # busy share, decoding share, batch, tokens/s
    cuts = [mser_truncation(per_bin[:, i]) for i in (0, 2, 3)]
    start = max(d for d, _ in cuts)
    window = at[-1] - at[start]
    span = end - edges[start]
    busy = batch_means_ci(per_bin[start:, 0])
    tokens = batch_means_ci(per_bin[start:, 3])
    latencies = _turn_latencies(series, end)
    turns = steady_state(latencies)
    return {
        "steady_from": float(edges[start]), "steady_to": float(end),
        "steady_utilization": float(window[0] / span), "steady_utilization_ci": busy[1],
        "steady_mean_batch": float(window[2] / window[1]) if window[1] else 0.0,
        "steady_tokens_per_s": float(window[3] / span), "steady_tokens_per_s_ci": tokens[1],
        "steady_batches": busy[2],
        "steady_turn_latency_mean": turns.mean, "steady_turn_latency_ci": turns.half_width,
        "steady_turns": len(latencies) - turns.start,
        "steady_too_short": any(short for _, short in cuts) or turns.too_short,
    }


def _turn_latencies(series, end: float) -> np.ndarray:
    """Latencies of the turns that end by `end`, in the order they end."""
    ends = np.asarray(series.turn_ends, dtype=float)
    order = np.argsort(ends, kind="stable")
    return np.asarray(series.turn_latencies, dtype=float)[order[ends[order] <= end]]


def _none() -> dict:
    nan = float("nan")
    return {"steady_from": nan, "steady_to": nan, "steady_utilization": nan,
            "steady_utilization_ci": nan, "steady_mean_batch": nan, "steady_tokens_per_s": nan,
            "steady_tokens_per_s_ci": nan, "steady_batches": 0, "steady_turn_latency_mean": nan,
            "steady_turn_latency_ci": nan, "steady_turns": 0, "steady_too_short": True}
