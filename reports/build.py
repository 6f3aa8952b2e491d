"""`rtsim report`: build the Markdown and HTML report of a run, sweep or check folder."""

from collections.abc import Callable
from pathlib import Path

from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic
from rtsim.files.inputs import read_json
from rtsim.reports.check_inputs import CheckInput
from rtsim.reports.check_report import check_document
from rtsim.reports.document import render_html, render_markdown
from rtsim.reports.inputs import RunInput, SweepInput, load_input
from rtsim.reports.run_report import run_document
from rtsim.reports.sessions_report import is_sessions_check, sessions_document
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
    sessions = sessions_check(Path(folder))
    if sessions is not None:
        return _write(folder, out, lambda o: sessions_document(sessions, Path(folder), o),
                      on_figure, warn)
    data = load_input(Path(folder))
    if isinstance(data, SweepInput) and (episode is not None or replication is not None):
        raise InputError(f"{option('episode')}/{option('replication')}: only for a run or "
                         f"check folder, {folder} "
                         "is a sweep")
    if isinstance(data, CheckInput) and replication is not None:
        raise InputError(f"{option('replication')}: only for a run folder, {folder} is a check "
                         "(one replication)")
    def document(out):
        if isinstance(data, RunInput):
            return run_document(data, out, episode, replication or 0)
        if isinstance(data, CheckInput):
            return check_document(data, out, episode)
        return sweep_document(data, out)

    return _write(folder, out, document, on_figure, warn)


def sessions_check(folder: Path) -> dict | None:
    """check.json of a load check (`rtsim check --sessions`) in `folder`, else None."""
    path = folder / "check.json"
    if not path.is_file():
        return None
    check = read_json(path)
    return check if is_sessions_check(check) else None


def _write(folder, out, document, on_figure, warn) -> list[Path]:
    out = Path(out) if out is not None else Path(folder) / "report"
    with styled(on_figure):
        title, intro, sections, figures = document(out)
    for section in sections:
        if section.skipped and warn:
            warn(section.skipped)
    write_atomic(out / "report.md", render_markdown(title, intro, sections))
    write_atomic(out / "report.html", render_html(title, intro, sections, out))
    return [out / "report.md", out / "report.html", *figures]
