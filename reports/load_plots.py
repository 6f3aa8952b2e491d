"""The load-curve figure: what users wait for, and what the shared server does, against load.

Top row: turn latency (mean solid, p90 dashed) and speedup vs sync (95% interval shaded,
the load where the advantage disappears marked dash-dot). Two rows below: the server's
utilisation, mean batch, queue wait and tokens/s (the first, second and last in steady
state when the results have it), where it saturates marked dotted.
"""

import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter, PercentFormatter

from rtsim.reports.load_data import (
    LOAD_KEYS,
    Markers,
    about_range,
    label_groups,
    log_axis,
    series,
    server_column,
)
from rtsim.reports.style import figure, policy_color
from rtsim.reports.sweep_data import show_value

SERVER_PANELS = (("utilization", "busy (share of time)"),
                 ("mean_batch", "mean decode batch (requests)"),
                 ("mean_queue_wait", "mean wait for a batch slot (s)"),
                 ("tokens_per_s", "tokens generated per second"))
MERGED_COLOR = "#333333"  # a label shared by markers of several policies
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
            _speedup(speed, rows, key, color, marks[policy].advantage)
        for ax, (figure_name, _) in zip(server, SERVER_PANELS, strict=True):
            ax.plot(rows[key], rows[server_column(rows, figure_name)], "o-", color=color,
                    linewidth=wide)
            at = marks[policy].saturation.load
            if at is not None:
                ax.axvline(at, color=color, linestyle=":", linewidth=1.8)
    gone = {p: m.advantage for p, m in marks.items() if m.advantage is not None}
    full = {p: m.saturation.load for p, m in marks.items() if m.saturation.load is not None}
    _labels(speed, gone, loads, log, policies, "{who} gone at {at} " + unit)
    _labels(server[2], full, loads, log, policies, "{who} saturate{s} {at}")  # room on top
    speed.axhline(1.0, color="black", linestyle="--", linewidth=1)
    latency.set(title="What users wait for", ylabel="turn latency (s)")
    latency.set_ylim(bottom=0)
    speed.set(title="Speedup vs sync, with 95% interval", ylabel="speedup vs sync (>1 is faster)")
    for ax, (figure_name, label) in zip(server, SERVER_PANELS, strict=True):
        steady = server_column(results, figure_name).startswith("server_steady_")
        ax.set_title(f"Server: {label}" + (", steady state" if steady else ""))
        ax.set_ylim(bottom=0)
    server[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    server[0].set_ylim(0, 1.05)
    for ax in axes[-1]:
        _load_axis(ax, loads, log, key)
    fig.suptitle(title)
    fig.legend(handles=_legend(policies), loc="outside lower center", ncol=5, frameon=False)
    return fig


def _speedup(ax, rows, key, color, advantage: float | None) -> None:
    lower = rows.speedup_lo.fillna(rows.speedup)
    upper = rows.speedup_hi.fillna(rows.speedup)
    ax.fill_between(rows[key], lower, upper, color=color, alpha=0.25, linewidth=0)
    ax.plot(rows[key], rows.speedup, "o-", color=color, linewidth=2)
    if advantage is not None:
        ax.axvline(advantage, color=color, linestyle="-.", linewidth=1.8)


def _labels(ax, at: dict[str, float], loads: list, log: bool, policies: list[str],
            template: str) -> None:
    """One label per group of nearby marker lines (load_data.label_groups), written upwards
    on a pale box right of the group's last line from the panel's top: in the policy's
    colour, or dark grey naming every policy of a merged group ('sync, async saturate
    ~257\u2013263').
    `template` has {who} (the policies), {at} (the load or range) and {s} (verb ending)."""
    for names, low, high in label_groups(at, loads, log):
        text = template.format(who=", ".join(names), at=about_range(low, high),
                               s="s" if len(names) == 1 else "")
        color = policy_color(names[0], policies) if len(names) == 1 else MERGED_COLOR
        ax.annotate(text, (high, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -4),
                    textcoords="offset points", rotation=90, ha="left", va="top",
                    fontsize=9.5, color=color, fontweight="bold",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "alpha": 0.75,
                          "edgecolor": "none"})


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
