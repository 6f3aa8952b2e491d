"""The plot of a probe: P(right guess | words heard), relative to the end of speech and to
the trace's known_at."""

from pathlib import Path

from rtsim.reports.style import figure, save, styled
from rtsim.text import count

PANELS = (("curve_end", "words heard minus the utterance's words (0 = whole utterance)"),
          ("curve_known_at", "words heard minus the call's known_at (0 = values all heard)"))


def hit_curve_figure(report: dict):
    """Two panels of hit rate against words heard, with each point's sample size."""
    fig, axes = figure(11, 4.6, ncols=2, sharey=True)
    for ax, (key, label) in zip(axes, PANELS, strict=True):
        points = report[key]
        xs, rates = [p["x"] for p in points], [p["rate"] for p in points]
        ax.plot(xs, rates, color="#d95f02", marker="o", linewidth=2)
        for p in points:
            ax.annotate(str(p["n"]), (p["x"], p["rate"]), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8, color="#555555")
        if key == "curve_known_at" and points:
            ax.axvline(0, color="black", linewidth=1, linestyle=":")
        ax.set(xlabel=label, ylim=(-0.03, 1.1))
    axes[0].set_ylabel("share of guesses equal to the final call")
    calls = report["calls"] - report["failed"]
    fig.suptitle(f"Guesses of {report['model']} from partial transcripts "
                 f"({count(calls, 'call')}, {count(report['partials'], 'partial')}; "
                 "numbers: partials per point)")
    return fig


def write_hit_curve(report: dict, path: Path) -> list[Path]:
    """Render the hit curves to `path` (PNG) and its SVG beside it."""
    with styled():
        return save(hit_curve_figure(report), path.parent, path.stem)
