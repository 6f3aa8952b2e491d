"""`rtsim run`: simulate the policies on a scenario; print and write latencies and speedups."""

from pathlib import Path

import click

from rtsim.analysis.summary import load_summary, summarize
from rtsim.cli.common import split_names, user_errors
from rtsim.engine.runner import check_policies, simulate_with_server
from rtsim.files.results import write_run
from rtsim.reports.table import load_table, summary_table
from rtsim.scenario.schema import load_scenario, scenario_yaml
from rtsim.traces.sets import load_trace_set
from rtsim.traces.tokens import tokenizer_name

DEFAULT_SCENARIO = "cloud-realtime"


@click.command("run")
@click.option("--scenario", "-s", default=DEFAULT_SCENARIO, show_default=True,
              help="Built-in scenario name or a YAML file.")
@click.option("--traces", "-t", "trace_set", default=None,
              help="Built-in trace set name or a JSONL file [default: the scenario's].")
@click.option("--policies", "-p", default="sync,async,speculative", show_default=True,
              help="Comma-separated: sync, async, speculative.")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Replications of every episode [default: the scenario's].")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Root seed [default: the scenario's].")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a scenario value, e.g. --set model.decode_rate.low=60 (repeatable).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              default=Path("runs/latest"), show_default=True, help="Folder for the results.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True, help="Table format (parquet needs pyarrow).")
@click.option("--events", is_flag=True, help="Also write every simulated event (events.csv).")
def run_command(scenario, trace_set, policies, seeds, seed, overrides, out, fmt, events):
    """Simulate the policies on a scenario and print latencies and speedups.

    Writes turns.csv (one row per turn x policy x replication), summary.json and
    config.yaml (the resolved scenario: rerun with `rtsim run -s OUT/config.yaml`).

    \b
    Examples:
      rtsim run
      rtsim run -s edge-3b -p sync,speculative --seeds 30 --out runs/edge
      rtsim run --traces my-logs.jsonl --set endpointing.silence=0.3
    """
    extra = [f"traces={trace_set}"] * bool(trace_set)
    extra += [f"seeds={seeds}"] * (seeds is not None) + [f"seed={seed}"] * (seed is not None)
    with user_errors():
        names = check_policies(split_names(policies))
        resolved = load_scenario(scenario, list(overrides) + extra)
        episodes = load_trace_set(resolved.traces)
        turns, event_table, load = simulate_with_server(resolved, episodes, names,
                                                        keep_events=events)
        summary = {"scenario": resolved.name, "traces": resolved.traces,
                   "episodes": len(episodes), "tokenizer": tokenizer_name(),
                   "seed": resolved.seed, "seeds": resolved.seeds,
                   "policies": summarize(turns, resolved.seed)}
        if not load.empty:
            summary["server"] = load_summary(load)
        paths = write_run(out, turns, summary, scenario_yaml(resolved), fmt,
                          event_table if events else None)
    click.echo(f"scenario {resolved.name} | traces {resolved.traces} "
               f"({_workload(resolved, episodes)}, {len(turns) // len(names)} turns per "
               f"policy) | seeds {resolved.seeds} from {resolved.seed} | tokens: "
               f"{summary['tokenizer']}\n")
    click.echo(summary_table(summary))
    if "server" in summary:
        click.echo("\n" + load_table(summary["server"]))
    click.echo(f"\nwrote {', '.join(str(p) for p in paths)}")


def _workload(scenario, episodes) -> str:
    """The episodes a run plays: the trace set, or its work list on a shared server."""
    srv = scenario.server
    if not srv.shared:
        return f"{len(episodes)} episodes"
    load = (f"{srv.arrival_rate:g} arrivals/s" if srv.arrival_rate
            else f"{srv.sessions} conversations at once")
    return f"{srv.episodes or len(episodes)} episodes from {len(episodes)}, {load}"


