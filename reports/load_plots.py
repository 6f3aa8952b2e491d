"""The load-curve figure: what users wait for, and what the shared server does, against load.

Top row: turn latency (mean solid, p90 dashed) and speedup vs sync (95% interval shaded,
the load where the advantage disappears marked dash-dot). Two rows below: the server's
utilisation, mean batch, queue wait and tokens/s, where it saturates marked dotted.
"""

import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter, PercentFormatter

from reports.load_data import LOAD_KEYS, Markers, about, log_axis, series
from reports.style import figure, policy_color
from reports.sweep_data import show_value

SERVER_PANELS = (("server_utilization", "busy (share of time)"),
                 ("server_mean_batch", "mean decode batch (requests)"),
                 ("server_mean_queue_wait", "mean wait for a batch slot (s)"),
                 ("server_tokens_per_s", "tokens generated per second"))
MAX_TICKS = 12  # more swept values than this: the axis's own ticks instead of one per value


def load_figure(results: pd.DataFrame, key: str, policies: list[str],
                marks: dict[str, Markers], title: str):
    """The load curves of one series (rows of one trace set and other swept values)."""
    fig, axes = figure(14, 13.5, nrows=3, ncols=2, sharex=True)
    latency, speed, *server = axes.ravel()
    loads = sorted(results[key].unique())
    log, unit = log_axis(loads), LOAD_KEYS[key][1]
    for policy in policies:
        rows, color = series(results, key, policy), policy_color(policy, policies)
        wide = 3.5 if policy == "sync" else 2  # sync shows round lines that match it
        latency.plot(rows[key], rows.turn_latency_mean, "o-", color=color, linewidth=wide)
        latency.plot(rows[key], rows.turn_latency_p90, "^--", color=color, linewidth=wide - 0.5)
        if policy != "sync":
            _speedup(speed, rows, key, color, marks[policy], policy, unit)
        for ax, (column, _) in zip(server, SERVER_PANELS, strict=True):
            ax.plot(rows[key], rows[column], "o-", color=color, linewidth=wide)
            at = marks[policy].saturation.load
            if at is not None:
                ax.axvline(at, color=color, linestyle=":", linewidth=1.8)
                if column == "server_mean_queue_wait":  # the panel with room at the top
                    _vertical_label(ax, at, f"{policy} saturates ~{about(at)}", color)
    speed.axhline(1.0, color="black", linestyle="--", linewidth=1)
    latency.set(title="What users wait for", ylabel="turn latency (s)")
    latency.set_ylim(bottom=0)
    speed.set(title="Speedup vs sync, with 95% interval", ylabel="speedup vs sync (>1 is faster)")
    for ax, (_, label) in zip(server, SERVER_PANELS, strict=True):
        ax.set_title(f"Server: {label}")
        ax.set_ylim(bottom=0)
    server[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    server[0].set_ylim(0, 1.05)
    for ax in axes[-1]:
        _load_axis(ax, loads, log, key)
    fig.suptitle(title)
    fig.legend(handles=_legend(policies), loc="outside lower center", ncol=5, frameon=False)
    return fig


def _speedup(ax, rows, key, color, mark: Markers, policy: str, unit: str) -> None:
    lower = rows.speedup_lo.fillna(rows.speedup)
    upper = rows.speedup_hi.fillna(rows.speedup)
    ax.fill_between(rows[key], lower, upper, color=color, alpha=0.25, linewidth=0)
    ax.plot(rows[key], rows.speedup, "o-", color=color, linewidth=2)
    if mark.advantage is not None:
        ax.axvline(mark.advantage, color=color, linestyle="-.", linewidth=1.8)
        _vertical_label(ax, mark.advantage, f"{policy} gone at ~{about(mark.advantage)} {unit}",
                        color)


def _vertical_label(ax, x: float, text: str, color: str) -> None:
    """`text` written upwards just right of the vertical line at x, from the panel's top."""
    ax.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -4),
                textcoords="offset points", rotation=90, ha="left", va="top", fontsize=9.5,
                color=color, fontweight="bold")


def _load_axis(ax, loads: list, log: bool, key: str) -> None:
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    if len(loads) <= MAX_TICKS:
        ax.set_xticks(loads, [show_value(v) for v in loads])
        ax.minorticks_off()
    ax.set_xlabel(f"{LOAD_KEYS[key][0]} ({key})" + (", log scale" if log else ""))


def _legend(policies: list[str]) -> list:
    handles = [Line2D([], [], color=policy_color(p, policies), linewidth=2.5, label=p)
               for p in policies]
    return handles + [
        Line2D([], [], color="#444444", marker="o", label="mean turn latency"),
        Line2D([], [], color="#444444", marker="^", linestyle="--", label="p90 turn latency"),
        Patch(facecolor="#444444", alpha=0.25, label="95% interval of the speedup"),
        Line2D([], [], color="black", linestyle="--", linewidth=1, label="as fast as sync"),
        Line2D([], [], color="#444444", linestyle="-.",
               label="advantage disappears (interval reaches 1)"),
        Line2D([], [], color="#444444", linestyle=":", label="server saturates"),
    ]
