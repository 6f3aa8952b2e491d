"""Plots of a sweep: metrics against each swept key, two-key heatmaps, speedup per point."""

import textwrap

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize

from rtsim.reports.load_data import log_axis
from rtsim.reports.style import figure, policy_color, policy_line
from rtsim.reports.sweep_data import (
    axis_label,
    cell_means,
    is_numeric,
    ordered_values,
    point_label,
    short_key,
    show_value,
    value_label,
)

MAX_ROWS = 30  # the per-point chart shows the MAX_ROWS // 2 best and worst points beyond this
TICK_GAP = 0.07  # a 4-character x label needs this share of the axis after the previous one
MAX_FACETS = 5  # an other swept key with more values is averaged, not drawn as panels


def facet_key(results: pd.DataFrame, keys: tuple[str, ...], key: str) -> str | None:
    """The other swept key drawn as one panel per value: the first with at most
    MAX_FACETS values (None: no other key, or all have more values)."""
    return next((k for k in keys if k != key and results[k].nunique() <= MAX_FACETS), None)


def key_figure(results: pd.DataFrame, keys: tuple[str, ...], key: str, policies: list[str]):
    """Speedup (top rows) and p90 turn latency (bottom rows) against `key`: one line per
    policy, one column per value of the facet key, one row pair per trace set; keys neither
    drawn nor faceted are averaged (then without CI)."""
    traces = list(dict.fromkeys(results.traces))
    facet = facet_key(results, keys, key)
    facets = ordered_values(results, facet) if facet else [None]
    averaged = [k for k in keys if k not in (key, facet)]
    fig, axes = figure(max(8.0, 4.3 * len(facets) + 1.5), 4.2 * len(traces) + 1.6,
                       nrows=2 * len(traces), ncols=len(facets), sharex=True, squeeze=False)
    values = ordered_values(results, key)
    for r, trace in enumerate(traces):
        for c, value in enumerate(facets):
            part = results[results.traces == trace]
            part = part if facet is None else part[part[facet] == value]
            top, bottom = axes[2 * r][c], axes[2 * r + 1][c]
            if c:
                top.sharey(axes[2 * r][0])  # speedups compare across panels
            _effect_panel(top, part, key, "speedup", values, policies, not averaged)
            _effect_panel(bottom, part, key, "turn_latency_p90", values, policies, False)
            top.set_title(_panel_title(trace if len(traces) > 1 else None, facet, value, keys))
            top.set_ylabel("speedup vs sync\n(>1 is faster)" if c == 0 else "")
            bottom.set_ylabel("p90 turn latency (s)" if c == 0 else "")
    log = is_numeric(results[key]) and log_axis(values)
    for ax in axes[-1]:
        ax.set_xlabel(axis_label(key) + (", log scale" if log else ""))
        _x_ticks(ax, values, is_numeric(results[key]), log)
    notes = [f"panels: {facet}" if facet else "", f"mean over {', '.join(averaged)}"
             if averaged else "error bars: 95% CI of the speedup"]
    fig.suptitle(f"Speedup and p90 turn latency vs {key}\n"
                 f"({'; '.join(n for n in notes if n)})")
    handles, labels = axes[1][0].get_legend_handles_labels()
    h0, l0 = axes[0][0].get_legend_handles_labels()
    fig.legend(h0[:1] + handles, l0[:1] + labels, loc="outside lower center", handlelength=4,
               ncol=len(handles) + 1, frameon=False)
    return fig


def _panel_title(trace: str | None, facet: str | None, value, keys) -> str:
    where = [f"traces {trace}"] if trace else []
    if facet is not None:
        where.append(value_label(facet, value, keys, " = ", every_unit=True))
    return ", ".join(where)


