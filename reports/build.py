"""`rtsim report`: build the Markdown and HTML report of a run, sweep or check folder."""

from collections.abc import Callable
from pathlib import Path

from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic
from rtsim.reports.check_inputs import CheckInput
from rtsim.reports.check_report import check_document
from rtsim.reports.document import render_html, render_markdown
from rtsim.reports.inputs import RunInput, SweepInput, load_input
from rtsim.reports.run_report import run_document
from rtsim.reports.style import styled
from rtsim.reports.sweep_report import sweep_document


def build_report(folder: Path, out: Path | None = None, episode: str | None = None,
                 replication: int | None = None,
                 warn: Callable[[str], None] | None = None,
                 on_figure: Callable[[str], None] | None = None) -> list[Path]:
    """Write report.md, report.html and every figure (PNG and SVG) into `out`
    (default folder/report); return the written paths, documents first. `warn` gets one
    line for each part of the report that could not be drawn, saying why; `on_figure` the
    name of each figure as it is written."""
    data = load_input(Path(folder))
    if isinstance(data, SweepInput) and (episode is not None or replication is not None):
        raise InputError(f"{option('episode')}/{option('replication')}: only for a run or "
                         f"check folder, {folder} "
                         "is a sweep")
    if isinstance(data, CheckInput) and replication is not None:
        raise InputError(f"{option('replication')}: only for a run folder, {folder} is a check "
                         "(one replication)")
    out = Path(out) if out is not None else Path(folder) / "report"
    with styled(on_figure):
        if isinstance(data, RunInput):
            title, intro, sections, figures = run_document(data, out, episode, replication or 0)
        elif isinstance(data, CheckInput):
            title, intro, sections, figures = check_document(data, out, episode)
        else:
            title, intro, sections, figures = sweep_document(data, out)
    for section in sections:
        if section.skipped and warn:
            warn(section.skipped)
    write_atomic(out / "report.md", render_markdown(title, intro, sections))
    write_atomic(out / "report.html", render_html(title, intro, sections, out))
    return [out / "report.md", out / "report.html", *figures]
