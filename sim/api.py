"""The Python API: what the commands do, as functions for notebooks and scripts.

Every function raises `rtsim.InputError` (one line naming the file, key or value) on bad
input, as the commands do; docs/api.md walks through an example.
"""

import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rtsim.analysis.summary import run_summary
from rtsim.analysis.targets import parse_target, uses_baseline
from rtsim.analysis.validate import validate as verdicts
from rtsim.engine.executors import run_local
from rtsim.engine.runner import known_policies
from rtsim.engine.runner import simulate as simulate_policies
from rtsim.errors import InputError
from rtsim.files.results import write_run
from rtsim.policies import POLICIES
from rtsim.scenario.load import load_scenario as load_scenario_file
from rtsim.scenario.load import scenario_yaml
from rtsim.scenario.overrides import run_overrides
from rtsim.scenario.schema import Scenario
from rtsim.sweeps.spec import parse_grid, resolve
from rtsim.sweeps.store import SweepStore, run_sweep
from rtsim.traces.schema import Episode, parse_episode
from rtsim.traces.sets import load_trace_set, pin_traces

ALL_POLICIES = tuple(POLICIES)


@dataclass(frozen=True)
class Result:
    """A simulation's tables and its summary (the content of summary.json)."""

    scenario: Scenario
    episodes: tuple[Episode, ...]
    turns: pd.DataFrame
    events: pd.DataFrame
    load: pd.DataFrame
    summary: dict

    def speedups(self) -> pd.DataFrame:
        """Per policy: mean turn latency and the speedup vs sync with its 95% interval."""
        rows = []
        for policy, p in self.summary["policies"].items():
            speed = p.get("speedup_vs_sync") or {"mean": float("nan"), "ci95": [None, None]}
            rows.append({"policy": policy, "turn_latency": p["turn_latency"]["mean"],
                         "speedup": speed["mean"], "ci95_low": speed["ci95"][0],
                         "ci95_high": speed["ci95"][1]})
        return pd.DataFrame(rows).set_index("policy")

    def write(self, out: str | Path, fmt: str = "csv") -> list[Path]:
        """Write turns, summary.json, config.yaml (and events, if kept) as `rtsim run` does."""
        return write_run(Path(out), self.turns, self.summary, scenario_yaml(self.scenario), fmt,
                         None if self.events.empty else self.events)


def load_scenario(name_or_path: str = "cloud-realtime", overrides: Iterable[str] = (), *,
                  traces: str | None = None, seeds: int | None = None,
                  seed: int | None = None) -> Scenario:
    """A built-in scenario (by name) or a YAML file, with `dotted.key=value` overrides;
    `traces`, `seeds` and `seed` override those keys."""
    return load_scenario_file(name_or_path, list(overrides) + run_overrides(traces, seeds, seed))


def load_traces(name_or_path: str) -> list[Episode]:
    """A built-in trace set (by name) or a JSON Lines trace file."""
    return load_trace_set(name_or_path)


def import_traces(source: str, path: str | Path | None = None, **options) -> list[Episode]:
    """Episodes from benchmark data or logs, as `rtsim traces import` reads them.

    `source`: "bfcl" (options: category, limit, root, execute), "openai-messages" (path),
    "questions" (path; option: limit), "otel" (an OTLP JSON path; option: source) or
    "assistant" (the generator; options: episodes, seed). Write them with `rtsim traces
    import ... --out` to keep a file. BFCL records and OTLP spans that cannot be used are
    skipped, with a warning saying how many and why.
    """
    rows = _import_rows(source, path, options)
    return [parse_episode(row, f"{source} episode {row.get('id')!r}") for row in rows]