def _effect_panel(ax, part, key, metric, values, policies, with_ci) -> None:
    """One line per policy of `metric`, averaged over rows that share a value of `key`."""
    x_of = {v: (v if is_numeric(part[key]) else i) for i, v in enumerate(values)}
    if metric == "speedup":
        ax.axhline(1.0, color="black", linestyle="--", linewidth=1,
                   label="speedup 1 = as fast as sync")
    for policy in policies:
        if metric == "speedup" and policy == "sync":
            continue
        rows = part[part.policy == policy]
        means = rows.groupby(key, sort=False)[metric].mean().reindex(values).dropna()
        x = [x_of[v] for v in means.index]
        style = {**policy_line(policy, policies), "label": policy,
                 "marker": "s" if policy == "sync" else "o",
                 "markersize": 8 if policy == "sync" else 6}
        if with_ci:
            ci = rows.groupby(key, sort=False)[["speedup_lo", "speedup_hi"]].mean()
            ci = ci.reindex(means.index)
            ax.errorbar(x, means, yerr=[means - ci.speedup_lo, ci.speedup_hi - means],
                        capsize=5, **style)
        else:
            ax.plot(x, means, **style)


def _x_ticks(ax, values: list, numeric: bool, log: bool) -> None:
    """One tick per swept value; on a numeric axis (log when the values span more than
    LOG_SPAN) a label is left out where it would touch the previous one."""
    if not numeric:
        ax.set_xticks(range(len(values)), [textwrap.fill(str(v), 22) for v in values])
        return
    if log:
        ax.set_xscale("log")
        ax.minorticks_off()
    scale = np.log if log else (lambda v: np.asarray(v, dtype=float))
    at = scale(values)
    span = (at[-1] - at[0]) or 1.0
    labels, last = [], None
    for value, x in zip(values, at, strict=True):
        text = show_value(value)
        if last is None or (x - last) / span >= TICK_GAP * max(1, len(text)) / 4:
            labels.append(text)
            last = x
        else:
            labels.append("")
    ax.set_xticks(values, labels)


def heatmap_figure(results: pd.DataFrame, keys: tuple[str, ...], policies: list[str]):
    """Speedup vs sync over the first two swept keys: one panel per non-sync policy (columns)
    and trace set (rows), averaged over any further keys."""
    x, y = keys[0], keys[1]
    shown = [p for p in policies if p != "sync"]
    traces = list(dict.fromkeys(results.traces))
    xs, ys = ordered_values(results, x), ordered_values(results, y)
    cells = cell_means(results, x, y, "speedup")
    grids = {(t, p): _grid(cells[(cells.traces == t) & (cells.policy == p)], x, y, xs, ys)
             for t in traces for p in shown}
    everything = np.concatenate([g.ravel() for g in grids.values()])
    half = max(0.01, np.nanmax(np.abs(everything - 1.0)))
    norm = Normalize(vmin=1.0 - half, vmax=1.0 + half)
    fig, axes = figure(1.2 + (0.75 * len(xs) + 2.2) * len(shown),
                       1.4 + (0.5 * len(ys) + 1.3) * len(traces),
                       nrows=len(traces), ncols=len(shown), squeeze=False)
    image = None
    for r, trace in enumerate(traces):
        for c, policy in enumerate(shown):
            image = _heat_panel(axes[r][c], grids[(trace, policy)], xs, ys, norm)
            title = policy if len(traces) == 1 else f"{policy}, traces: {trace}"
            axes[r][c].set_title(title)
            axes[r][c].set_xlabel(axis_label(x))
            axes[r][c].set_ylabel(axis_label(y))
    fig.colorbar(image, ax=axes, label="speedup vs sync (>1 is faster)", shrink=0.9)
    others = [k for k in keys if k not in (x, y)]
    note = f"\n(mean over {', '.join(others)})" if others else ""
    fig.suptitle(f"Speedup vs sync over {short_key(x, keys)} and {short_key(y, keys)}{note}")
    return fig


def _grid(cells: pd.DataFrame, x: str, y: str, xs: list, ys: list) -> np.ndarray:
    table = cells.pivot_table(index=y, columns=x, values="speedup", aggfunc="mean", sort=False)
    return table.reindex(index=ys, columns=xs).to_numpy(dtype=float)


