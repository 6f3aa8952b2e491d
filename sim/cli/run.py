"""`rtsim run`: simulate the policies on a scenario; print and write latencies and speedups."""

from pathlib import Path

import click

from rtsim.analysis.otel_export import otlp_lines
from rtsim.analysis.summary import run_summary, steady_warning
from rtsim.cli.common import (
    out_option,
    policies_option,
    policy_names,
    progress,
    scenario_options,
    user_errors,
)
from rtsim.cli.executors import executor as run_on
from rtsim.cli.executors import executor_options
from rtsim.engine.runner import POOL_FROM_RUNS, pool_size, run_count, simulate
from rtsim.files.atomic import writable_folder, write_atomic
from rtsim.files.results import write_run
from rtsim.reports.table import load_table, summary_table
from rtsim.scenario.load import load_scenario, scenario_yaml
from rtsim.scenario.overrides import run_overrides
from rtsim.text import count
from rtsim.traces.sets import load_trace_set, pin_traces


@click.command("run")
@scenario_options(set_help="Override a scenario value, e.g. --set model.decode_rate.low=60 "
                           "(repeatable).")
@policies_option()
@out_option("runs/latest")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True, help="Table format.")
@click.option("--events", is_flag=True, help="Also write every simulated event (events.csv).")
@click.option("--otel", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the run as OpenTelemetry spans (OTLP JSON Lines).")
@executor_options(f"Local pool size [default: all cores from {POOL_FROM_RUNS} episode runs, "
                  "else 1]; the results are the same for any number.")
def run_command(scenario, trace_set, seeds, seed, overrides, policies, out, fmt, events, otel,
                executor, workers, scheduler):
    """Simulate the policies on a scenario and print latencies and speedups.

    Writes turns.csv (one row per turn x policy x replication), summary.json and
    config.yaml (the resolved scenario: rerun with `rtsim run -s OUT/config.yaml`).

    \b
    Examples:
      rtsim run
      rtsim run -s edge-3b -p sync,speculative --seeds 30 --out runs/edge
      rtsim run --traces my-logs.jsonl --set endpointing.silence=0.3
      rtsim run -t bfcl-multi_turn_base.jsonl --seeds 10 --workers 2
    """
    with user_errors():
        names = policy_names(policies)
        resolved = pin_traces(load_scenario(scenario, list(overrides)
                                            + run_overrides(trace_set, seeds, seed)))
        writable_folder(out)
        episodes = load_trace_set(resolved.traces)
        runs = run_count(resolved, episodes, names)
        if executor == "local":
            workers = pool_size(runs, workers)
        with run_on(executor, scheduler, workers) as (execute, slots), \
                progress(runs, "episode runs") as step:
            sim = simulate(resolved, episodes, names, keep_events=events or otel is not None,
                           progress=step, execute=execute, workers=slots)
        summary = run_summary(resolved, len(episodes), sim)
        paths = write_run(out, sim.turns, summary, scenario_yaml(resolved), fmt,
                          sim.events if events else None)
        if otel is not None:
            write_atomic(otel, otlp_lines(sim.events, episodes, resolved.name))
            paths.append(otel)
    click.echo(f"scenario {resolved.name} | traces {resolved.traces} "
               f"({_workload(resolved, episodes)}, "
               f"{count(len(sim.turns) // len(names), 'turn')} per policy) | "
               f"seeds {resolved.seeds} from {resolved.seed} | tokens: {summary['tokenizer']}\n")
    click.echo(summary_table(summary))
    if "server" in summary:
        click.echo("\n" + load_table(summary["server"]))
        warning = steady_warning(summary["server"], str(out))
        if warning:
            click.echo(warning, err=True)
    click.echo(f"\nwrote {', '.join(str(p) for p in paths)}")


def _workload(scenario, episodes) -> str:
    """The episodes a run plays: the trace set, or its work list on a shared server."""
    srv = scenario.server
    if not srv.shared:
        return count(len(episodes), "episode")
    load = (f"{srv.arrival_rate:g} arrivals/s" if srv.arrival_rate
            else f"{count(srv.sessions, 'conversation')} at once")
    return f"{count(srv.episodes or len(episodes), 'episode')} from {len(episodes)}, {load}"


