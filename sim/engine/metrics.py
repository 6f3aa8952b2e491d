"""Per-turn metrics (docs/metrics.md) as pure functions of an episode's event rows.

Latencies are measured from the end of the user's last word (`speech_end`). A resume (the
user speaking on after a false endpoint) sets the turn's answer times back: only what
follows the last resume counts.
"""

from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Metric:
    """A per-turn metric: a column of turns.csv, and how summaries and sweeps report it.

    `summary`: "headline" or "latency" (statistics `stats` in summary.json and the sweep
    results' `NAME_STAT` columns listed in `sweep`), "per_turn" (its mean, `NAME_per_turn`;
    in the sweep results when `sweep`; the mean of a 0/1 metric is a rate), "speculation"
    (a total in the speculation block, named without `spec_`), or "" (the turns table
    only). `group` orders per-turn columns
    in the sweep results: turn-taking, waste, cost, accuracy. docs/metrics.md defines each
    metric.
    """

    name: str
    summary: str = ""
    stats: tuple[str, ...] = ()
    sweep: tuple[str, ...] = ()
    group: str = ""


METRICS = (
    Metric("turn"),
    Metric("speech_start"),
    Metric("speech_end"),
    Metric("endpoint_delay"),
    Metric("first_token_latency", "latency", ("mean", "p50", "p90"), ("p90",)),
    Metric("first_audio_latency", "latency", ("mean", "p50", "p90"), ("mean", "p50", "p90")),
    Metric("turn_latency", "headline", ("mean", "p50", "p90", "p99"), ("mean", "p50", "p90")),
    Metric("model_busy", "per_turn", sweep=("mean",), group="cost"),
    Metric("prefill_tokens"),
    Metric("decode_tokens"),
    Metric("wasted_tokens", "per_turn", sweep=("mean",), group="waste"),
    Metric("tool_calls"),
    Metric("wasted_tool_calls", "per_turn", group="waste"),
    Metric("wasted_tool_time"),
    Metric("spec_guesses", "speculation"),
    Metric("spec_hits", "speculation"),
    Metric("spec_revisions", "speculation"),
    Metric("spec_withdrawals", "speculation"),
    Metric("spec_cascades", "speculation"),
    Metric("false_endpoints", "per_turn", sweep=("mean",), group="turn_taking"),
    Metric("cut_off", "per_turn", sweep=("mean",), group="turn_taking"),
    Metric("resumes"),
    Metric("false_start_tokens", "per_turn", group="waste"),
    Metric("barge_ins", "per_turn", group="turn_taking"),
    Metric("false_interruptions", "per_turn", group="turn_taking"),
    Metric("wrong_calls", "per_turn", sweep=("mean",), group="accuracy"),
    Metric("wrong_unsafe_calls", "per_turn", sweep=("mean",), group="accuracy"),
    Metric("task_success", "per_turn", sweep=("mean",), group="accuracy"),
)
RESET_BY_RESUME = ("endpoint", "first_token", "first_audio", "turn_end")
TURN_COLUMNS = tuple(m.name for m in METRICS)


class _Turn:
    """Accumulates one turn's figures while the rows are read."""

    def __init__(self):
        self.times: dict[str, float] = {}
        self.busy = 0.0
        self.prefill = self.decode = self.wasted_prefill = 0
        self.tool_calls = self.wasted_calls = 0
        self.wasted_tool_time = 0.0
        self.gen_tokens: dict[tuple[str, int], int] = defaultdict(int)
        self.discarded: list[tuple[str, int]] = []
        self.started_tools: set[tuple[str, int]] = set()
        self.guesses: set[tuple[str, int]] = set()
        self.written: set[tuple[str, int]] = set()
        self.reasons: dict[str, int] = defaultdict(int)
        self.hits: set[tuple[str, int]] = set()
        self.wrong: dict[tuple[str, int], bool] = {}  # kept with wrong arguments: unsafe?
        self.counts: dict[str, int] = defaultdict(int)
        self.gen_calls: dict[int, str] = {}
        self.gen_decoded: dict[int, int] = defaultdict(int)
        self.false_gens: set[int] = set()
        self.false_calls: list[tuple[str, int]] = []


def turn_metrics(rows) -> list[dict]:
    """One dict per turn (keys TURN_COLUMNS) from the event rows of one episode run."""
    turns: dict[int, _Turn] = defaultdict(_Turn)
    starts: dict[int, tuple[float, float]] = {}
    readers = _READERS
    for row in rows:
        event = row[2]  # by index: cheaper than the field names in this loop
        reader = readers.get(event)
        if reader is None:
            turns[row[1]].times.setdefault(event, row[0])  # the first time of any other event
        else:
            reader(row, turns[row[1]], starts)
    return [_finish(i, turns[i]) for i in sorted(turns)]


