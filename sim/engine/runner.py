"""Simulating policies over episodes: the one loop every command uses, and its tables.

`episode_runs` plays episodes of one replication under each policy; `tables` turns runs
(simulated or measured) into the tidy per-turn and event tables; `simulate` plays every
policy x replication x episode, in pieces (`tasks`) that any executor of
rtsim.engine.executors can run on any number of workers: each episode's draws are
addressed by its index and replication, so the tables are the same, byte for byte,
however the pieces are spread.
"""

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

import pandas as pd

from rtsim.engine.draws import realize
from rtsim.engine.eventlog import COLUMNS, EventRow
from rtsim.engine.executors import run_here
from rtsim.engine.metrics import TURN_COLUMNS, turn_metrics
from rtsim.engine.shared import simulate_shared, work_list
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.errors import InputError
from rtsim.policies import POLICIES
from rtsim.scenario.schema import Scenario
from rtsim.traces.schema import Episode

KEYS = ("policy", "replication", "episode")
TRACES = "traces"  # the key of the one trace set a simulation's tasks read
POOL_FROM_RUNS = 1000  # episode runs (~3 ms each) worth starting workers for (~1 s)
PIECES_PER_WORKER = 4  # single-user tasks per worker and replication: even loads, little overhead


class Run(NamedTuple):
    """One policy on one episode of one replication: its event rows."""

    policy: str
    replication: int
    episode: str
    rows: list[EventRow]


class Piece(NamedTuple):
    """What one task produced: per-turn rows, event rows (when kept), shared-server
    figures, and how many episode runs it played."""

    turns: list[tuple]
    events: list[tuple]
    load: list[dict]
    runs: int


@dataclass(frozen=True)
class Simulation:
    """What a simulation produced: per-turn metrics, event rows, shared-server figures."""

    turns: pd.DataFrame
    events: pd.DataFrame
    load: pd.DataFrame


Executor = Callable[[list, dict], Iterator[tuple[int, Piece]]]


def known_policies(names: Iterable[str]) -> list[str]:
    """The policy names, validated; their order kept, repeats dropped."""
    names = list(names)
    unknown = [n for n in names if n not in POLICIES]
    if unknown or not names:
        raise InputError(f"unknown policy {', '.join(unknown) or '(none)'} "
                         f"(choose from {', '.join(POLICIES)})")
    return list(dict.fromkeys(names))


def episode_runs(scenario: Scenario, episodes: Iterable[tuple[int, Episode]],
                 policies: list[str], replication: int = 0) -> Iterator[Run]:
    """Each (index in its trace set, episode) under each policy, one conversation at a time."""
    for index, episode in episodes:
        draws = realize(scenario, episode, index, replication)
        for name in policies:
            yield Run(name, replication, episode.id,
                      simulate_episode(draws, POLICIES[name], scenario))


def run_count(scenario: Scenario, episodes: list[Episode], policies: list[str]) -> int:
    """How many episode runs `simulate` plays (the total its `progress` counts to)."""
    played = len(work_list(scenario, episodes)) if scenario.server.shared else len(episodes)
    return scenario.seeds * len(policies) * played


def tables(runs: Iterable[Run], keep_events: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-turn table (KEYS + TURN_COLUMNS) and the event table (KEYS + COLUMNS, empty
    unless `keep_events`) of some runs."""
    turns, events = [], []
    for run in runs:
        run_turns, run_events = _run_rows(run, keep_events)
        turns.extend(run_turns)
        events.extend(run_events)
    return _frames(turns, events)


def _run_rows(run: Run, keep_events: bool) -> tuple[list[tuple], list[tuple]]:
    key = (run.policy, run.replication, run.episode)
    turns = [key + _columns(m) for m in turn_metrics(run.rows)]
    return turns, [key + tuple(row) for row in run.rows] if keep_events else []


def _frames(turns: list[tuple], events: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame(turns, columns=KEYS + TURN_COLUMNS),
            pd.DataFrame(events, columns=KEYS + COLUMNS))


_columns = itemgetter(*TURN_COLUMNS)  # a turn's metrics in column order


def tasks(scenario: Scenario, episodes: list[Episode], policies: list[str], keep_events: bool,
          workers: int = 1) -> list[tuple]:
    """The pieces of a simulation as executor tasks, in the order of the tables' rows: per
    replication, slices of the episodes (single user; about PIECES_PER_WORKER per worker),
    or one task per policy (a shared server plays all its conversations together)."""
    out = []
    for rep in range(scenario.seeds):
        if scenario.server.shared:
            out.extend((play_shared, (scenario, name, rep, keep_events)) for name in policies)
            continue
        size = _slice_size(len(episodes), workers)
        out.extend((play_episodes, (scenario, policies, rep, start,
                                    min(start + size, len(episodes)), keep_events))
                   for start in range(0, len(episodes), size))
    return [(i, fn, TRACES, args) for i, (fn, args) in enumerate(out)]


def _slice_size(episodes: int, workers: int) -> int:
    """Episodes per single-user task: all of them on one worker, else about
    PIECES_PER_WORKER tasks per worker and replication."""
    pieces = 1 if workers <= 1 else workers * PIECES_PER_WORKER
    return max(1, -(-episodes // pieces))


def play_episodes(episodes: list[Episode], scenario: Scenario, policies: list[str],
                  replication: int, start: int, stop: int, keep_events: bool) -> Piece:
    """Episodes start..stop-1 of one replication, each under every policy."""
    turns, events = [], []
    runs = episode_runs(scenario, ((i, episodes[i]) for i in range(start, stop)), policies,
                        replication)
    for run in runs:
        run_turns, run_events = _run_rows(run, keep_events)
        turns.extend(run_turns)
        events.extend(run_events)
    return Piece(turns, events, [], (stop - start) * len(policies))


def play_shared(episodes: list[Episode], scenario: Scenario, policy: str, replication: int,
                keep_events: bool) -> Piece:
    """One policy's replication on the shared server: each episode's rows are reduced to
    its table rows as it ends, so memory grows with the conversations, not the episodes."""
    played, stats = simulate_shared(
        scenario, episodes, POLICIES[policy], replication,
        lambda unit, rows: _run_rows(Run(policy, replication, unit, rows), keep_events))
    turns = [row for run_turns, _ in played for row in run_turns]
    events = [row for _, run_events in played for row in run_events]
    return Piece(turns, events, [{"policy": policy, "replication": replication, **stats}],
                 len(played))


def simulate(scenario: Scenario, episodes: list[Episode], policies: list[str],
             keep_events: bool = False, progress: Callable[[int], None] | None = None,
             execute: Executor = run_here, workers: int = 1) -> Simulation:
    """Simulate every policy over the episodes and the scenario's replications, its pieces
    run by `execute` (default: here, one after another; `workers` sizes the pieces)."""
    todo = tasks(scenario, episodes, policies, keep_events, workers)
    pieces: dict[int, Piece] = {}
    for index, piece in execute(todo, {TRACES: episodes}):
        pieces[index] = piece
        if progress:
            progress(piece.runs)
    ordered = [pieces[i] for i in range(len(todo))]
    turns, events = _frames([r for p in ordered for r in p.turns],
                            [r for p in ordered for r in p.events])
    return Simulation(turns, events, pd.DataFrame([d for p in ordered for d in p.load]))


def pool_size(runs: int, workers: int | None) -> int:
    """Workers for a simulation of `runs` episode runs: `workers` when given, else every
    core when the runs outweigh starting the workers (about a second), else 1."""
    if workers:
        return workers
    return (os.cpu_count() or 1) if runs >= POOL_FROM_RUNS else 1
