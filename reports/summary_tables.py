"""The report's summary tables (a run's summary.json, a sweep's results) as Markdown and HTML."""

import html
import math
from dataclasses import dataclass

import pandas as pd

from rtsim.reports.sweep_data import show_value


@dataclass(frozen=True)
class Table:
    """Column headers and rows of already formatted cells; the first `text_columns` are text."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text_columns: int = 1


def fmt(value, digits: int = 2) -> str:
    """A number with `digits` decimals; '-' for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def fmt_speedup(mean, lo, hi) -> str:
    """'1.25 [1.23, 1.26]', or '-' without a value."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    return f"{mean:.2f} [{fmt(lo)}, {fmt(hi)}]"


def run_table(summary: dict) -> Table:
    """One row per policy of a run's summary.json."""
    header = ("policy", "turns", "turn latency mean (s)", "p50 (s)", "p90 (s)",
              "first audio p50 (s)", "first audio p90 (s)", "speedup vs sync [95% CI]",
              "spec. hit rate", "wasted tokens / turn")
    rows = []
    for policy, p in summary["policies"].items():
        tl, fa = p["turn_latency"], p["first_audio_latency"]
        sp = p.get("speedup_vs_sync") or {"mean": None, "ci95": [None, None]}
        rows.append((policy, str(p["turns"]), fmt(tl["mean"]), fmt(tl["p50"]), fmt(tl["p90"]),
                     fmt(fa["p50"]), fmt(fa["p90"]), fmt_speedup(sp["mean"], *sp["ci95"]),
                     fmt(p["speculation"]["hit_rate"]), fmt(p["wasted_tokens_per_turn"], 1)))
    return Table(header, tuple(rows))


def sweep_table(results: pd.DataFrame, keys: tuple[str, ...]) -> Table:
    """One row per point x trace set x policy of a sweep's results, in table order."""
    header = ("point", *keys, "traces", "policy", "turns", "turn latency mean (s)", "p50 (s)",
              "p90 (s)", "first audio mean (s)", "first audio p90 (s)",
              "speedup vs sync [95% CI]", "spec. hit rate", "wasted tokens / turn")
    rows = []
    for d in results.to_dict("records"):
        rows.append((str(d["point"]), *(show_value(d[k]) for k in keys), d["traces"], d["policy"],
                     str(int(d["turns"])), fmt(d["turn_latency_mean"]),
                     fmt(d["turn_latency_p50"]), fmt(d["turn_latency_p90"]),
                     fmt(d["first_audio_latency_mean"]), fmt(d["first_audio_latency_p90"]),
                     fmt_speedup(d["speedup"], d["speedup_lo"], d["speedup_hi"]),
                     fmt(d["spec_hit_rate"]), fmt(d["wasted_tokens_per_turn"], 1)))
    return Table(header, tuple(rows), text_columns=3 + len(keys))


def markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned)."""
    n = len(table.header)
    align = ["---" if i < table.text_columns else "---:" for i in range(n)]
    lines = [_md_row(table.header), _md_row(align)]
    lines += [_md_row(row) for row in table.rows]
    return "\n".join(lines)


def _md_row(cells) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def html_table(table: Table) -> str:
    """An HTML table (numbers right-aligned via the `num` class) in a box that scrolls when
    the table is wider or taller than it, so the page does not."""
    def cells(row, tag):
        return "".join(
            f"<{tag}{'' if i < table.text_columns else ' class=num'}>{html.escape(str(c))}</{tag}>"
            for i, c in enumerate(row))
    body = "\n".join(f"<tr>{cells(row, 'td')}</tr>" for row in table.rows)
    return (f"<div class=table><table>\n<thead><tr>{cells(table.header, 'th')}</tr></thead>\n"
            f"<tbody>\n{body}\n</tbody>\n</table></div>")