def _heat_panel(ax, grid: np.ndarray, xs: list, ys: list, norm):
    image = ax.imshow(grid, cmap="RdBu", norm=norm, aspect="auto", origin="lower")
    annotate = len(xs) <= 12 and len(ys) <= 12
    for (i, j), value in np.ndenumerate(grid):
        if annotate and not np.isnan(value):
            dark = abs(norm(value) - 0.5) > 0.3
            ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                    color="white" if dark else "black", fontsize=10)
    ax.set_xticks(range(len(xs)), [textwrap.fill(show_value(v), 14) for v in xs])
    ax.set_yticks(range(len(ys)), [textwrap.fill(show_value(v), 14) for v in ys])
    ax.grid(False)
    return image


def points_figure(results: pd.DataFrame, keys: tuple[str, ...], policies: list[str]):
    """Speedup vs sync with its 95% CI at every grid point (one row each, one panel per
    trace set); beyond MAX_ROWS points, the MAX_ROWS // 2 points where the last non-sync
    policy gains most and least, ranked."""
    traces = list(dict.fromkeys(results.traces))
    shown = [p for p in policies if p != "sync"]
    labels = [point_label(r, keys) for r in results.to_dict("records")]
    results = results.assign(_label=labels)
    rows_of, note = _chart_rows(results, shown[-1])
    results = results[results._label.isin(rows_of)]
    results = results.assign(_row=[rows_of.index(label) for label in results._label])
    fig, axes = figure(4.5 * len(traces) + 0.08 * max(map(len, rows_of)) + 0.5,
                       2.2 + 0.32 * len(rows_of), ncols=len(traces), sharex=True, sharey=True,
                       squeeze=False)
    offsets = np.linspace(-0.2, 0.2, len(shown)) if len(shown) > 1 else [0.0]
    for col, trace in enumerate(traces):
        ax = axes[0][col]
        ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
        for i in range(0, len(rows_of), 2):
            ax.axhspan(i - 0.5, i + 0.5, color="#f0f0f0", zorder=0)
        if note:
            ax.axhline(MAX_ROWS // 2 - 0.5, color="black", linewidth=1.2)
        for policy, dy in zip(shown, offsets, strict=True):
            rows = results[(results.traces == trace) & (results.policy == policy)]
            ax.errorbar(rows.speedup, rows._row + dy,
                        xerr=[rows.speedup - rows.speedup_lo, rows.speedup_hi - rows.speedup],
                        fmt="o", color=policy_color(policy, policies), capsize=3,
                        label=policy if col == 0 else None)
        ax.set_title(f"traces: {trace}")
        ax.set_xlabel("speedup vs sync (>1 is faster)")
        ax.grid(axis="y", visible=False)
    axes[0][0].set_yticks(range(len(rows_of)), rows_of)
    axes[0][0].set_ylim(len(rows_of) - 0.5, -0.5)
    title = "Speedup vs sync per sweep point, 95% CI (dashed: as fast as sync)"
    fig.suptitle("\n".join(textwrap.fill(t, 72) for t in (title, note) if t))
    fig.legend(loc="outside lower center", ncol=len(shown), frameon=False)
    return fig


def _chart_rows(results: pd.DataFrame, ranked: str) -> tuple[list[str], str]:
    """The point labels the chart shows, top to bottom, and a note when it shows only the
    best and worst MAX_ROWS // 2 by `ranked`'s speedup (mean over trace sets)."""
    labels = list(dict.fromkeys(results._label))
    if len(labels) <= MAX_ROWS:
        return labels, ""
    mean = results[results.policy == ranked].groupby("_label", sort=False).speedup.mean()
    order = mean.reindex(labels).sort_values(ascending=False, kind="stable").index.tolist()
    half = MAX_ROWS // 2
    return (order[:half] + order[-half:],
            f"the {half} of {len(labels)} points where {ranked} gains most (top) and least "
            "(below the line); all are in the table")
