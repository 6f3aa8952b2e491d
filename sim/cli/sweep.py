"""`rtsim sweep`: a parameter grid over a scenario, run locally or on a Dask cluster."""

import contextlib
import math
import shlex
import sys
import time

import click

from rtsim.cli.common import (
    ALL_POLICIES,
    DEFAULT_SCENARIO,
    BadInput,
    out_option,
    policies_option,
    policy_names,
    progress,
    seed_options,
    set_option,
    split_names,
    user_errors,
)
from rtsim.cli.executors import executor as run_on
from rtsim.cli.executors import executor_options
from rtsim.errors import InputError
from rtsim.sweeps.results import point_rows
from rtsim.sweeps.spec import parse_values, read_sweep_file, resolve
from rtsim.sweeps.store import SweepStore, run_sweep
from rtsim.text import count
from rtsim.traces.sets import load_trace_set

CONFIRM_AFTER = 3600  # seconds: a longer sweep asks first (docstring of _first_point)


class Interrupted(click.ClickException):
    """Ctrl-C: the finished points are kept (exit 130, as for SIGINT)."""

    exit_code = 130


def _resume_command() -> str:
    """This command line with --resume."""
    args = [a for a in sys.argv[1:] if a != "--resume"]
    return " ".join(["rtsim", *map(shlex.quote, args), "--resume"])


def _cli_grid(items) -> list[tuple[str, tuple]]:
    grid = []
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--grid {item!r}: expected KEY=V1,V2,... or KEY=START:STOP:STEP")
        grid.append((key.strip(), parse_values(key.strip(), values, "--grid")))
    return grid


@click.command("sweep")
@click.argument("sweep_file", required=False, type=click.Path(dir_okay=False))
@click.option("--grid", "-g", multiple=True, metavar="KEY=VALUES",
              help="A swept key: KEY=V1,V2,... or KEY=START:STOP:STEP (inclusive; repeatable).")
@click.option("--scenario", "-s", default=None,
              help=f"Built-in scenario name or YAML file [default: {DEFAULT_SCENARIO}].")
@click.option("--traces", "-t", default=None,
              help="Comma-separated trace sets (names or files) [default: the scenario's].")
@policies_option(None, "Comma-separated policies [default: sync,preemptive,async,speculative].")
@seed_options("Replications of every episode at every point [default: the scenario's].",
              "Root seed; each point derives its own [default: the scenario's].")
@set_option("Fixed override for every point (repeatable).")
@out_option("runs/sweep")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True, help="Results table format.")
@click.option("--resume", is_flag=True, help="Continue the sweep in --out, skipping done points.")
@executor_options("Local pool size [default: all cores].")
@click.option("--common-seeds", is_flag=True,
              help="Every point plays the same random draws (the root seed), so curves over a "
                   "key differ only by the key: use it for trade-off curves.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (there is none when stderr "
                                                    "is not a terminal).")
@click.option("--yes", "-y", is_flag=True,
              help="Run a sweep estimated at over an hour without asking (without a terminal "
                   "such a sweep needs --yes).")
