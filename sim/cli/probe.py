"""`rtsim probe`: measure how early and how well a real model guesses its calls."""

from pathlib import Path

import click

from rtsim.cli.common import (
    backend_options,
    backend_target,
    out_option,
    printed_warnings,
    progress,
    set_option,
    user_errors,
)
from rtsim.real.backend.errors import BackendError
from rtsim.real.probe_run import ProbeOptions, run_probe
from rtsim.reports.probe_plot import write_hit_curve
from rtsim.text import count


class Incomplete(click.ClickException):
    """Some calls failed: the results are written but incomplete (exit 3)."""

    exit_code = 3


@click.command("probe")
@backend_options
@click.option("--scenario", "-s", "base", default="edge-3b", show_default=True,
              help="Scenario for the ASR cadence and speech, and the profile's base.")
@click.option("--traces", "-t", default=None, help="Trace set [default: the scenario's].")
@click.option("--turns", "-n", type=click.IntRange(min=1, max=10_000), default=5,
              show_default=True, help="How many turns with calls to sample.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the sample [default: the scenario's].")
@set_option("Override a scenario value (repeatable); the profile keeps it.")
@out_option("runs/probe")
def probe_command(backend, model, api_key_env, threads, base, traces, turns, seed, overrides,
                  out):
    """Ask a real model for its calls at each partial transcript; fit `speculation:`.

    For each sampled call (those that need no other call's result), the model writes the
    call (forced to its tool) at every partial transcript of the scenario's ASR cadence,
    on the complete utterance (the reference a guess must equal), and at the commit point
    (its guess, then the rest of the words). Writes probe.json, calls.csv, points.csv,
    hit_curve.png and profile.yaml (`rtsim run -s OUT/profile.yaml`). Answers are cached
    in OUT/requests.json: a rerun sends only what is missing.

    Exit codes: 0 done, 2 bad input, 3 some calls failed (the others are kept; a rerun
    asks again only what failed).

    \b
    Examples:
      rtsim probe -n 3                              # the embedded model, a few minutes
      rtsim probe -b http://127.0.0.1:8000/v1 -m my-model -n 40 -o runs/probe-mine
      rtsim run -s runs/probe/profile.yaml -p async,speculative
    """
    opts = ProbeOptions(out=out, target=backend_target(backend, model, api_key_env, threads),
                        scenario=base, traces=traces, turns=turns, seed=seed,
                        overrides=tuple(overrides))
    with user_errors(), printed_warnings(), progress(None, "request") as update:
        try:
            report = run_probe(opts, click.echo, on_request=update)
        except BackendError as exc:
            raise click.ClickException(exc.cli_message()) from None
        write_hit_curve(report, out / "hit_curve.png")
    _print(report, out)
    if report["failures"]:
        for f in report["failures"]:
            click.echo(f"  FAILED {f['call']}: {f['error']}", err=True)
        raise Incomplete(f"{count(len(report['failures']), 'call')} failed (see probe.json); "
                         f"rerun the same command to ask them again")


def _pct(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def _print(report: dict, out: Path) -> None:
    c = report["commit"]
    click.echo(f"\n{'tool':<22}{'calls':>6}{'failed':>7}{'trace':>8}{'early':>8}"
               f"{'words':>7}{'accuracy':>10}{'premature':>10}")
    for name, t in [*report["tools"].items(), ("all", report)]:
        words = "-" if t["words_before_end"] is None else f"{t['words_before_end']:.1f}"
        click.echo(f"{name:<22}{t['calls']:>6}{t['failed']:>7}{_pct(t['trace_match']):>8}"
                   f"{_pct(t['known_early']):>8}{words:>7}{_pct(t['accuracy']):>10}"
                   f"{_pct(t['premature_rate']):>10}")
    click.echo("trace: reference call equals the trace's; early: right before the last word; "
               "words: words before the end it is right from")
    click.echo(f"commit point: {c['confirmed']} of {c['wrong']} wrong guesses confirmed "
               f"(confirm_error {_pct(c['confirm_error'])}), {c['revised']} of {c['right']} "
               f"right ones revised (revise_error {_pct(c['revise_error'])})")
    req = report["requests"]
    click.echo(f"{req['sent']} requests sent, {req['reused']} reused from the cache")
    click.echo(f"wrote {out / 'probe.json'}, {out / 'hit_curve.png'} and {out / 'profile.yaml'}"
               f" (rtsim run -s {out / 'profile.yaml'})")
