"""The pieces a simulation is cut into, played where an executor puts them: episodes of one
replication under each policy, or one policy's replication on a shared server, reduced to
table rows (tuples) as they end. Nothing here needs pandas, so a pool's workers start light.
"""

from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import NamedTuple

from rtsim.engine.collection import rare_collections
from rtsim.engine.draws import realize
from rtsim.engine.eventlog import EventRow
from rtsim.engine.metrics import TURN_COLUMNS, turn_metrics
from rtsim.engine.shared import simulate_shared
from rtsim.engine.simpy_driver import simulate_episode
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


class Piece(NamedTuple):
    """What one task produced: per-turn rows, event rows (when kept), shared-server
    figures, and how many episode runs it played."""

    turns: list[tuple]
    events: list[tuple]
    load: list[dict]
    runs: int


def episode_runs(scenario: Scenario, episodes: Iterable[tuple[int, Episode]],
                 policies: list[str], replication: int = 0) -> Iterator[Run]:
    """Each (index in its trace set, episode) under each policy, one conversation at a time."""
    for index, episode in episodes:
        draws = realize(scenario, episode, index, replication)
        for name in policies:
            yield Run(name, replication, episode.id,
                      simulate_episode(draws, POLICIES[name], scenario))


def run_rows(run: Run, keep_events: bool) -> tuple[list[tuple], list[tuple]]:
    key = (run.policy, run.replication, run.episode)
    turns = [key + _columns(m) for m in turn_metrics(run.rows)]
    return turns, [key + tuple(row) for row in run.rows] if keep_events else []


_columns = itemgetter(*TURN_COLUMNS)  # a turn's metrics in column order


@rare_collections()
def play_episodes(episodes: list[Episode], scenario: Scenario, policies: list[str],
                  replication: int, start: int, stop: int, keep_events: bool) -> Piece:
    """Episodes start..stop-1 of one replication, each under every policy."""
    turns, events = [], []
    runs = episode_runs(scenario, ((i, episodes[i]) for i in range(start, stop)), policies,
                        replication)
    for run in runs:
        run_turns, run_events = run_rows(run, keep_events)
        turns.extend(run_turns)
        events.extend(run_events)
    return Piece(turns, events, [], (stop - start) * len(policies))


@rare_collections()
def play_shared(episodes: list[Episode], scenario: Scenario, policy: str, replication: int,
                keep_events: bool) -> Piece:
    """One policy's replication on the shared server: each episode's rows are reduced to
    its table rows as it ends, so memory grows with the conversations, not the episodes."""
    played, stats = simulate_shared(
        scenario, episodes, POLICIES[policy], replication,
        lambda unit, rows: run_rows(Run(policy, replication, unit, rows), keep_events))
    turns = [row for run_turns, _ in played for row in run_turns]
    events = [row for _, run_events in played for row in run_events]
    _turn_series(stats["series"], played)
    return Piece(turns, events, [{"policy": policy, "replication": replication, **stats}],
                 len(played))


_END = len(KEYS) + TURN_COLUMNS.index("speech_end")
_LATENCY = len(KEYS) + TURN_COLUMNS.index("turn_latency")


def _turn_series(series, played) -> None:
    """Each answered turn's latency and when it ended, from its episode's start."""
    for start, (run_turns, _) in zip((series.starts[k] for k in sorted(series.starts)),
                                     played, strict=True):
        for row in run_turns:
            if row[_LATENCY] == row[_LATENCY]:  # NaN: not answered
                series.turn_ends.append(start + row[_END] + row[_LATENCY])
                series.turn_latencies.append(row[_LATENCY])
