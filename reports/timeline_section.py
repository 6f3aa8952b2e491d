"""The timeline figures of one episode: one figure per turn, one panel per event table."""

from pathlib import Path

from rtsim.engine.eventlog import EventRow
from rtsim.engine.metrics import turn_metrics
from rtsim.reports.document import Figure
from rtsim.reports.style import save
from rtsim.reports.timeline_data import turn_timeline, without_empty_lanes
from rtsim.reports.timeline_plot import timeline_figure

MEASURED_NOTE = ("(measured: one bar per request, start to last token; lanes empty in both "
                 "panels left out)")


def timeline_figures(panels: dict[str, list], out: Path, episode: str, heading: str,
                     pairs: dict[str, str] | None = None,
                     first: int | None = None) -> tuple[tuple[Figure, ...], list[Path]]:
    """Draw and save `timeline-turnN` for every turn of the episode; `panels` maps a panel
    name (a policy, or 'policy, measured') to its event rows. `pairs` maps each measured
    panel to its simulated one: measured panels get one bar per request, and lanes empty
    in both panels of a pair are left out. The figure of turn `first` (0-based) leads the
    returned list, the others follow in turn order. Stale turn figures go."""
    pairs = pairs or {}
    turns = sorted({r.turn for rows in panels.values() for r in rows})
    figures, paths = [], []
    for turn in turns:
        timelines = {name: turn_timeline(rows, turn, measured=name in pairs)
                     for name, rows in panels.items()}
        for measured, simulated in pairs.items():
            timelines[measured], timelines[simulated] = without_empty_lanes(
                [timelines[measured], timelines[simulated]])
        latencies = {name: _latencies(rows, turn) for name, rows in panels.items()}
        name = f"timeline-turn{turn + 1}"
        paths += save(timeline_figure(timelines, latencies, turn, episode, heading,
                                      MEASURED_NOTE if pairs else ""), out, name)
        figures.append(Figure(name, f"Episode {episode}, turn {turn + 1}, {heading}"))
    remove_stale(out, {f.name for f in figures})
    if first is not None and first in turns:
        figures.insert(0, figures.pop(turns.index(first)))
    return tuple(figures), paths


def _latencies(rows: list[EventRow], turn: int) -> tuple[float, float]:
    metrics = next(m for m in turn_metrics(rows) if m["turn"] == turn)
    return metrics["turn_latency"], metrics["first_audio_latency"]


def remove_stale(out: Path, keep: set[str] = frozenset()) -> None:
    """Delete timeline figures of an earlier report that this one did not redraw."""
    for path in out.glob("timeline-turn*"):
        if path.suffix in (".png", ".svg") and path.stem not in keep:
            path.unlink()
