"""Plots of a check: simulated against measured turn latency, distributions and speedups."""

import numpy as np
import pandas as pd
from matplotlib.ticker import NullLocator

from rtsim.reports.style import figure, policy_color
from rtsim.text import count

LOG_TICKS = (0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000)


def scatter_figure(both: pd.DataFrame, policies: list[str], band: float):
    """One dot per turn (measured x, simulated y), the y = x line and a +-`band` region;
    log axes when the latencies span more than 10x."""
    fig, ax = figure(7.5, 7.2)
    values = np.r_[both.turn_latency_real.to_numpy(float), both.turn_latency_sim.to_numpy(float)]
    log = values.min() > 0 and values.max() / values.min() > 10
    low, top = (values.min() / 1.25, values.max() * 1.25) if log else (0.0, 1.06 * values.max())
    line = np.geomspace(low, top, 50) if log else np.array([low, top])
    ax.fill_between(line, line * (1 - band), line * (1 + band), color="#2ca02c", alpha=0.12,
                    linewidth=0, label=f"within \u00b1{band:.0%}")
    ax.plot(line, line, color="black", linewidth=1, label="simulated = measured")
    for policy in policies:
        rows = both[both.policy == policy]
        inside = np.abs(rows.turn_latency_sim / rows.turn_latency_real - 1) <= band
        ax.scatter(rows.turn_latency_real, rows.turn_latency_sim, s=46, alpha=0.85,
                   color=policy_color(policy, policies), edgecolor="white", linewidth=0.6,
                   label=f"{policy} ({int(inside.sum())} of {count(len(rows), 'turn')} within)")
    if log:
        ax.set(xscale="log", yscale="log")
        ticks = [t for t in LOG_TICKS if low <= t <= top]
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_ticks(ticks, [f"{t:g}" for t in ticks])
            axis.set_minor_locator(NullLocator())
    scale = ", log scale" if log else ""
    ax.set(xlim=(low, top), ylim=(low, top), aspect="equal",
           xlabel=f"measured turn latency (s{scale})", ylabel=f"simulated turn latency (s{scale})",
           title="Simulated vs measured turn latency, one dot per turn")
    ax.legend(loc="upper left")
    return fig


def cdf_figure(both: pd.DataFrame, policies: list[str]):
    """Share of turns answered within x seconds: measured solid, simulated dashed."""
    fig, ax = figure(9, 5.2)
    for policy in policies:
        rows = both[both.policy == policy]
        color = policy_color(policy, policies)
        for column, style, side in (("turn_latency_real", "-", "measured"),
                                    ("turn_latency_sim", "--", "simulated")):
            values = np.sort(rows[column].to_numpy(float))
            share = np.arange(1, len(values) + 1) / len(values)
            ax.step(np.r_[0.0, values], np.r_[0.0, share], where="post", color=color,
                    linestyle=style, linewidth=2, label=f"{policy}, {side}")
    ax.set(xlabel="turn latency: end of the user's speech to complete answer (s)",
           ylabel="share of turns answered (cumulative)", ylim=(0, 1.02),
           title="Turn-latency distribution: measured (solid) vs simulated (dashed)")
    ax.set_xlim(left=0)
    ax.legend(loc="lower right", ncol=max(1, len(policies) // 2))
    return fig


def speedup_figure(entries: dict, policies: list[str], tolerance: float):
    """Measured and simulated speedup vs sync per policy; the bracket on the simulated bar
    is the measured speedup +-`tolerance`, where the simulated one should land."""
    shown = [p for p in policies if p != "sync" and entries[p].get("speedup_vs_sync")]
    fig, ax = figure(max(6.0, 2.4 * len(shown) + 2.5), 5.2)
    x = np.arange(len(shown))
    for i, policy in enumerate(shown):
        sp, color = entries[policy]["speedup_vs_sync"], policy_color(policy, policies)
        measured, simulated = sp["measured"], sp["simulated"]
        ax.bar(i - 0.19, measured, 0.36, color=color, edgecolor="black", linewidth=0.6)
        ax.bar(i + 0.19, simulated, 0.36, color="white", edgecolor=color, hatch="//",
               linewidth=1.5)
        ax.errorbar(i + 0.19, measured, yerr=tolerance * measured, color="black", capsize=8,
                    elinewidth=1.2, capthick=1.2)
        for dx, value in ((-0.19, measured), (0.19, simulated)):
            ax.annotate(f"{value:.2f}", (i + dx, value), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom")
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set_xticks(x, [f"{p}\nsimulation error "
                      f"{entries[p]['speedup_vs_sync']['relative_error']:+.0%}" for p in shown])
    ax.set_xlim(-0.7, len(shown) - 0.3)
    ax.set_ylabel("speedup vs sync (>1 is faster)")
    ax.set_title("Speedup vs sync: measured (solid) vs simulated (hatched)")
    ax.grid(axis="x", visible=False)
    ax.errorbar([], [], yerr=[], color="black", capsize=6,
                label=f"measured \u00b1{tolerance:.0%}: where the simulated bar should end")
    ax.plot([], [], color="black", linestyle="--", linewidth=1, label="as fast as sync")
    fig.legend(loc="outside lower center", ncol=2, frameon=False)
    return fig
