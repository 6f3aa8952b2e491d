"""The episode a run report draws as a timeline: which one, and its event rows per policy.

Default episode (for the chosen replication): among episodes with a turn of two or more
tool calls (under the first policy of the run), the one whose speedup of the last
non-sync policy is closest to that policy's speedup over the whole run; without a sync run,
the first such episode in trace order. Events come from the run's event table, or, when the
run was made without --events, from re-simulating that one episode exactly as the run did.

The report leads with the episode's most telling turn: the one whose turn latency differs
most between the policies (largest minus smallest; the earliest such turn on ties).
"""

import numpy as np
import pandas as pd

from rtsim.engine.eventlog import COLUMNS, EventRow
from rtsim.engine.metrics import turn_metrics
from rtsim.engine.pieces import episode_runs
from rtsim.errors import InputError, option
from rtsim.policies import POLICIES
from rtsim.reports.files import read_table
from rtsim.reports.inputs import EVENT_KEYS, RunInput
from rtsim.scenario.load import load_scenario
from rtsim.traces.sets import load_trace_set
from rtsim.traces.tokens import tokenizer_name


def chosen_episode(turns: pd.DataFrame, episode: str | None, replication: int) -> str:
    """The episode to draw (validated `episode`, or the default) for `replication`."""
    reps = sorted(int(r) for r in turns.replication.unique())
    if replication not in reps:
        raise InputError(f"{option('replication')} {replication}: the run has replications "
                         f"{reps[0]}..{reps[-1]}")
    if episode is None:
        return default_episode(turns[turns.replication == replication])
    if episode not in set(turns.episode):
        known = list(dict.fromkeys(turns.episode))
        more = ", ..." if len(known) > 5 else ""
        raise InputError(f"{option('episode')} {episode}: not in the run (episodes: "
                         f"{', '.join(known[:5])}{more})")
    return episode


def default_episode(turns: pd.DataFrame) -> str:
    """The representative multi-call episode of one replication's turns (module doc)."""
    policies = list(dict.fromkeys(turns.policy))
    order = list(dict.fromkeys(turns.episode))
    first = turns[turns.policy == policies[0]]
    multi = set(first[first.tool_calls >= 2].episode)
    candidates = [e for e in order if e in multi] or order
    others = [p for p in policies if p != "sync"]
    if "sync" not in policies or not others:
        return candidates[0]
    by_episode = turns.groupby(["policy", "episode"], sort=False).turn_latency.sum()
    base, mine = by_episode["sync"], by_episode[others[-1]]
    overall = base.sum() / mine.sum()
    gaps = [abs(base[e] / mine[e] - overall) for e in candidates]
    return candidates[int(np.argmin(gaps))]


def telling_turn(panels: dict[str, list]) -> tuple[int, dict[str, float]]:
    """The turn (0-based) of an episode whose turn latency differs most between the panels
    (module doc), and each panel's turn latency of it."""
    by_turn: dict[int, dict[str, float]] = {}
    for name, rows in panels.items():
        for m in turn_metrics(rows):
            by_turn.setdefault(m["turn"], {})[name] = m["turn_latency"]
    turn = max(sorted(by_turn), key=lambda t: round(spread(by_turn[t].values()), 9))
    return turn, by_turn[turn]


def spread(latencies) -> float:
    """Largest minus smallest of some turn latencies."""
    values = list(latencies)
    return max(values) - min(values)


def episode_events(run: RunInput, episode: str,
                   replication: int) -> tuple[dict | None, str]:
    """Event rows per policy (run order) for one episode, and a note on where they came from;
    None and why not when the run kept no events and the episode cannot be re-simulated
    (no config.yaml, or its trace file is gone or changed)."""
    policies = list(run.summary["policies"])
    if run.events is not None:
        rows = events_from_table(run.events, episode, replication, policies)
        return rows, f"events from {run.events.name}"
    try:
        rows = _resimulate(run, episode, replication, policies)
    except InputError as exc:
        return None, ("the run kept no events (rtsim run --events) and cannot be "
                      f"re-simulated: {exc.cli_message()}")
    return rows, _consistency(run, rows, episode, replication)


def events_from_table(path, episode: str, replication: int, policies: list) -> dict:
    """Event rows per policy of one episode from an event table."""
    table = read_table(path, EVENT_KEYS + COLUMNS)
    table = table[(table.episode.astype(str) == episode) & (table.replication == replication)]
    if table.empty:
        raise InputError(f"{path}: no events for episode {episode}, replication {replication}")
    table = table.assign(call=table["call"].fillna("").astype(str),
                         label=table["label"].fillna("").astype(str))
    out = {}
    for policy in policies:
        part = table[table.policy == policy]
        out[policy] = [_typed(r) for r in part[list(COLUMNS)].itertuples(index=False, name=None)]
    return out


def _typed(r: tuple) -> EventRow:
    t, turn, event, gen, call, attempt, tokens, seconds, label = r
    return EventRow(float(t), int(turn), str(event), int(gen), call, int(attempt), int(tokens),
                    float(seconds), label)


def _resimulate(run: RunInput, episode: str, replication: int, policies: list) -> dict:
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise InputError(f"{run.folder / 'summary.json'}: unknown policy {unknown[0]}")
    if run.config is None:
        raise InputError(f"{run.folder}: no config.yaml")
    scenario = load_scenario(str(run.config))
    try:
        episodes = load_trace_set(scenario.traces)
    except InputError as exc:
        raise InputError(f"{run.config}: {exc.template}") from None
    index = next((i for i, ep in enumerate(episodes) if ep.id == episode), None)
    if index is None:
        raise InputError(f"{run.config}: trace set {scenario.traces} has no episode {episode} "
                         "(changed since the run?)")
    runs = episode_runs(scenario, [(index, episodes[index])], policies, replication)
    return {run.policy: run.rows for run in runs}


def _consistency(run: RunInput, rows: dict, episode: str, replication: int) -> str:
    """A note saying whether the re-simulated turn latencies match the run's table."""
    turns, then = run.turns, run.summary.get("tokenizer")
    cause = (f"the run counted tokens with {then}, this report with {tokenizer_name()}"
             if then and then != tokenizer_name() else
             "scenario or trace set changed since the run")
    for policy, policy_rows in rows.items():
        mine = [m["turn_latency"] for m in turn_metrics(policy_rows)]
        theirs = turns[(turns.policy == policy) & (turns.episode == episode)
                       & (turns.replication == replication)].sort_values("turn").turn_latency
        if len(mine) != len(theirs) or not np.allclose(mine, theirs.to_numpy(), atol=1e-9):
            return (f"WARNING: the re-simulated episode differs from turns.csv ({cause}); "
                    "rerun with --events")
    return "re-simulated from config.yaml (turn latencies match the run)"
