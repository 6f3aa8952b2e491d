"""`rtsim check --sessions 1,2,4`: N conversations at once on a batching server, for real and
on the simulated shared server, per policy and N.

For each N the work list is the shared simulation's (rtsim.engine.shared.work_list): the
trace set cycled to N x `episodes` entries, entry k with the draws of episode index k,
played by a closed population of N conversations (each takes the next entry as soon as
its last one ends). Every (N, policy) measured is written to DIR/sessions/ as it ends, so
`--resume` continues a check. The comparison: measured and simulated mean and p90 turn
latency, speedup vs sync, server tokens/s and mean batch, with relative errors.
"""

import asyncio
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rtsim.engine.draws import realize
from rtsim.engine.eventlog import EventRow
from rtsim.engine.pieces import Run
from rtsim.engine.runner import tables
from rtsim.engine.shared import simulate_shared, work_list
from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic, write_files
from rtsim.files.inputs import read_json, read_text
from rtsim.files.results import json_bytes, table_bytes
from rtsim.policies import POLICIES
from rtsim.real import calibrate as measure
from rtsim.real import calibrate_sessions as sessions_fit
from rtsim.real import profile as profiles
from rtsim.real.check import CheckOptions, prepare
from rtsim.real.connect import run_against
from rtsim.real.driver import EpisodeFailed, new_conversation, play_episode
from rtsim.real.episodes import EPISODE_TIMEOUT
from rtsim.real.loop_lag import LoopLag
from rtsim.real.request_figures import compare_kinds, kind_figures, measured_requests, pair
from rtsim.real.sessions_meter import MeteredBackend, load_figures
from rtsim.scenario.load import load_scenario, read_scenario_yaml
from rtsim.text import count
from rtsim.traces.sets import load_trace_set

MEAN_TOLERANCE = 0.15
SPEEDUP_TOLERANCE = 0.10
FIGURES = ("mean", "p90")
LOAD = ("tokens_per_s", "mean_batch")


def parse_sessions(text: str) -> tuple[int, ...]:
    """"1,2,4" -> (1, 2, 4); InputError naming the option for anything else."""
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise InputError(f"{option('sessions')} {text!r}: expected whole numbers of 1 or more, "
                         "comma-separated, e.g. 1,2,4")
    return tuple(sorted(set(map(int, parts))))


def run_sessions_check(opts: CheckOptions, sessions: tuple[int, ...], echo=print) -> dict:
    """Run the check into `opts.out`; return check.json's content."""
    names = prepare(opts)
    target = sessions_fit.sessions_target(opts.target, max(sessions))

    async def measured(backend):
        profile = await _profile(backend, opts, max(sessions), echo)
        results = {}
        for n in sessions:
            scenario = scenario_at(profile, opts, n)
            episodes = load_trace_set(scenario.traces)
            for name in names:
                results[n, name] = await _measured_run(backend, opts, scenario, episodes,
                                                       name, n, echo)
        return profile, results, backend.base_url, backend.model

    profile, results, url, model = run_against(target, measured, echo)
    return _report(opts, profile, sessions, names, results, url, model)


def scenario_at(profile: Path, opts: CheckOptions, n: int):
    """The profile with n conversations at once, each playing `opts.episodes` episodes,
    all starting together (unless overridden)."""
    return load_scenario(str(profile), ["server.startup=0", *opts.scenario_overrides(),
                                        f"server.sessions={n}",
                                        f"server.episodes={n * opts.episodes}"])


async def _profile(backend, opts: CheckOptions, slots: int, echo) -> Path:
    """profile.yaml in the folder: kept (--resume), copied (--profile) or calibrated."""
    path = opts.out / "profile.yaml"
    if opts.resume:
        return path
    if opts.profile is not None:
        write_atomic(path, read_text(opts.profile))
        return path
    echo(f"calibrating {backend.base_url} (model {backend.model})")
    raw, label = read_scenario_yaml(opts.scenario)
    quick = opts.quick_calibration
    single_plan = measure.sessions_plan(measure.QUICK if quick else measure.CHECK)
    single = await measure.calibrate(backend, single_plan, echo)
    echo(f"calibrating {count(slots, 'concurrent stream')}")
    plan = (sessions_fit.quick_plan if quick else sessions_fit.SessionPlan)(slots)
    server = await sessions_fit.calibrate_sessions(backend, plan, echo)
    text = profiles.profile_yaml(single, raw, label, f"{raw.get('name', opts.scenario)}-check")
    write_atomic(path, sessions_fit.with_server(text, server))
    for line in profiles.fit_lines(single) + sessions_fit.fit_lines(server):
        echo(f"  {line}")
    return path


