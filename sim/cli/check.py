"""`rtsim check`: run episodes for real and in simulation; compare latencies and speedups."""

from pathlib import Path

import click

from rtsim.analysis.fidelity import check_table, turn_taking_lines
from rtsim.cli.common import (
    backend_options,
    backend_target,
    out_option,
    policies_option,
    printed_warnings,
    set_option,
    split_names,
    user_errors,
)
from rtsim.real.backend.errors import BackendError
from rtsim.real.check import CheckOptions, run_check
from rtsim.real.check_sessions import parse_sessions, run_sessions_check, sessions_table
from rtsim.real.request_figures import kinds_table
from rtsim.text import count


class Incomplete(click.ClickException):
    """Some episodes failed: the results are written but incomplete (exit 3)."""

    exit_code = 3


class OutsideTargets(click.ClickException):
    """The simulation missed its fidelity targets (exit 1)."""

    exit_code = 1


@click.command("check")
@backend_options
@click.option("--scenario", "-s", "base", default="edge-3b", show_default=True,
              help="Scenario to calibrate from (speech, tools, TTS come from it).")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A profile from `rtsim calibrate` instead of calibrating now.")
@click.option("--traces", "-t", default=None, help="Trace set [default: the scenario's].")
@policies_option(help_text="Comma-separated policies.")
@click.option("--episodes", "-n", type=click.IntRange(min=1), default=3, show_default=True,
              help="How many episodes of the trace set (from the first).")
@set_option("Override a scenario value for both runs (repeatable).")
@click.option("--keep-playback", is_flag=True,
              help="Wait out speech output and think time between turns (slower).")
@click.option("--quick-calibration", is_flag=True,
              help="Calibrate with the fewest points, one repeat (a smoke test).")
@click.option("--calls", type=click.Choice(["exact", "forced"]), default="exact",
              show_default=True,
              help="exact: calls are free text of the trace's length; forced: a request "
                   "writing one call forces it to the tool's schema and records whether "
                   "the arguments match the trace's.")
@click.option("--speculation", type=click.Choice(["drawn", "model"]), default="drawn",
              show_default=True,
              help="drawn: a speculative guess is right with the profile's accuracy; model: "
                   "the real model writes each guess (forced) and it is right if it equals "
                   "the model's call on the complete utterance (compare with a probed "
                   "--profile from `rtsim probe`).")
@out_option("runs/check")
@click.option("--resume", is_flag=True, help="Continue the check in --out.")
@click.option("--sessions", default=None, metavar="N[,N...]",
              help="Run N conversations at once on a batching server (-b batching[:N] or "
                   "its URL), for each N given, against the shared-server simulation; -n is "
                   "then episodes per conversation.")
def check_command(backend, model, api_key_env, threads, base, profile, traces, policies,
                  episodes, overrides, keep_playback, quick_calibration, calls, speculation,
                  out, resume, sessions):
    """Run episodes on a real model and in simulation; compare latencies and speedups.

    Exit codes: 0 within the fidelity targets, 1 outside them, 2 bad input, 3 some runs
    failed (the others are kept; --resume measures the failed ones).

    Calibrates the backend (or takes --profile), plays the first episodes of the trace
    set for real under each policy (speech, transcripts, tools and speech output emulated
    in real time from the same draws the simulator uses; the model called for real),
    simulates the same episodes with the calibrated profile, and writes check.json with
    measured and simulated latencies, their errors and the speedups vs sync.

    \b
    Examples:
      rtsim check                                  # the embedded model, about 5 minutes
      rtsim check -b http://127.0.0.1:8000/v1 -n 10 --out runs/vllm-check
      rtsim check --profile runs/probe/profile.yaml --speculation model -p async,speculative
      rtsim report runs/check
    """
    opts = CheckOptions(out=out, target=backend_target(backend, model, api_key_env, threads),
                        scenario=base, profile=profile, traces=traces,
                        policies=tuple(split_names(policies)), episodes=episodes,
                        overrides=tuple(overrides), keep_playback=keep_playback,
                        quick_calibration=quick_calibration, calls=calls,
                        speculation=speculation, resume=resume)
    if sessions is not None:
        _sessions_check(opts, sessions)
        return
    report = _measured(lambda: run_check(opts, click.echo))
    _print(report, out)
    _verdict(report, "run", out)


def _measured(run) -> dict:
    """`run()`, its user errors and a backend's failure as one line each."""
    with user_errors(), printed_warnings():
        try:
            return run()
        except BackendError as exc:
            raise click.ClickException(exc.cli_message()) from None


def _verdict(report: dict, unit: str, out: Path) -> None:
    """The exit of a check: failed `unit`s first, then the fidelity targets."""
    if not report["complete"]:
        raise Incomplete(f"{count(len(report['failures']), unit)} failed (see check.json); "
                         f"rerun with --resume -o {out} to measure them again")
    if not report["fidelity"]["passed"]:
        raise OutsideTargets("the simulation is outside its fidelity targets (see check.json); "
                             "measure on an idle machine, or with more episodes (-n)")


def _sessions_check(opts: CheckOptions, sessions: str) -> None:
    """`--sessions`: the load check, its table, and the exit code of its verdict."""
    report = _measured(lambda: run_sessions_check(opts, parse_sessions(sessions), click.echo))
    click.echo("\n" + sessions_table(report))
    click.echo("\nrequests per kind\n" + kinds_table(report["load"]))
    fid = report["fidelity"]
    if fid["mean_error_max"] is not None:
        click.echo(f"\nworst mean turn-latency error {fid['mean_error_max']:.1%} (target 15%), "
                   f"worst speedup error {fid['speedup_error_max'] or 0:.1%} (target 10%): "
                   f"{'within' if fid['passed'] else 'OUTSIDE'} the targets")
    click.echo(f"wrote {opts.out / 'check.json'}")
    _verdict(report, "episode", opts.out)


def _print(report: dict, out: Path) -> None:
    click.echo("")
    click.echo(check_table(report["policies"]))
    click.echo("")
    for line in turn_taking_lines(report["policies"]):
        click.echo(line)
    fid = report["fidelity"]
    if fid["speedup_error_max"] is not None:
        click.echo(f"\nworst speedup error {fid['speedup_error_max']:.1%} (target 10%), worst "
                   f"MAPE {fid['mape_max']:.1%} (target 15%): "
                   f"{'within' if fid['passed'] else 'OUTSIDE'} the fidelity targets")
    for policy, c in report["call_arguments"].items():
        click.echo(f"{policy}: {c['match']} of {c['forced']} forced calls wrote the trace's "
                   "arguments")
    for policy, g in report["guesses"].items():
        click.echo(f"{policy}: {g['right']} of {g['judged']} guesses the model wrote were "
                   f"right (equal to its call on the complete utterance); "
                   f"{g['discarded']} speculative attempts revised or withdrawn")
    click.echo(f"wrote {out / 'check.json'}")
