"""Plots of one run: the turn-latency distribution and the speedup vs sync per policy."""

import numpy as np
import pandas as pd

from rtsim.reports.style import figure, policy_color, policy_line

MARKERS = {50: "o", 90: "^"}


def latency_cdf(turns: pd.DataFrame, policies: list[str]):
    """Cumulative share of turns answered within x seconds, per policy, p50/p90 marked."""
    fig, ax = figure(9, 5.2)
    for policy in policies:
        values = np.sort(turns.loc[turns.policy == policy, "turn_latency"].to_numpy(float))
        share = np.arange(1, len(values) + 1) / len(values)
        p50, p90 = np.percentile(values, [50, 90])
        line = policy_line(policy, policies)
        ax.step(values, share, where="post", **line,
                label=f"{policy}  (p50 {p50:.2f} s, p90 {p90:.2f} s)")
        for q, value in ((50, p50), (90, p90)):
            ax.plot(value, q / 100, marker=MARKERS[q], markersize=8, color=line["color"],
                    markeredgecolor="black", linestyle="none", zorder=10)
    for q, marker in MARKERS.items():
        ax.plot([], [], marker=marker, color="white", markeredgecolor="black",
                linestyle="none", label=f"p{q}: {q}% of turns answered by then")
        ax.axhline(q / 100, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_xlabel("turn latency: end of the user's speech to complete answer (s)")
    ax.set_ylabel("share of turns answered (cumulative)")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_title("How long users wait: turn-latency distribution per policy")
    ax.legend(loc="lower right")
    return fig


def speedup_chart(rows: list[tuple[str, float, float, float]], policies: list[str]):
    """Speedup vs sync per policy with its 95% CI; `rows`: (policy, mean, lo, hi)."""
    fig, ax = figure(9, 1.2 + 0.7 * len(rows))
    for i, (policy, mean, lo, hi) in enumerate(rows):
        color = policy_color(policy, policies)
        ax.errorbar(mean, i, xerr=[[mean - lo], [hi - mean]], fmt="o", color=color,
                    markersize=9, capsize=6, elinewidth=2)
        ax.annotate(f"{mean:.2f} [{lo:.2f}, {hi:.2f}]", (hi, i), xytext=(10, 0),
                    textcoords="offset points", va="center")
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    lo = min(r[2] for r in rows)
    hi = max(r[3] for r in rows)
    pad = max(hi - lo, 0.1)
    ax.set_xlim(min(lo, 1.0) - 0.1 * pad, max(hi, 1.0) + 0.45 * pad)
    ax.set_xlabel("speedup vs sync (mean sync turn latency / mean policy turn latency; "
                  ">1 is faster)")
    ax.set_title("Speedup vs sync with 95% confidence interval")
    ax.grid(axis="y", visible=False)
    return fig