def record_path(out: Path, n: int, policy: str) -> Path:
    return out / "sessions" / f"N{n:03d}-{policy}.json"


async def _measured_run(backend, opts, scenario, episodes, policy: str, n: int, echo) -> dict:
    """One policy with n conversations at once: read from the folder, or measured now and
    written there."""
    path = record_path(opts.out, n, policy)
    if path.is_file():
        return read_json(path)
    record = await play_population(backend, scenario, episodes, policy, n, opts.forced_calls,
                                   pin=opts.target.slots is not None)
    write_atomic(path, json.dumps(record) + "\n")
    failed = f", {count(len(record['failures']), 'episode')} FAILED" if record["failures"] \
        else ""
    lag = record["client_lag"]
    echo(f"  N={n:<3} {policy:<12} {record['load']['duration']:7.1f} s  "
         f"{count(len(record['units']), 'episode')}{failed}  client loop lag "
         f"{lag['mean_ms']:.1f} ms mean, {lag['p99_ms']:.1f} ms p99")
    return record


async def play_population(backend, scenario, episodes, policy: str, n: int,
                          forced_calls: bool = False, pin: bool = False) -> dict:
    """Play the work list with n conversations at once; each episode's rows (or why it
    failed), and the server's measured load. With `pin`, conversation i keeps llama-server's
    slot i (its prompt cache is its own, as the simulation's prompt cache is). The server
    reads each conversation's first system prompt before the clock starts, and a later
    episode's only when it differs from the one before on that conversation, so no
    conversation's warm-up falls among the others' measured turns (the simulation has
    none)."""
    work = work_list(scenario, episodes)
    todo = iter(work)
    meter = MeteredBackend(backend)
    units, failures = [], []
    held = await _warm(backend, scenario, work[:n], pin)

    async def conversation(i: int) -> None:
        await asyncio.sleep(i * scenario.server.startup / n)
        client = meter.pinned(i) if pin else meter
        for k, unit, episode in todo:
            draws = realize(scenario, episode, k, 0)
            prompt = new_conversation(episode, scenario).prompt()
            try:
                rows = await play_episode(draws, POLICIES[policy], scenario, client,
                                          EPISODE_TIMEOUT, forced_calls,
                                          warm=prompt != held.get(i))
            except EpisodeFailed as exc:
                failures.append({"episode": unit, "error": str(exc)})
                continue
            finally:
                if pin:
                    held[i] = prompt
            units.append([k, unit, [list(r) for r in rows]])

    start = time.perf_counter()
    async with LoopLag() as lag:
        await asyncio.gather(*(conversation(i) for i in range(n)))
    load = load_figures(meter.requests, start, time.perf_counter())
    requests = [[r.slot, r.kind, r.sent - start, None if r.first is None else r.first - start,
                 r.end - start, *r[5:]] for r in meter.requests]
    return {"sessions": n, "policy": policy, "units": sorted(units), "failures": failures,
            "load": load, "client_lag": lag.figures(), "requests": requests}


async def _warm(backend, scenario, first: list, pin: bool) -> dict:
    """Read the system prompt of each conversation's first episode (conversation i plays
    work-list entry i first), one at a time; {conversation: the prompt its slot holds}.
    Without pinned slots the server's cache is shared: every prompt is read, none held."""
    held = {}
    for i, (_, _, episode) in enumerate(first):
        prompt = new_conversation(episode, scenario).prompt()
        await MeteredBackend(backend, [], i if pin else None).prefill(prompt)
        if pin:
            held[i] = prompt
    return held


def _turns(policy: str, played) -> pd.DataFrame:
    return tables([Run(policy, 0, unit, rows) for unit, rows in played], keep_events=False)[0]


def simulated(profile: Path, opts: CheckOptions, n: int, policy: str, units: set):
    """Simulated turns of the measured units, the simulated server's load figures, and its
    requests' figures per kind."""
    scenario = scenario_at(profile, opts, n)
    requests = []
    played, stats = simulate_shared(scenario, load_trace_set(scenario.traces), POLICIES[policy],
                                    0, requests=requests)
    turns = _turns(policy, [(u, rows) for u, rows in played if u in units])
    return turns, {k: stats[k] for k in LOAD}, kind_figures(requests)


