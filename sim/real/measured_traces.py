"""Measured episodes as trace rows, so a real run can be replayed in simulation.

A recorded episode is the original one with what the run measured pinned down: each
utterance's word times (as the user's speech was played) and each call's tool latency
(its first attempt, from the event rows). Replayed with `rtsim run -t measured.jsonl`,
the simulator uses them instead of drawing speech and tool timing.
"""

from rtsim.engine.draws import EpisodeDraws
from rtsim.engine.eventlog import EventRow
from rtsim.traces.schema import Episode


def _tool_latencies(rows: list[EventRow]) -> dict[tuple[int, str], float]:
    starts, out = {}, {}
    for r in rows:
        if r.attempt != 0:
            continue
        key = (r.turn, r.call)
        if r.event == "tool_start":
            starts[key] = r.t
        elif r.event == "tool_end" and key in starts:
            out[key] = round(r.t - starts[key], 6)
    return out


def _word_starts(d) -> list[float]:
    """When each word began: where the silence before it ended, else where the word
    before it ended (so the replay meets the same pauses)."""
    resumes = {p.words: p.start + p.length for p in d.pauses}
    ends = (0.0,) + d.word_ends[:-1]
    return [round(resumes.get(k, end), 6) for k, end in enumerate(ends)]


def recorded_episode(episode: Episode, draws: EpisodeDraws, rows: list[EventRow]) -> dict:
    """The trace row of `episode` as measured in the run whose event rows are `rows`."""
    latency = _tool_latencies(rows)
    turns = []
    for i, (turn, d) in enumerate(zip(episode.turns, draws.turns, strict=True)):
        ends = [round(e, 6) for e in d.word_ends]
        starts = _word_starts(d)
        steps = []
        for step in range(turn.steps):
            calls = [c for c in turn.calls if c.step == step]
            steps.append({
                "reasoning_tokens": calls[0].reasoning_tokens if calls else 0,
                "calls": [{"id": c.id, "name": c.name, "arguments": c.arguments,
                           "depends_on": list(c.depends_on), "safe": c.safe,
                           "tokens": c.tokens, "output_tokens": c.output_tokens,
                           "known_at": c.known_at, "latency": latency.get((i, c.id))}
                          for c in calls]})
        turns.append({"user": turn.user, "word_times": [[s, e] for s, e in
                                                        zip(starts, ends, strict=True)],
                      "steps": steps, "answer_tokens": turn.answer_tokens,
                      "answer_reasoning_tokens": turn.answer_reasoning_tokens})
    row = {"id": episode.id, "source": f"measured:{episode.source}", "turns": turns}
    if episode.system_tokens is not None:
        row["system_tokens"] = episode.system_tokens
    if episode.date is not None:
        row["date"] = episode.date.isoformat()
    return row
