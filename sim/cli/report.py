"""`rtsim report`: Markdown and HTML reports with plots for a run, sweep or check folder."""

from pathlib import Path

import click

from rtsim.cli.common import progress, user_errors


@click.command("report")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the report [default: FOLDER/report].")
@click.option("--episode", default=None, metavar="ID",
              help="Episode for the timeline plots (run and check folders) [default: the "
                   "multi-call episode whose speedup is closest to the run's]; a run's "
                   "report shows the turn where the policies differ most first.")
@click.option("--replication", type=click.IntRange(min=0), default=None, metavar="N",
              help="Replication (seed index) of that episode [default: 0].")
def report_command(folder, out, episode, replication):
    """Write report.md, a self-contained report.html and every plot (PNG and SVG).

    FOLDER is a run (`rtsim run --out FOLDER`: summary table, turn-latency CDF,
    speedup vs sync, an episode timeline per policy), a sweep (`rtsim sweep`:
    results table, speedup per point, metrics against each swept key, heatmap;
    load curves when server.sessions or server.arrival_rate is swept) or a check
    (`rtsim check`, found by its check.json: measured vs simulated tables, per-turn
    scatter, CDF overlay, speedups, an episode timeline measured and simulated).
    A run's timeline uses its events.csv when written with --events, else it
    re-simulates that one episode. docs/report.md explains every plot.

    \b
    Examples:
      rtsim run --out runs/latest && rtsim report runs/latest
      rtsim report runs/latest --episode assistant-13-reschedule --replication 1
      rtsim report sweeps/tool-latency --out /tmp/tool-latency-report
      rtsim report runs/check --episode assistant-01-commute
    """
    from rtsim.reports.build import build_report  # matplotlib loads only when a report is made

    skipped = []
    with user_errors(), progress(None, "figures") as step:
        paths = build_report(folder, out, episode, replication, warn=skipped.append,
                             on_figure=lambda _name: step(1))
    for line in skipped:
        click.echo(f"report: {line}", err=True)
    for path in paths:
        click.echo(f"wrote {path}")
