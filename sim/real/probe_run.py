"""`rtsim probe` as a library call: sample calls, ask the model, write the figures.

The folder it writes:

  requests.json   every answered request (the cache a rerun reuses)
  calls.csv       one row per probed call: its empirical known_at, premature guesses, error
  points.csv      one row per partial transcript of a call: right, valid, confirmed
  probe.json      every figure (overall, per tool, hit curves, commit errors, failures)
  profile.yaml    the scenario with the measured `speculation:` keys, for `rtsim run -s`
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rtsim.errors import InputError, option
from rtsim.files.atomic import writable_folder, write_files
from rtsim.files.results import json_bytes, table_bytes
from rtsim.real.connect import Target, check_target, require_real_extra, run_against
from rtsim.real.probe import RequestCache, probe_calls, requests_of
from rtsim.real.probe_fit import call_record, speculation_section, summarize
from rtsim.real.probe_plan import probed_calls
from rtsim.real.probe_profile import profile_yaml
from rtsim.scenario.load import load_scenario, read_scenario_yaml
from rtsim.scenario.overrides import apply_overrides, run_overrides
from rtsim.text import count
from rtsim.traces.sets import load_trace_set

MAX_TURNS = 10_000


@dataclass(frozen=True)
class ProbeOptions:
    """What a probe asks and where it writes (the flags of `rtsim probe`)."""

    out: Path = Path("runs/probe")
    target: Target = field(default_factory=Target)
    scenario: str = "edge-3b"
    traces: str | None = None
    turns: int = 5
    seed: int | None = None
    overrides: tuple[str, ...] = ()

    def scenario_overrides(self) -> list[str]:
        """The trace set, then the user's overrides (the profile keeps both)."""
        return run_overrides(self.traces) + list(self.overrides)


def prepare(opts: ProbeOptions):
    """Check the options before any work; the scenario, the calls and the left-out count."""
    check_target(opts.target)
    require_real_extra()
    if not 1 <= opts.turns <= MAX_TURNS:
        raise InputError(f"{option('turns')} {opts.turns}: expected 1 to {MAX_TURNS}")
    scenario = load_scenario(opts.scenario, opts.scenario_overrides())
    episodes = load_trace_set(scenario.traces)
    seed = scenario.seed if opts.seed is None else opts.seed
    calls, dependent = probed_calls(scenario, episodes, opts.turns, seed)
    if not calls:
        raise InputError(f"trace set {scenario.traces!r}: no call that depends on no other "
                         "call's result, nothing to probe")
    writable_folder(opts.out)
    return scenario, calls, dependent


def run_probe(opts: ProbeOptions, echo=print, on_request=lambda n: None) -> dict:
    """Probe into `opts.out`; return probe.json's content (BackendError if the backend
    fails as a whole; failed calls are reported in the result instead)."""
    scenario, calls, dependent = prepare(opts)
    cache = RequestCache(opts.out / "requests.json")

    async def work(backend):
        echo(f"probing {count(len(calls), 'call')} of {count(opts.turns, 'turn')} on "
             f"{backend.base_url} (model {backend.model})"
             f" ({count(sum(requests_of(c) for c in calls), 'request')} at most"
             + (f", {len(cache.answers)} cached" if cache.answers else "") + ")")
        return await probe_calls(backend, calls, cache, on_request), backend.base_url, \
            backend.model

    answers, url, model = run_against(opts.target, work, echo)
    if opts.target.local:
        url = f"the {opts.target.backend} server"  # its port changes from run to run
    records = [call_record(a) for a in answers]
    summary = summarize(records)
    section = speculation_section(summary)
    raw = apply_overrides(read_scenario_yaml(opts.scenario)[0], opts.scenario_overrides())
    report = {"backend": url, "model": model, "scenario": scenario.name,
              "traces": scenario.traces, "turns": opts.turns,
              "left_out_dependent_calls": dependent, **summary, "speculation": section,
              "failures": [{"call": r["key"], "error": r["error"]} for r in records
                           if r["error"]],
              "requests": {"sent": cache.sent, "reused": cache.reused}}
    out = opts.out
    write_files({
        out / "calls.csv": table_bytes(_calls_table(records), "csv"),
        out / "points.csv": table_bytes(_points_table(records), "csv"),
        out / "probe.json": json_bytes({**report, "calls": records}),
        out / "profile.yaml": profile_yaml(raw, opts.scenario, section, summary, url, model),
    })
    return report


def _calls_table(records: list[dict]) -> pd.DataFrame:
    cols = ["key", "tool", "words", "known_at", "empirical_known_at", "trace_match",
            "premature", "before", "error"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in records], columns=cols)


def _points_table(records: list[dict]) -> pd.DataFrame:
    cols = ["key", "tool", "words", "known_at", "heard", "right", "valid", "confirmed"]
    rows = [{"key": r["key"], "tool": r["tool"], "words": r["words"],
             "known_at": r["known_at"], **pt}
            for r in records if r["error"] is None for pt in r["points"]]
    return pd.DataFrame(rows, columns=cols)
