"""Simulating policies over episodes: the one loop every command uses, and its tables.

`episode_runs` plays episodes of one replication under each policy; `simulate_runs` adds
the scenario's replications and the shared server; `tables` turns runs (simulated or
measured) into the tidy per-turn and event tables; `simulate` does all three.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

import pandas as pd

from rtsim.engine.draws import realize
from rtsim.engine.eventlog import COLUMNS, EventRow
from rtsim.engine.metrics import TURN_COLUMNS, turn_metrics
from rtsim.engine.shared import simulate_shared, work_list
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.errors import InputError
from rtsim.policies import POLICIES
from rtsim.scenario.schema import Scenario
from rtsim.traces.schema import Episode

KEYS = ("policy", "replication", "episode")


class Run(NamedTuple):
    """One policy on one episode of one replication: its event rows."""

    policy: str
    replication: int
    episode: str
    rows: list[EventRow]


@dataclass(frozen=True)
class Simulation:
    """What a simulation produced: per-turn metrics, event rows, shared-server figures."""

    turns: pd.DataFrame
    events: pd.DataFrame
    load: pd.DataFrame


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


def simulate_runs(scenario: Scenario, episodes: list[Episode], policies: list[str],
                  progress: Callable[[int], None] | None = None,
                  on_load: Callable[[dict], None] | None = None) -> Iterator[Run]:
    """Every policy x replication x episode. On a shared server (scenario.server.shared),
    each policy plays the server's work list, and `on_load` receives its load figures.
    `progress(n)` is called with the number of episode runs just done."""
    for rep in range(scenario.seeds):
        if not scenario.server.shared:
            yield from _progressing(episode_runs(scenario, enumerate(episodes), policies, rep),
                                    len(policies), progress)
            continue
        for name in policies:
            played, stats = simulate_shared(scenario, episodes, POLICIES[name], rep)
            for unit, rows in played:
                yield Run(name, rep, unit, rows)
            if on_load:
                on_load({"policy": name, "replication": rep, **stats})
            if progress:
                progress(len(played))


def run_count(scenario: Scenario, episodes: list[Episode], policies: list[str]) -> int:
    """How many episode runs `simulate_runs` plays (the total its `progress` counts to)."""
    played = len(work_list(scenario, episodes)) if scenario.server.shared else len(episodes)
    return scenario.seeds * len(policies) * played


def _progressing(runs: Iterator[Run], every: int, progress) -> Iterator[Run]:
    for i, run in enumerate(runs, start=1):
        yield run
        if progress and i % every == 0:
            progress(every)


def tables(runs: Iterable[Run], keep_events: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-turn table (KEYS + TURN_COLUMNS) and the event table (KEYS + COLUMNS, empty
    unless `keep_events`) of some runs."""
    turns, events = [], []
    for run in runs:
        key = (run.policy, run.replication, run.episode)
        turns.extend(key + _columns(m) for m in turn_metrics(run.rows))
        if keep_events:
            events.extend(key + tuple(row) for row in run.rows)
    return (pd.DataFrame(turns, columns=KEYS + TURN_COLUMNS),
            pd.DataFrame(events, columns=KEYS + COLUMNS))


_columns = itemgetter(*TURN_COLUMNS)  # a turn's metrics in column order


def simulate(scenario: Scenario, episodes: list[Episode], policies: list[str],
             keep_events: bool = False,
             progress: Callable[[int], None] | None = None) -> Simulation:
    """Simulate every policy over the episodes and the scenario's replications."""
    load: list[dict] = []
    turns, events = tables(simulate_runs(scenario, episodes, policies, progress, load.append),
                           keep_events)
    return Simulation(turns, events, pd.DataFrame(load))
