"""`rtsim check` as a library call: calibrate a backend (or take a profile), play episodes
for real under each policy, simulate the same episodes, and compare them.

The folder it writes is described in rtsim.real.check_folder; the comparison in
rtsim.analysis.fidelity; docs/backends.md explains the workflow.
"""

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from rtsim.analysis.fidelity import (
    call_arguments,
    compare,
    fidelity_verdict,
    judged_guesses,
    paired,
)
from rtsim.engine.draws import realize
from rtsim.engine.pieces import Run, episode_runs
from rtsim.engine.runner import known_policies, tables
from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic, write_files
from rtsim.files.inputs import read_text
from rtsim.files.results import json_bytes, table_bytes
from rtsim.real import calibrate as measure
from rtsim.real import profile as profiles
from rtsim.real.check_folder import load_runs, record_measured, save_run
from rtsim.real.connect import Target, check_target, require_real_extra, run_against
from rtsim.real.episodes import run_episodes
from rtsim.real.phases import phase_summary, phases_table
from rtsim.real.probe import RequestCache, reference_calls
from rtsim.real.probe_plan import turn_calls
from rtsim.scenario.load import load_scenario, read_scenario_yaml
from rtsim.scenario.overrides import run_overrides
from rtsim.text import count
from rtsim.traces.sets import load_trace_set

NO_PLAYBACK = ("tts.words_per_minute=1000000", "user.think_time=0")


@dataclass(frozen=True)
class CheckOptions:
    """What a check measures and where it writes (the flags of `rtsim check`)."""

    out: Path = Path("runs/check")
    target: Target = field(default_factory=Target)
    scenario: str = "edge-3b"
    profile: Path | None = None
    traces: str | None = None
    policies: tuple[str, ...] = ("sync", "preemptive", "async", "speculative")
    episodes: int = 3
    overrides: tuple[str, ...] = ()
    keep_playback: bool = False
    quick_calibration: bool = False
    calls: str = "exact"
    speculation: str = "drawn"
    resume: bool = False

    @property
    def forced_calls(self) -> bool:
        """Calls are forced: asked for, or needed to judge the model's guesses."""
        return self.calls == "forced" or self.speculation == "model"

    def scenario_overrides(self) -> list[str]:
        """The overrides both runs use: no playback unless kept, the trace set, the user's."""
        extra = [] if self.keep_playback else list(NO_PLAYBACK)
        return extra + run_overrides(self.traces) + list(self.overrides)


def prepare(opts: CheckOptions) -> list[str]:
    """Check the options and the output folder before any work; the policies to run."""
    names = known_policies(opts.policies)
    check_target(opts.target)
    require_real_extra()
    if opts.calls not in ("exact", "forced"):
        raise InputError(f"{option('calls')} {opts.calls!r}: expected exact or forced")
    if opts.speculation not in ("drawn", "model"):
        raise InputError(f"{option('speculation')} {opts.speculation!r}: expected drawn or "
                         "model")
    out = opts.out
    if out.exists() and not out.is_dir():
        raise InputError(f"{option('out')} {out}: is a file")
    if opts.resume and not (out / "profile.yaml").is_file():
        raise InputError(f"{option('resume')}: {out} holds no earlier check (no profile.yaml)")
    if not opts.resume and out.exists() and any(out.iterdir()):
        raise InputError(f"{option('out')} {out}: holds an earlier check; pass "
                         f"{option('resume')} to continue it, or choose another {option('out')}")
    load_scenario(str(opts.profile) if opts.profile else opts.scenario, opts.scenario_overrides())
    return names


def run_check(opts: CheckOptions, echo=print) -> dict:
    """Run the check into `opts.out`; return check.json's content (BackendError if the
    backend fails as a whole; failed episodes are reported in the result instead)."""
    names = prepare(opts)

    async def measured(backend):
        return await _measure(backend, opts, names, echo)

    scenario, episodes, runs, url, model = run_against(opts.target, measured, echo)
    return _report(opts.out, scenario, episodes, runs, names, url, model, opts.speculation)


