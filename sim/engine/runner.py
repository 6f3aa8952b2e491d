"""Runs policies over episodes and replications; returns the tidy per-turn table."""

from collections.abc import Callable

import pandas as pd

from rtsim.engine.draws import realize
from rtsim.engine.eventlog import COLUMNS
from rtsim.engine.metrics import TURN_COLUMNS, turn_metrics
from rtsim.engine.shared import simulate_shared
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.errors import InputError
from rtsim.policies import POLICIES
from rtsim.scenario.schema import Scenario
from rtsim.traces.schema import Episode

KEYS = ("policy", "replication", "episode")


def check_policies(names: list[str]) -> list[str]:
    """Validate policy names; keep their order, drop repeats."""
    unknown = [n for n in names if n not in POLICIES]
    if unknown or not names:
        raise InputError(f"--policies: unknown policy {', '.join(unknown) or '(none)'} "
                         f"(choose from {', '.join(POLICIES)})")
    return list(dict.fromkeys(names))


def simulate(scenario: Scenario, episodes: list[Episode], policies: list[str],
             keep_events: bool = False,
             progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-turn metrics for every policy x replication x episode, and the event table.

    The event table is empty unless `keep_events`. `progress(n)` is called as episodes
    finish with the number of episode runs just done.
    """
    turns, events, _ = simulate_with_server(scenario, episodes, policies, keep_events, progress)
    return turns, events


def simulate_with_server(scenario: Scenario, episodes: list[Episode], policies: list[str],
                         keep_events: bool = False,
                         progress: Callable[[int], None] | None = None
                         ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """As `simulate`, plus the shared server's load figures per policy and replication
    (empty for a single conversation: scenario.server.shared is false)."""
    turns, events, load = [], [], []

    def add(name: str, rep: int, unit: str, rows: list) -> None:
        key = (name, rep, unit)
        turns.extend(key + tuple(m.values()) for m in turn_metrics(rows))
        if keep_events:
            events.extend(key + row for row in rows)

    for rep in range(scenario.seeds):
        if scenario.server.shared:
            for name in policies:
                played, stats = simulate_shared(scenario, episodes, POLICIES[name], rep)
                for unit, rows in played:
                    add(name, rep, unit, rows)
                load.append({"policy": name, "replication": rep, **stats})
                if progress:
                    progress(len(played))
            continue
        for index, episode in enumerate(episodes):
            draws = realize(scenario, episode, index, rep)
            for name in policies:
                add(name, rep, episode.id, simulate_episode(draws, POLICIES[name], scenario))
            if progress:
                progress(len(policies))
    return (pd.DataFrame(turns, columns=KEYS + TURN_COLUMNS),
            pd.DataFrame(events, columns=KEYS + COLUMNS), pd.DataFrame(load))


def simulate_runs(scenario: Scenario, episodes: list[tuple[int, Episode]],
                  policies: list[str], replication: int = 0) -> list[tuple[str, str, list]]:
    """(policy, episode id, event rows) of each (index, episode) under each policy."""
    runs = []
    for index, episode in episodes:
        draws = realize(scenario, episode, index, replication)
        runs.extend((name, episode.id, simulate_episode(draws, POLICIES[name], scenario))
                    for name in policies)
    return runs
