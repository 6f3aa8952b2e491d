"""`rtsim calibrate`: measure a real backend and write a scenario profile for `rtsim run`."""

import os
from pathlib import Path

import click

from rtsim.cli.common import backend_options, backend_target, printed_warnings, user_errors
from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic
from rtsim.real import calibrate as measure
from rtsim.real import profile
from rtsim.real.backend.errors import BackendError
from rtsim.real.connect import check_target, require_real_extra
from rtsim.scenario.load import read_scenario_yaml
from rtsim.scenario.schema import parse_scenario


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
                   "[default: edge-3b for embedded, else cloud-realtime].")
@click.option("--quick", is_flag=True, help="Fewer, smaller points, one repeat (a smoke test).")
def calibrate_command(backend, model, api_key_env, threads, out, base_scenario, quick):
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
    """
    with user_errors():
        target = backend_target(backend, model, api_key_env, threads)
        check_target(target)
        _check_out(out)
        base_name = base_scenario or ("edge-3b" if backend == "embedded" else "cloud-realtime")
        base, base_label = read_scenario_yaml(base_name)
        parse_scenario(base, base_label)
        require_real_extra()
        plan = measure.QUICK if quick else measure.Plan()
        try:
            cal = measure.run(target, plan, echo=click.echo)
        except BackendError as exc:
            raise InputError(f"embedded model: {exc.template}" if backend == "embedded"
                             else exc.template) from None
        name = f"{base.get('name', 'custom')}-calibrated"
        write_atomic(out, profile.profile_yaml(cal, base, base_name, name))
    click.echo("\n" + profile.report(cal))
    with printed_warnings():
        measure.warn_low_fits(cal, "calibrate again on an idle machine" + (
            f" and without {option('quick')}, which measures fewer points" if quick else ""))
    click.echo(f"\nwrote {out} (rtsim run -s {out})")
