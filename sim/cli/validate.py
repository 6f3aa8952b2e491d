"""`rtsim validate`: does a policy meet its latency targets with confidence? Exit 0, 1 or 2."""

from pathlib import Path

import click

from rtsim.analysis.targets import Comparison, parse_target, uses_baseline
from rtsim.analysis.validate import validate as validate_turns
from rtsim.analysis.validate import verdict_table
from rtsim.cli.common import policy_names, progress, scenario_options, user_errors
from rtsim.engine.runner import run_count, simulate
from rtsim.errors import InputError
from rtsim.files.atomic import write_atomic
from rtsim.files.inputs import read_yaml
from rtsim.files.results import json_bytes
from rtsim.policies import POLICIES
from rtsim.scenario.load import builtin_scenarios, load_scenario
from rtsim.scenario.overrides import run_overrides
from rtsim.text import count
from rtsim.traces.sets import load_trace_set

EXIT_FAIL = 1


def default_targets_path(scenario: str) -> Path:
    """`<stem>.targets.yaml` next to the scenario file (built-in: in the scenarios package)."""
    path = builtin_scenarios().get(scenario) or Path(scenario)
    return path.with_name(f"{path.stem}.targets.yaml")


def read_targets_file(path: Path) -> list[Comparison]:
    """The comparisons of a targets file: `targets:` a list of strings or {name, target}."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping with the key `targets`")
    unknown = sorted(set(raw) - {"targets"}, key=str)
    if unknown:
        raise InputError(f"{path}: {unknown[0]}: unknown key (expected only `targets`)")
    entries = raw.get("targets")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: targets: must be a non-empty list")
    return [c for i, entry in enumerate(entries) for c in _entry(entry, f"{path}: targets[{i}]")]


def _entry(entry, where: str) -> list[Comparison]:
    if isinstance(entry, str):
        return parse_target(entry, where=f"{where}: ")
    if not isinstance(entry, dict) or not isinstance(entry.get("target"), str) or not set(
            entry) <= {"name", "target"} or not isinstance(entry.get("name", ""), str):
        raise InputError(f"{where}: must be a target line or a mapping with a string "
                         f"`target` and an optional string `name`")
    return parse_target(entry["target"], entry.get("name"), f"{where}: ")


def collect_targets(scenario: str, lines: tuple[str, ...],
                    files: tuple[Path, ...]) -> list[Comparison]:
    """Targets from --target lines and --targets files, else from the scenario's own file."""
    comparisons = [c for text in lines for c in parse_target(text, where="--target: ")]
    comparisons += [c for path in files for c in read_targets_file(path)]
    if lines or files:
        return comparisons
    path = default_targets_path(scenario)
    if not path.is_file():
        raise InputError("no targets: give --target EXPR or --targets FILE (a YAML file "
                         f"with a `targets:` list; docs/targets.md); none found at {path}")
    return read_targets_file(path)


def _write(path: str, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise InputError(f"--json {path}: cannot write ({exc.__class__.__name__})") from None


@click.command("validate")
@click.option("--policy", "-p", required=True, type=click.Choice(list(POLICIES)),
              help="The policy to validate.")
@scenario_options(seed_help="Root seed [default: the scenario's]; also seeds the bootstrap.")
@click.option("--target", "lines", multiple=True, metavar="EXPR",
              help='A target, e.g. "p90(first_audio_latency) < 1.0" (repeatable).')
@click.option("--targets", "files", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A YAML file of targets [default without --target: "
                   "<scenario>.targets.yaml next to the scenario].")
@click.option("--confidence", type=click.FloatRange(0.5, 1.0, max_open=True), default=0.95,
              show_default=True, help="One-sided confidence a target must hold with.")
@click.option("--json", "json_out", metavar="PATH|-", default=None,
              help="Also write the verdict as JSON to PATH, or to stdout with '-' "
                   "(the table then goes to stderr).")
@click.pass_context
def validate_command(ctx, policy, scenario, trace_set, seeds, seed, overrides, lines, files,
             confidence, json_out):
    """Check that a policy meets latency targets with confidence; exit 0 pass, 1 fail, 2 bad input.

    A target passes when it holds at the one-sided confidence level over a bootstrap of
    episodes (docs/targets.md); `unsure` (the estimate meets it, the bound does not)
    counts as failing.

    \b
    Examples:
      rtsim validate -p speculative --target "speedup_vs_sync >= 1.2"
      rtsim validate -p speculative -s edge-3b --target "p90(first_audio_latency) < 1.5" \\
          --target "wasted_tokens_per_turn <= 200" --json verdict.json
      rtsim validate -p async --targets gate.yaml && deploy
    """
    with user_errors():
        resolved = load_scenario(scenario, list(overrides) + run_overrides(trace_set, seeds, seed))
        comparisons = collect_targets(scenario, lines, files)
        episodes = load_trace_set(resolved.traces)
        names = policy_names(",".join([policy] + ["sync"] * uses_baseline(comparisons)),
                             option="--policy")
        with progress(run_count(resolved, episodes, names), "episode runs") as step:
            turns = simulate(resolved, episodes, names, progress=step).turns
        report = {"scenario": resolved.name, "traces": resolved.traces,
                  "episodes": len(episodes), "seed": resolved.seed, "seeds": resolved.seeds,
                  **validate_turns(turns, policy, comparisons, resolved.seed, confidence)}
        text = json_bytes(report).decode("utf-8")
        if json_out not in (None, "-"):
            _write(json_out, text)
    to_stderr = json_out == "-"
    played = count(int((turns.policy == policy).sum()), "turn")
    click.echo(f"validate {policy} | scenario {resolved.name} | traces {resolved.traces} "
               f"({count(len(episodes), 'episode')}, {played}) | "
               f"seeds {resolved.seeds} from {resolved.seed}\n", err=to_stderr)
    click.echo(verdict_table(report), err=to_stderr)
    if to_stderr:
        click.echo(text, nl=False)
    elif json_out:
        click.echo(f"\nwrote {json_out}")
    if report["verdict"] != "pass":
        ctx.exit(EXIT_FAIL)