def _import_rows(source: str, path, options: dict) -> list[dict]:
    if source == "bfcl":
        from rtsim.traces.importers.bfcl import import_bfcl
        imported = import_bfcl(**options)
        if imported.skipped:
            warnings.warn(imported.skipped_summary(), stacklevel=3)
        return imported.episodes
    if source == "assistant":
        from rtsim.traces.generators.assistant import generate
        return generate(options.get("episodes", 36), options.get("seed", 0))
    if path is None:
        raise InputError(f"import_traces({source!r}): give the file's path")
    if source == "openai-messages":
        from rtsim.traces.importers.openai_messages import import_openai_messages
        return import_openai_messages(path, **options)
    if source == "questions":
        from rtsim.traces.importers.questions import import_questions
        return import_questions(path, **options)
    if source == "otel":
        from rtsim.traces.importers.otel import import_otel
        from rtsim.traces.importers.skips import summary
        imported = import_otel([path], options.get("source"))
        if imported.skipped:
            warnings.warn(summary(imported.skipped, imported.spans + len(imported.skipped),
                                  "record"), stacklevel=3)
        return imported.episodes
    raise InputError(f"import_traces: unknown source {source!r} "
                     "(choose from bfcl, openai-messages, questions, otel, assistant)")


def simulate(scenario: Scenario | str = "cloud-realtime",
             episodes: Iterable[Episode] | str | None = None,
             policies: Iterable[str] = ALL_POLICIES, *, events: bool = False) -> Result:
    """Simulate the policies over the episodes (default: the scenario's trace set) and the
    scenario's replications; the per-turn table, the events (when `events`) and the summary.
    """
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    if episodes is None:  # the scenario's own traces: pinned, so Result.write reruns anywhere
        scenario = pin_traces(scenario)
    if episodes is None or isinstance(episodes, str):
        episodes = load_trace_set(episodes or scenario.traces)
    episodes = tuple(episodes)
    names = known_policies(policies)
    sim = simulate_policies(scenario, list(episodes), names, keep_events=events)
    return Result(scenario, episodes, sim.turns, sim.events, sim.load,
                  run_summary(scenario, len(episodes), sim))


def sweep(grid: Mapping[str, Iterable | str], scenario: str = "cloud-realtime", *,
          traces: Iterable[str] = (), policies: Iterable[str] = ALL_POLICIES,
          seeds: int | None = None, seed: int | None = None, overrides: Iterable[str] = (),
          out: str | Path | None = None, resume: bool = False,
          workers: int | None = None) -> pd.DataFrame:
    """Simulate every point of a grid (`{dotted.key: [values] or "start:stop:step"}`) on a
    local process pool; the results table (one row per point x trace set x policy).

    With `out`, the sweep is kept there as `rtsim sweep --out` keeps it (points written as
    they finish; `resume=True` continues it, redoing damaged point files with a warning);
    without, it runs in a temporary folder.
    """
    names = known_policies(policies)
    parsed = parse_grid({k: v if isinstance(v, str) else list(v) for k, v in grid.items()},
                        "sweep")
    spec = resolve(scenario, list(overrides), parsed, names, list(traces), seeds, seed)
    episodes = {name: load_trace_set(name) for name in spec.traces}
    with tempfile.TemporaryDirectory(prefix="rtsim-sweep-") as tmp:
        store = SweepStore(Path(out) if out is not None else Path(tmp), spec, "parquet")
        store.open(resume)
        if store.damaged:
            warnings.warn(store.damaged_summary(), stacklevel=2)
        run_sweep(store, lambda tasks, eps: run_local(tasks, eps, workers), episodes)
        return store.results()


def validate(policy: str, targets: Iterable[str], scenario: Scenario | str = "cloud-realtime",
             episodes: Iterable[Episode] | str | None = None,
             confidence: float = 0.95) -> dict:
    """Whether `policy` meets every target (e.g. "p90(first_audio_latency) < 1.5") at the
    one-sided confidence level over a bootstrap of episodes; the verdict of `rtsim validate`.
    """
    comparisons = [c for t in targets for c in parse_target(t)]
    if not comparisons:
        raise InputError("validate: no targets")
    baseline = ("sync",) * uses_baseline(comparisons)
    result = simulate(scenario, episodes, [policy, *baseline])
    return verdicts(result.turns, policy, comparisons, result.scenario.seed, confidence)


def report(folder: str | Path, out: str | Path | None = None, *, episode: str | None = None,
           replication: int | None = None) -> list[Path]:
    """Write report.md, report.html and their plots for a run, sweep or check folder (into
    `out`, default FOLDER/report); the paths written, documents first. A part that cannot
    be drawn (a timeline whose traces are gone) is left out with a UserWarning saying why."""
    from rtsim.reports.build import build_report

    return build_report(Path(folder), None if out is None else Path(out), episode, replication,
                        warn=warnings.warn)