def _gen_start(row, acc: _Turn, starts) -> None:
    t, _, _, gen, call, attempt, tokens, overhead, _ = row
    starts[gen] = (t, overhead)
    acc.gen_calls[gen] = call
    acc.prefill += tokens
    if call and (call, attempt) not in acc.written:
        acc.written.add((call, attempt))
        if "endpoint" not in acc.times:
            acc.guesses.add((call, attempt))


def _gen_end(row, acc: _Turn, starts) -> None:
    t, _, _, gen, call, attempt, tokens, _, _ = row
    begin, overhead = starts.get(gen, (t, 0.0))
    busy = t - begin - overhead
    if busy > 0.0:
        acc.busy += busy
    if tokens:  # the counts below default to 0
        acc.decode += tokens
        acc.gen_decoded[gen] += tokens
        if call:
            acc.gen_tokens[(call, attempt)] += tokens


def _tool_start(row, acc: _Turn, _starts) -> None:
    acc.tool_calls += 1
    acc.started_tools.add((row.call, row.attempt))


def _discard(row, acc: _Turn, _starts) -> None:
    key = (row.call, row.attempt)
    acc.discarded.append(key)
    acc.wasted_prefill += row.tokens
    acc.wasted_tool_time += row.seconds
    acc.wasted_calls += key in acc.started_tools
    acc.reasons[row.label] += 1
    if row.label == "false_start":
        acc.false_calls.append(key)


def _confirm(row, acc: _Turn, _starts) -> None:
    if row.label:
        acc.wrong[(row.call, row.attempt)] = row.label == "wrong_unsafe"
    else:
        acc.hits.add((row.call, row.attempt))


def _resume(row, acc: _Turn, _starts) -> None:
    acc.counts[row.event] += 1
    acc.false_gens |= set(acc.gen_calls)
    for name in RESET_BY_RESUME:
        acc.times.pop(name, None)


def _count(row, acc: _Turn, _starts) -> None:
    acc.counts[row.event] += 1


def _endpoint(row, acc: _Turn, _starts) -> None:
    if row.label == "false":
        acc.counts["false_endpoint"] += 1
    acc.times.setdefault(row.event, row.t)


# the events read beyond their first time, by event
_READERS = {"gen_start": _gen_start, "gen_end": _gen_end, "gen_stop": _gen_end,
            "tool_start": _tool_start, "discard": _discard, "confirm": _confirm,
            "resume": _resume, "cut_off": _count, "barge_in": _count, "backchannel": _count,
            "endpoint": _endpoint}


def _finish(turn: int, acc: _Turn) -> dict:
    t = acc.times
    end = t.get("speech_end", float("nan"))

    def since_end(event):
        return t.get(event, float("nan")) - end

    stray = sum(acc.gen_decoded[g] for g in acc.false_gens if not acc.gen_calls[g])
    wasted = acc.wasted_prefill + sum(acc.gen_tokens[k] for k in acc.discarded) + stray
    false_start = stray + sum(acc.gen_tokens[k] for k in acc.false_calls)
    discarded = set(acc.discarded)
    acted = [unsafe for k, unsafe in acc.wrong.items()
             if k in acc.started_tools and k not in discarded]
    return {
        "turn": turn,
        "speech_start": t.get("speech_start", float("nan")),
        "speech_end": end,
        "endpoint_delay": since_end("endpoint"),
        "first_token_latency": since_end("first_token"),
        "first_audio_latency": since_end("first_audio"),
        "turn_latency": since_end("turn_end"),
        "model_busy": acc.busy,
        "prefill_tokens": acc.prefill,
        "decode_tokens": acc.decode,
        "wasted_tokens": wasted,
        "tool_calls": acc.tool_calls,
        "wasted_tool_calls": acc.wasted_calls,
        "wasted_tool_time": acc.wasted_tool_time,
        "spec_guesses": len(acc.guesses),
        "spec_hits": len(acc.hits),
        "spec_revisions": acc.reasons["revised"] + acc.reasons["needless"],
        "spec_withdrawals": acc.reasons["withdrawn"],
        "spec_cascades": acc.reasons["cascade"],
        "false_endpoints": acc.counts["false_endpoint"],
        "cut_off": int(acc.counts["cut_off"] > 0),
        "resumes": acc.counts["resume"],
        "false_start_tokens": false_start,
        "barge_ins": acc.counts["barge_in"],
        "false_interruptions": acc.counts["backchannel"],
        "wrong_calls": len(acted),
        "wrong_unsafe_calls": sum(acted),
        "task_success": int(not acted),
    }
