"""The `rtsim` command line: a thin click layer over the library."""

from pathlib import Path

import click

from reports.table import load_table, summary_table
from sim import __version__
from sim.cli_calibrate import calibrate
from sim.cli_check import check
from sim.cli_report import report
from sim.cli_sweep import sweep
from sim.cli_traces import traces
from sim.cli_validate import validate
from sim.cliutil import split_names, user_errors
from sim.output import write_run
from sim.runner import check_policies, simulate_with_server
from sim.scenario import builtin_scenarios, load_scenario, read_scenario_yaml, scenario_yaml
from sim.summary import load_summary, summarize
from sim.tokens import tokenizer_name
from sim.tracesets import load_trace_set

DEFAULT_SCENARIO = "cloud-realtime"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rtsim")
def main():
    """rtsim: how much do async I/O and speculative tool calling speed up a voice agent?

    \b
    Start with:
      rtsim run                        # built-in scenario and traces, all three policies
      rtsim scenarios list             # what else is built in
      rtsim run -s edge-3b --set tools.default.latency=2.0 --seeds 20
    """


main.add_command(calibrate)
main.add_command(check)
main.add_command(report)
main.add_command(traces)
main.add_command(sweep)
main.add_command(validate)


@main.command()
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
def run(scenario, trace_set, policies, seeds, seed, overrides, out, fmt, events):
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


@main.group()
def scenarios():
    """List and print the built-in scenarios."""


@scenarios.command("list")
def scenarios_list():
    """Built-in scenario names and descriptions."""
    for name in sorted(builtin_scenarios()):
        with user_errors():
            click.echo(f"{name:<16} {load_scenario(name).description}")


@scenarios.command("show")
@click.argument("name")
@click.option("--resolved", is_flag=True, help="Print every value, defaults included.")
def scenarios_show(name, resolved):
    """Print a built-in scenario's YAML (with its source comments), or its resolved values."""
    with user_errors():
        if resolved:
            click.echo(scenario_yaml(load_scenario(name)), nl=False)
        else:
            _, path = read_scenario_yaml(name)
            click.echo(Path(path).read_text(encoding="utf-8"), nl=False)
