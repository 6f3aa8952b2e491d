"""Simulating policies over episodes: the one loop every command uses, and its tables.

`tables` turns runs (simulated or measured; rtsim.engine.pieces plays them) into the tidy
per-turn and event tables; `simulate` plays every policy x replication x episode, in
pieces (`tasks`) that any executor of rtsim.engine.executors can run on any number of
workers: each episode's draws are
addressed by its index and replication, so the tables are the same, byte for byte,
however the pieces are spread.
"""

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pandas as pd

from rtsim.engine.eventlog import COLUMNS
from rtsim.engine.executors import run_here
from rtsim.engine.metrics import TURN_COLUMNS
from rtsim.engine.pieces import KEYS, Piece, Run, play_episodes, play_shared, run_rows
from rtsim.engine.shared import work_list
from rtsim.errors import InputError
from rtsim.policies import POLICIES
from rtsim.scenario.schema import Scenario
from rtsim.traces.schema import Episode

TRACES = "traces"  # the key of the one trace set a simulation's tasks read
POOL_FROM_RUNS = 1000  # episode runs (~3 ms each) worth starting workers for (~1 s)
PIECES_PER_WORKER = 4  # single-user tasks per worker and replication: even loads, little overhead


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


def run_count(scenario: Scenario, episodes: list[Episode], policies: list[str]) -> int:
    """How many episode runs `simulate` plays (the total its `progress` counts to)."""
    played = len(work_list(scenario, episodes)) if scenario.server.shared else len(episodes)
    return scenario.seeds * len(policies) * played


def tables(runs: Iterable[Run], keep_events: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-turn table (KEYS + TURN_COLUMNS) and the event table (KEYS + COLUMNS, empty
    unless `keep_events`) of some runs."""
    turns, events = [], []
    for run in runs:
        run_turns, run_events = run_rows(run, keep_events)
        turns.extend(run_turns)
        events.extend(run_events)
    return _frames(turns, events)


def _frames(turns: list[tuple], events: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame(turns, columns=KEYS + TURN_COLUMNS),
            pd.DataFrame(events, columns=KEYS + COLUMNS))


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
