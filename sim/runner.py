"""Runs policies over episodes and replications; returns the tidy per-turn table."""

from collections.abc import Callable

import pandas as pd

from policies import POLICIES
from sim.engine import simulate_episode
from sim.errors import InputError
from sim.metrics import TURN_COLUMNS, turn_metrics
from sim.realize import realize
from sim.recorder import COLUMNS
from sim.scenario import Scenario
from sim.traces import Episode

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

    The event table is empty unless `keep_events`. `progress(n)` is called after each
    episode with the number of episode runs just done.
    """
    turns, events = [], []
    for rep in range(scenario.seeds):
        for index, episode in enumerate(episodes):
            draws = realize(scenario, episode, index, rep)
            for name in policies:
                rows = simulate_episode(draws, POLICIES[name], scenario)
                key = (name, rep, episode.id)
                turns.extend(key + tuple(m.values()) for m in turn_metrics(rows))
                if keep_events:
                    events.extend(key + row for row in rows)
            if progress:
                progress(len(policies))
    return (pd.DataFrame(turns, columns=KEYS + TURN_COLUMNS),
            pd.DataFrame(events, columns=KEYS + COLUMNS))
