"""One turn's event rows (rtsim.engine.eventlog.EventRow) as swimlane segments and marks.

Lanes, top to bottom: the user's speech, the model's request set-up (network round trip
and request overhead), its reading (prefill) and writing (decode), one lane per tool call
attempt in the order they started, and the speech output. A request's prefill runs from
`gen_start.t + overhead` for the prefill time its end row reports; its decode from there to
`gen_end`/`gen_stop` (docs/events.md).

A measured panel (the real driver's events, `measured=True`) has one model lane instead:
the driver times a request only from its start to its last token, so each request is one
bar from `gen_start` to `gen_end`/`gen_stop`, coloured by purpose.
"""

from dataclasses import dataclass, replace

SPEECH, OVERHEAD, PREFILL, DECODE, REQUEST, OUTPUT = (
    "user speaking", "model: network + overhead", "model: reading (prefill)",
    "model: writing (decode)", "model: request (measured)", "agent speaking")
FIXED_TOP = (SPEECH, OVERHEAD, PREFILL, DECODE)
MEASURED_TOP = (SPEECH, REQUEST)


@dataclass(frozen=True)
class Segment:
    """A bar in a lane. `label` is the request's purpose or the tool's name.

    `stopped`: a request cut short (its tokens are kept unless `wasted`); `wasted`: work
    for a call attempt that was discarded (revised, withdrawn or cascade).
    """

    lane: str
    kind: str
    start: float
    end: float
    label: str = ""
    speculative: bool = False
    stopped: bool = False
    wasted: bool = False


@dataclass(frozen=True)
class Mark:
    """An instant in a lane: transcript, endpoint, false_endpoint, resume, discard,
    answer_done, cut_off, barge_in or backchannel."""

    lane: str
    kind: str
    t: float


@dataclass(frozen=True)
class Timeline:
    """The swimlanes of one turn under one policy; times in seconds since the episode began."""

    lanes: tuple[str, ...]
    segments: tuple[Segment, ...]
    marks: tuple[Mark, ...]
    start: float
    end: float


def turn_timeline(rows, turn: int, measured: bool = False) -> Timeline:
    """The swimlanes of turn `turn` from an episode's event rows (EventRow);
    `measured`: one whole bar per request (module doc)."""
    rows = [r for r in rows if r.turn == turn]
    if not rows:
        raise ValueError(f"no events for turn {turn}")
    first, last = {}, {}
    for r in rows:
        first.setdefault(r.event, r.t)
        last[r.event] = r.t
    discarded = {(r.call, r.attempt) for r in rows if r.event == "discard"}
    segments = _speech(first) + _model(rows, discarded, measured)
    tools, tool_lanes = _tools(rows, discarded, max(r.t for r in rows))
    segments += tools
    if "first_audio" in last and "playback_end" in first:  # the answer after any false start
        segments.append(Segment(OUTPUT, "playback", last["first_audio"], first["playback_end"]))
    segments += _cut_off_audio(rows)
    top = MEASURED_TOP if measured else FIXED_TOP
    return Timeline(top + tool_lanes + (OUTPUT,), tuple(segments),
                    _marks(rows), first.get("speech_start", rows[0].t),
                    max(r.t for r in rows))


def without_empty_lanes(timelines: list[Timeline]) -> list[Timeline]:
    """The timelines with every lane left out that has no bar or mark in any of them (the
    measured and simulated panels of one policy)."""
    used = {x.lane for tl in timelines for x in (*tl.segments, *tl.marks)}
    return [replace(tl, lanes=tuple(lane for lane in tl.lanes if lane in used))
            for tl in timelines]


def _speech(first: dict) -> list[Segment]:
    if "speech_start" in first and "speech_end" in first:
        return [Segment(SPEECH, "speech", first["speech_start"], first["speech_end"])]
    return []


def _model(rows, discarded: set, measured: bool) -> list[Segment]:
    starts, out = {}, []
    for r in rows:
        if r.event == "gen_start":
            starts[r.gen] = r
        elif r.event in ("gen_end", "gen_stop") and r.gen in starts:
            begin = starts.pop(r.gen)
            wasted = bool(begin.call) and (begin.call, begin.attempt) in discarded
            out += (_whole if measured else _request)(begin, r, wasted)
    return out


def _request(begin, end, wasted: bool) -> list[Segment]:
    """Set-up, prefill and decode bars of one request (zero-length parts left out); a
    stopped request's last bar carries the `stopped` flag."""
    purpose, t0, t_end = begin.label, begin.t, end.t
    ready = min(t0 + begin.seconds, t_end)
    decode_from = min(ready + end.seconds, t_end)
    parts = [(lane, kind, a, b) for lane, kind, a, b in (
        (OVERHEAD, "overhead", t0, ready), (PREFILL, "prefill", ready, decode_from),
        (DECODE, "decode", decode_from, t_end)) if b > a]
    stopped = end.event == "gen_stop"
    return [Segment(lane, kind, a, b, purpose, stopped=stopped and i == len(parts) - 1,
                    wasted=wasted) for i, (lane, kind, a, b) in enumerate(parts)]


def _whole(begin, end, wasted: bool) -> list[Segment]:
    """One bar for a measured request, from its start to its last token."""
    return [Segment(REQUEST, "request", begin.t, end.t, begin.label,
                    stopped=end.event == "gen_stop", wasted=wasted)]


def _tool_lane(name: str, call: str, attempt: int) -> str:
    return f"{name} ({call})" if attempt == 0 else f"{name} ({call}, try {attempt + 1})"


def _tools(rows, discarded: set, last: float) -> tuple[list[Segment], tuple[str, ...]]:
    runs, lanes = {}, []
    for r in rows:
        key = (r.call, r.attempt)
        if r.event == "tool_start":
            lane = _tool_lane(r.label, *key)
            runs[key] = [lane, r.t, None, r.label, bool(r.tokens), False]
            lanes.append(lane)
        elif r.event in ("tool_end", "tool_cancel") and key in runs:
            runs[key][2] = r.t
            runs[key][5] = r.event == "tool_cancel"
    segments = [Segment(lane, "tool", t0, last if t1 is None else t1, name, speculative=spec,
                        stopped=cancelled, wasted=key in discarded)
                for key, (lane, t0, t1, name, spec, cancelled) in runs.items()]
    return segments, tuple(lanes)


def _cut_off_audio(rows) -> list[Segment]:
    """The audio of each answer that cut the user off, from its first audio for as long
    as it played (wasted)."""
    out, audio = [], None
    for r in rows:
        if r.event == "first_audio":
            audio = r.t
        elif r.event == "cut_off" and audio is not None:
            out.append(Segment(OUTPUT, "playback", audio, audio + r.seconds, wasted=True))
    return out


def _marks(rows) -> tuple[Mark, ...]:
    names, marks = {}, []
    for r in rows:
        event, key = r.event, (r.call, r.attempt)
        if event == "tool_start":
            names[key] = _tool_lane(r.label, *key)
        elif event == "endpoint":
            marks.append(Mark(SPEECH, "false_endpoint" if r.label else event, r.t))
        elif event in ("transcript", "resume"):
            marks.append(Mark(SPEECH, event, r.t))
        elif event in ("cut_off", "barge_in", "backchannel"):
            marks.append(Mark(OUTPUT, event, r.t))
        elif event == "discard" and key in names:
            marks.append(Mark(names[key], "discard", r.t))
        elif event == "turn_end":
            marks.append(Mark(OUTPUT, "answer_done", r.t))
    return tuple(marks)
