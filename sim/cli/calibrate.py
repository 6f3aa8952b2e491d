"""`rtsim calibrate`: measure a real backend and write a scenario profile for `rtsim run`."""

import os
from pathlib import Path

import click

from rtsim.cli.common import backend_options, backend_target, printed_warnings, user_errors
from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic
from rtsim.real import calibrate as measure
from rtsim.real import calibrate_sessions as sessions_fit
from rtsim.real import profile, span_fits
from rtsim.real.backend.errors import BackendError
from rtsim.real.calibrate_sessions import sessions_target
from rtsim.real.connect import check_target, require_real_extra
from rtsim.real.span_fits import fit_spans
from rtsim.scenario.load import read_scenario_yaml
from rtsim.scenario.schema import parse_scenario
from rtsim.traces.importers.otel_sources import SOURCES


def _check_out(out: Path) -> None:
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a .yaml file path")
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise InputError(f"--out {out}: {parent} is not a folder")
    if parent.exists() and not os.access(parent, os.W_OK):
        raise InputError(f"--out {out}: cannot write in {parent}")


@click.command("calibrate")
@backend_options
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("profile.yaml"),
              show_default=True, help="Scenario profile to write.")
@click.option("--base-scenario", "-s", default=None,
              help="Scenario the profile starts from: built-in name or YAML file "
                   "[default: edge-3b for embedded and batching, else "
                   "cloud-realtime].")
@click.option("--quick", is_flag=True, help="Fewer, smaller points, one repeat (a smoke test).")
@click.option("--sessions", type=click.IntRange(min=1), default=None, metavar="N",
              help="Also measure 1..N concurrent streams on a batching server (-b batching:N "
                   "or its URL) and write the profile's server section (docs/server.md).")
@click.option("--from-traces", "span_files", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fit from OpenTelemetry spans (OTLP JSON) instead of measuring a backend "
                   "(repeatable).")
@click.option("--source", type=click.Choice(SOURCES),
              help="With --from-traces: span conventions [default: detected].")
@click.option("--tool-fit", type=click.Choice(["empirical", "lognormal"]), default="empirical",
              show_default=True, help="With --from-traces: tool latencies in the profile.")
def calibrate_command(backend, model, api_key_env, threads, out, base_scenario, quick,
                      sessions, span_files, source, tool_fit):
    """Measure a backend's overhead, prefill and decode speed; write a scenario profile.

    Times the first token against prompt length (cold: a new prompt; cached: a cached
    prefix plus new text), the time per token against context length, and a tiny request;
    fits the simulator's model by least squares, prints the fit (R^2, residuals) and writes
    the base scenario with the measured network and model values (docs/backends.md).

    \b
    Examples:
      rtsim calibrate                                   # the embedded model, ~2 minutes
      rtsim calibrate -b http://127.0.0.1:8000/v1 -o vllm.yaml
      rtsim run -s profile.yaml
      rtsim calibrate --from-traces spans.jsonl -o prod.yaml   # from production spans
    """
    if span_files:
        _from_traces(list(span_files), source, tool_fit, out, base_scenario)
        return
    with user_errors():
        target = backend_target(backend, model, api_key_env, threads)
        check_target(target)
        if sessions:
            target = sessions_target(target, sessions)
        _check_out(out)
        base_name = base_scenario or ("edge-3b" if target.local else "cloud-realtime")
        base, base_label = read_scenario_yaml(base_name)
        parse_scenario(base, base_label)
        require_real_extra()
        plan = measure.QUICK if quick else measure.Plan()
        if sessions:
            plan = measure.sessions_plan(plan)
        try:
            cal, server = _measured(target, plan, sessions, quick)
        except BackendError as exc:
            raise InputError(f"{backend} model: {exc.template}" if target.local
                             else exc.template) from None
        name = f"{base.get('name', 'custom')}-calibrated"
        text = profile.profile_yaml(cal, base, base_name, name)
        write_atomic(out, sessions_fit.with_server(text, server) if server else text)
    click.echo("\n" + profile.report(cal))
    if server:
        click.echo("\n" + sessions_fit.report(server))
    with printed_warnings():
        measure.warn_low_fits(cal, "calibrate again on an idle machine" + (
            f" and without {option('quick')}, which measures fewer points" if quick else ""))
    click.echo(f"\nwrote {out} (rtsim run -s {out})")


def _measured(target, plan, sessions: int | None, quick: bool):
    """(Calibration, SessionCalibration or None without `sessions`)."""
    if not sessions:
        return measure.run(target, plan, echo=click.echo), None
    splan = (sessions_fit.quick_plan if quick else sessions_fit.SessionPlan)(sessions)
    return sessions_fit.run(target, plan, splan, echo=click.echo)


def _from_traces(paths: list[Path], source, tool_fit: str, out: Path, base_scenario) -> None:
    """Fit tool, model and turn-taking timing from spans; print the fits; write the profile."""
    with user_errors():
        _check_out(out)
        base_name = base_scenario or "cloud-realtime"
        base, base_label = read_scenario_yaml(base_name)
        parse_scenario(base, base_label)
        fits = fit_spans(paths, source)
        write_atomic(out, span_fits.profile_yaml(fits, base, base_name, paths, tool_fit))
    click.echo(f"fits from {fits.source} spans:")
    click.echo("\n".join(span_fits.fit_lines(fits)))
    click.echo(f"\nwrote {out} (rtsim run -s {out})")
