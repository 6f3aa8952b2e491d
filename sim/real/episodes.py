"""Running episodes for real, one after another, keeping every finished one.

Episodes run in sequence on one model server (a real run must not contend with itself);
for each episode every policy runs back to back, so slow drift of the server's speed falls
on all policies alike. Each finished or failed run is handed to `on_done` at once.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from rtsim.engine.draws import realize
from rtsim.policies import POLICIES
from rtsim.real.driver import EpisodeFailed, play_episode
from rtsim.scenario.schema import Scenario
from rtsim.traces.schema import Episode

EPISODE_TIMEOUT = 600.0


@dataclass(frozen=True)
class RealRun:
    """One policy on one episode, measured: its event rows, or why it failed."""

    policy: str
    index: int
    episode: str
    rows: list | None
    error: str | None
    seconds: float


async def run_episodes(scenario: Scenario, episodes: list[tuple[int, Episode]],
                       policies: list[str], backend, on_done: Callable[[RealRun], None],
                       skip: frozenset = frozenset(), timeout: float = EPISODE_TIMEOUT,
                       forced_calls: bool = False, references: dict | None = None
                       ) -> list[RealRun]:
    """Play each (index, episode) under each policy, except (policy, episode id) in `skip`.

    With `forced_calls`, requests that write one call force it (rtsim.real.forced_calls);
    `references` ({episode index: {(turn, call id): arguments}}) judge their guesses."""
    runs = []
    for index, episode in episodes:
        draws = realize(scenario, episode, index, 0)
        for name in policies:
            if (name, episode.id) in skip:
                continue
            start = time.perf_counter()
            try:
                rows, error = await play_episode(
                    draws, POLICIES[name], scenario, backend, timeout, forced_calls,
                    None if references is None else references.get(index, {})), None
            except EpisodeFailed as exc:
                rows, error = None, str(exc)
            run = RealRun(name, index, episode.id, rows, error, time.perf_counter() - start)
            on_done(run)
            runs.append(run)
            await asyncio.sleep(0)
    return runs
