"""The timeline figures of one episode: one figure per turn, one panel per event table."""

from pathlib import Path

from reports.document import Figure
from reports.style import save
from reports.timeline_data import turn_timeline
from reports.timeline_plot import timeline_figure
from sim.metrics import turn_metrics


def timeline_figures(panels: dict[str, list], out: Path, episode: str,
                     heading: str) -> tuple[tuple[Figure, ...], list[Path]]:
    """Draw and save `timeline-turnN` for every turn of the episode; `panels` maps a panel
    name (a policy, or 'policy, measured') to its event rows. Stale turn figures go."""
    turns = sorted({r[1] for rows in panels.values() for r in rows})
    figures, paths = [], []
    for turn in turns:
        timelines = {name: turn_timeline(rows, turn) for name, rows in panels.items()}
        latencies = {name: _latencies(rows, turn) for name, rows in panels.items()}
        name = f"timeline-turn{turn + 1}"
        paths += save(timeline_figure(timelines, latencies, turn, episode, heading), out, name)
        figures.append(Figure(name, f"Episode {episode}, turn {turn + 1}, {heading}"))
    _remove_stale(out, {f.name for f in figures})
    return tuple(figures), paths


def _latencies(rows: list[tuple], turn: int) -> tuple[float, float]:
    metrics = next(m for m in turn_metrics(rows) if m["turn"] == turn)
    return metrics["turn_latency"], metrics["first_audio_latency"]


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Delete timeline figures of an earlier report that this one did not redraw."""
    for path in out.glob("timeline-turn*"):
        if path.suffix in (".png", ".svg") and path.stem not in keep:
            path.unlink()