def sweep_command(sweep_file, grid, scenario, traces, policies, seeds, seed, overrides, out, fmt,
          resume, executor, workers, scheduler, common_seeds, quiet, yes):
    """Simulate every point of a parameter grid under each policy and trace set.

    Keys are the dotted scenario keys of `rtsim scenarios show NAME --resolved`. Each
    point writes points/NNNNN.json as it finishes; results.parquet (one row per point,
    trace set and policy, with the swept keys as columns) is kept up to date. Stop at any
    time and continue with --resume. Plot it with `rtsim report OUT`. The first point runs
    here first, timed: the sweep prints an estimate for the rest, and one estimated at over
    an hour asks before it goes on (without a terminal it needs --yes).

    \b
    Examples:
      rtsim sweep -g tools.default.latency=0.25,0.5,1,2,4 -g turn_detection.silence=0.2:0.8:0.2
      rtsim sweep -g turn_detection.silence=0.2:1.2:0.1 --common-seeds --seeds 10
      rtsim sweep my-sweep.yaml --seeds 20 --out runs/edge-sweep --resume
      rtsim sweep -g model.decode_rate=20:140:40 --executor dask --scheduler tcp://head:8786

    \b
    A sweep file holds the same options:
      scenario: edge-3b
      traces: [assistant]
      seeds: 10
      set: {turn_detection.silence: 0.3}
      grid:
        tools.default.latency: [0.25, 0.5, 1, 2, 4]
        model.decode_rate: "20:140:40"
    """
    with contextlib.ExitStack() as spread:  # the executor, closed when the sweep ends
        with user_errors():
            spec = read_sweep_file(sweep_file) if sweep_file else {"grid": []}
            names = policy_names(policies, spec.get("policies") or split_names(ALL_POLICIES))
            with progress(None, "points checked", quiet) as checked:
                resolved = resolve(scenario or spec.get("scenario") or DEFAULT_SCENARIO,
                                   list(spec.get("set", [])) + list(overrides),
                                   spec["grid"] + _cli_grid(grid), names,
                                   split_names(traces) or list(spec.get("traces") or []),
                                   seeds if seeds is not None else spec.get("seeds"),
                                   seed if seed is not None else spec.get("seed"),
                                   {key: f"{sweep_file}: grid:" for key, _ in spec["grid"]},
                                   checked, common_seeds or bool(spec.get("common_seeds")))
            episodes = {name: load_trace_set(name) for name in resolved.traces}
            execute, slots = spread.enter_context(run_on(executor, scheduler, workers))
            store = SweepStore(out, resolved, fmt)
            if resume:  # a sweep folder already: its finished points count in the estimate
                store.open(resume)
        total, done = len(resolved.points), len(store.done)
        click.echo(f"sweep of {count(total, 'point')} ({count(len(resolved.grid), 'key')} x "
                   f"{count(len(resolved.traces), 'trace set')}) x "
                   f"{count(len(names), 'policy', 'policies')}, "
                   f"{count(resolved.seeds, 'seed')} each"
                   + (f"; {done} done already" if done else ""), err=True)
        if store.damaged:
            click.echo(store.damaged_summary(), err=True)
        first = _first_point(store, episodes, slots, yes)
        with user_errors():
            if not resume:
                store.open(resume)
        if first is not None:
            store.add(*first)
        try:
            with progress(total, "points", quiet) as step:
                step(len(store.done))
                run_sweep(store, execute, episodes, step)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted: {len(store.done)} of {total} points are kept in "
                              f"{out}; continue with: {_resume_command()}") from None
        except InputError as exc:  # a point that cannot be written (a full disk)
            raise BadInput(f"{exc.cli_message()}; {len(store.done)} of {total} points are kept "
                           f"in {out}; continue with: {_resume_command()}") from None
    _warn_short(out, store.results())
    click.echo(f"wrote {out / ('results.' + fmt)} ({len(store.done)} of {count(total, 'point')})")


def _warn_short(out, results) -> None:
    """One line naming the sweep's points too short for a steady state, if any."""
    if "server_steady_too_short" not in results:
        return
    points = sorted(set(results.point[results.server_steady_too_short == 1.0]))
    if points:
        click.echo(f"warning: {out}: too short for a steady state at point(s) "
                   f"{', '.join(points)} (docs/server.md); raise server.episodes", err=True)


def _first_point(store: SweepStore, episodes: dict, slots: int,
                 yes: bool) -> tuple[int, list] | None:
    """Run the first point not done here, timed, and print what the rest will take; a sweep
    estimated at over CONFIRM_AFTER seconds needs a yes (a prompt on a terminal, else
    --yes). The point's (index, rows), None when every point is done."""
    todo = [p for p in store.sweep.points if p.index not in store.done]
    if not todo:
        return None
    start = time.perf_counter()
    rows = point_rows(episodes[todo[0].traces], todo[0].scenario, store.sweep.policies)
    took = time.perf_counter() - start
    rest = len(todo) - 1
    estimate = took * math.ceil(rest / min(slots, rest)) if rest else 0.0
    click.echo(f"the first point took {duration(took)}"
               + (f": about {duration(estimate)} for the other {count(rest, 'point')} on "
                  f"{count(min(slots, rest), 'worker')}" if rest else ""), err=True)
    if estimate > CONFIRM_AFTER and not yes:
        if not _interactive():
            raise BadInput(f"a sweep of about {duration(estimate)}: pass --yes to run it, or "
                           "sweep fewer points")
        click.confirm(f"run a sweep of about {duration(estimate)}?", abort=True, err=True)
    return todo[0].index, rows


def _interactive() -> bool:
    """Whether a prompt can be answered: stdin is a terminal (never in a pipeline)."""
    return sys.stdin.isatty()


def duration(seconds: float) -> str:
    """'0.42 s', '12 s', '3.5 min', '2.1 h', '3.0 days'."""
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