def compare_at(real: pd.DataFrame, sim: pd.DataFrame, loads: dict, names: list[str]) -> dict:
    """Per policy at one N: latency figures, speedup vs sync and load, measured and
    simulated, with relative errors (simulated - measured) / measured."""
    out = {}
    for name in names:
        r = real[real.policy == name].turn_latency.to_numpy(float)
        s = sim[sim.policy == name].turn_latency.to_numpy(float)
        if not len(r) or not len(s):
            continue
        entry = {"turns": int(len(r))}
        for key in FIGURES:
            pick = np.mean if key == "mean" else (lambda v: np.percentile(v, 90))
            entry[f"{key}_latency"] = pair(float(pick(r)), float(pick(s)))
        sync_r = real[real.policy == "sync"].turn_latency.sum()
        sync_s = sim[sim.policy == "sync"].turn_latency.sum()
        if sync_r and sync_s:
            entry["speedup_vs_sync"] = pair(float(sync_r / r.sum()), float(sync_s / s.sum()))
        measured, simulated_load = loads[name]
        for key in LOAD:
            entry[key] = pair(float(measured[key]), float(simulated_load[key]))
        out[name] = entry
    return out


def verdict(load: dict) -> dict:
    """Mean turn-latency errors at most 15% and speedup errors within 10%, every N and
    policy."""
    means = [abs(p["mean_latency"]["relative_error"]) for at in load.values()
             for p in at.values()]
    speed = [abs(p["speedup_vs_sync"]["relative_error"]) for at in load.values()
             for name, p in at.items() if name != "sync" and "speedup_vs_sync" in p]
    worst_mean, worst_speed = max(means, default=None), max(speed, default=None)
    return {"mean_error_max": worst_mean, "mean_tolerance": MEAN_TOLERANCE,
            "speedup_error_max": worst_speed, "speedup_tolerance": SPEEDUP_TOLERANCE,
            "passed": worst_mean is not None and worst_mean <= MEAN_TOLERANCE
            and (worst_speed is None or worst_speed <= SPEEDUP_TOLERANCE)}


def _report(opts, profile, sessions, names, results, url, model) -> dict:
    load, real_all, sim_all, failures = {}, [], [], []
    for n in sessions:
        real_parts, sim_parts, loads, kinds = [], [], {}, {}
        for name in names:
            record = results[n, name]
            failures += [{"sessions": n, "policy": name, **f} for f in record["failures"]]
            played = [(u, [EventRow(*row) for row in rows]) for _, u, rows in record["units"]]
            real_parts.append(_turns(name, played))
            sim_turns, sim_load, sim_kinds = simulated(profile, opts, n, name,
                                                       {u for u, _ in played})
            sim_parts.append(sim_turns)
            loads[name] = (record["load"], sim_load)
            kinds[name] = compare_kinds(
                kind_figures(measured_requests(record.get("requests", []))), sim_kinds)
        real, sim = pd.concat(real_parts), pd.concat(sim_parts)
        load[str(n)] = at = compare_at(real, sim, loads, names)
        for name in at:
            at[name]["requests"] = kinds[name]
            if "client_lag" in results[n, name]:
                at[name]["client_loop_lag"] = results[n, name]["client_lag"]
        real_all.append(real.assign(sessions=n))
        sim_all.append(sim.assign(sessions=n))
    report = {"backend": url, "model": model, "scenario": load_scenario(str(profile)).name,
              "sessions": list(sessions), "episodes_per_session": opts.episodes,
              "policies": names, "load": load, "fidelity": verdict(load),
              "failures": failures, "complete": not failures}
    out = opts.out
    write_files({out / "real_turns.csv": table_bytes(pd.concat(real_all), "csv"),
                 out / "sim_turns.csv": table_bytes(pd.concat(sim_all), "csv"),
                 out / "check.json": json_bytes(report)})
    return report


def sessions_table(report: dict) -> str:
    """The table `rtsim check --sessions` prints: measured / simulated (error)."""
    def cell(p: dict, fmt: str) -> str:
        e = p["relative_error"]
        err = "" if e is None else f" ({e:+.0%})"
        return f"{p['measured']:{fmt}}/{p['simulated']:{fmt}}{err}"

    head = (f"{'N':>3} {'policy':<12}{'turns':>6}  {'mean s':<18}{'p90 s':<18}"
            f"{'speedup':<18}{'tokens/s':<20}{'mean batch':<16}")
    lines = [head, "    (measured/simulated (error))"]
    for n, at in report["load"].items():
        for name, p in at.items():
            speed = cell(p["speedup_vs_sync"], ".2f") if "speedup_vs_sync" in p else "-"
            lines.append(f"{n:>3} {name:<12}{p['turns']:>6}  {cell(p['mean_latency'], '.2f'):<18}"
                         f"{cell(p['p90_latency'], '.2f'):<18}{speed:<18}"
                         f"{cell(p['tokens_per_s'], '.1f'):<20}"
                         f"{cell(p['mean_batch'], '.2f'):<16}")
    return "\n".join(lines)