async def _measure(backend, opts: CheckOptions, names: list[str], echo):
    out = opts.out
    profile = out / "profile.yaml" if opts.resume else None
    if opts.profile is not None and profile is None:  # kept with the check, so --resume works
        profile = out / "profile.yaml"
        write_atomic(profile, read_text(opts.profile))
    if profile is None:
        echo(f"calibrating {backend.base_url} (model {backend.model})")
        profile = await _calibrated(backend, out, opts.scenario, opts.quick_calibration, echo)
    scenario = load_scenario(str(profile), opts.scenario_overrides())
    episodes = load_trace_set(scenario.traces)[:opts.episodes]
    earlier = [r for r in load_runs(out) if r.rows is not None]
    skip = frozenset((r.policy, r.episode) for r in earlier)

    def done(run):
        with _kept(out):
            save_run(out, run)
        state = f"FAILED: {run.error}" if run.error else \
            count(sum(1 for r in run.rows if r.event == 'turn_end'), 'turn')
        echo(f"  {run.episode:<24} {run.policy:<12} {run.seconds:6.1f} s  {state}")

    echo(f"measuring {count(len(episodes), 'episode')} x {count(len(names), 'policy', 'policies')}"
         f" for real" + (f" ({count(len(skip), 'run')} done already)" if skip else ""))
    references = (await _references(backend, scenario, episodes, out, echo)
                  if opts.speculation == "model" else None)
    runs = earlier + await run_episodes(scenario, list(enumerate(episodes)), names, backend,
                                        done, skip, forced_calls=opts.forced_calls,
                                        references=references)
    return scenario, episodes, runs, backend.base_url, backend.model


async def _references(backend, scenario, episodes, out: Path, echo) -> dict:
    """{episode index: {(turn, call id): the model's call on the complete utterance}} for
    the calls that depend on no other (cached in references.json, as `rtsim probe` does)."""
    calls = {i: [c for t in range(len(ep.turns)) for c in turn_calls(scenario, ep, i, t)[0]]
             for i, ep in enumerate(episodes)}
    echo(f"asking the model for its calls on the complete utterances "
         f"({count(sum(map(len, calls.values())), 'call')})")
    cache = RequestCache(out / "references.json")
    with _kept(out):
        found = await reference_calls(backend, [c for cs in calls.values() for c in cs], cache)
    return {i: {(c.turn, c.call.id): found[c.key] for c in cs if found[c.key] is not None}
            for i, cs in calls.items()}


async def _calibrated(backend, out: Path, base: str, quick: bool, echo) -> Path:
    raw, label = read_scenario_yaml(base)
    cal = await measure.calibrate(backend, measure.QUICK if quick else measure.CHECK, echo)
    path = out / "profile.yaml"
    write_atomic(path, profiles.profile_yaml(cal, raw, label, f"{raw.get('name', base)}-check"))
    for line in profiles.fit_lines(cal):
        echo(f"  {line}")
    measure.warn_low_fits(cal, "check again on an idle machine" + (
        f" and without {option('quick_calibration')}" if quick else "")
        + f", or give {option('profile')} the profile of a full `rtsim calibrate`")
    return path


def _report(out, scenario, episodes, runs, policies, url, model, speculation) -> dict:
    ok = [Run(r.policy, 0, r.episode, r.rows) for r in runs if r.rows is not None]
    failed = [{"policy": r.policy, "episode": r.episode, "error": r.error}
              for r in runs if r.rows is None]
    real_turns, real_events = tables(ok)
    sim_turns, sim_events = tables(episode_runs(scenario, enumerate(episodes), policies))
    phases = phases_table(runs, {i: realize(scenario, e, i, 0) for i, e in enumerate(episodes)},
                          scenario)
    files = {out / f"{name}.csv": table_bytes(df, "csv") for name, df in (
        ("real_turns", real_turns), ("real_events", real_events), ("sim_turns", sim_turns),
        ("sim_events", sim_events), ("real_phases", phases))}
    both = paired(real_turns, sim_turns, policies)
    result = compare(both, policies)
    report = {"backend": url, "model": model, "scenario": scenario.name,
              "traces": scenario.traces, "episodes": [e.id for e in episodes],
              "compared_episodes": sorted(set(both.episode)), "policies": result,
              "call_arguments": call_arguments(real_events), "speculation": speculation,
              "guesses": judged_guesses(real_events), "phases": phase_summary(phases),
              "fidelity": fidelity_verdict(result), "failures": failed, "complete": not failed}
    with _kept(out):
        record_measured(out / "measured.jsonl", scenario, episodes, runs)
        write_files({**files, out / "check.json": json_bytes(report)})
    return report


@contextlib.contextmanager
def _kept(out: Path):
    """A write that fails (a full disk) says that the measured runs are kept, and how to
    continue."""
    try:
        yield
    except InputError as exc:
        raise InputError(f"{exc.template}; the runs measured so far are kept in {out}: free "
                         f"space and continue with {option('resume')}") from None
