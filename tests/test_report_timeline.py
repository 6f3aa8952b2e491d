"""Timeline swimlanes of `rtsim report` on deterministic episodes."""

import pytest

from rtsim.policies import POLICIES
from rtsim.reports.timeline_data import (
    DECODE,
    OUTPUT,
    OVERHEAD,
    PREFILL,
    SPEECH,
    Mark,
    Segment,
    turn_timeline,
)
from tests import helpers as h


def _premature_scenario(rtt):
    """10 tokens/s decode, 100 tokens/s prefill, 0.5 s tools; every partial guesses early."""
    return h.scenario(network={"rtt": rtt}, model={"prefill_rate": 100},
                      tools={"default": {"latency": 0.5}},
                      speculation={"premature_rate": 1.0})


def _approx(items):
    return tuple(pytest.approx(x, abs=1e-9) if isinstance(x, float) else x for x in items)


def _as_tuples(segments):
    return [(s.lane, s.kind, s.start, s.end, s.label, s.speculative, s.stopped, s.wasted)
            for s in segments]


def test_swimlanes_of_a_revised_speculative_call_are_exact():
    # 8 words at 0.1 s; partials every 0.25 s; call a (1 token, arguments heard after word 5)
    # is guessed early at 0.25 s, runs from 0.47 s, is cancelled and revised at 0.5 s.
    ep = h.episode([[h.call("a", 1, known_at=4)], [h.call("b", 2, deps=["a"], safe=False)]],
                   answer_tokens=3)
    rows = h.run(ep, POLICIES["speculative"], _premature_scenario(0.1))
    tl = turn_timeline(rows, 0)
    a1, a2, b = "tool (a)", "tool (a, try 2)", "tool (b)"
    assert tl.lanes == (SPEECH, OVERHEAD, PREFILL, DECODE, a1, a2, b, OUTPUT)
    playback_end = h.times(rows, "playback_end")[0]
    expected = [
        (SPEECH, "speech", 0.0, 0.8, "", False, False, False),
        # the early guess: rtt 0.1, 2 tokens read, 1 written; wasted
        (OVERHEAD, "overhead", 0.25, 0.35, "call", False, False, True),
        (PREFILL, "prefill", 0.35, 0.37, "call", False, False, True),
        (DECODE, "decode", 0.37, 0.47, "call", False, False, True),
        # the revision once the arguments are heard
        (OVERHEAD, "overhead", 0.5, 0.6, "call", False, False, False),
        (PREFILL, "prefill", 0.6, 0.66, "call", False, False, False),
        (DECODE, "decode", 0.66, 0.76, "call", False, False, False),
        (PREFILL, "prefill", 0.76, 0.79, "input", False, False, False),
        (PREFILL, "prefill", 0.8, 0.82, "input", False, False, False),
        # b after a's result: 10 result tokens read, 2 written
        (OVERHEAD, "overhead", 1.26, 1.36, "call", False, False, False),
        (PREFILL, "prefill", 1.36, 1.46, "call", False, False, False),
        (DECODE, "decode", 1.46, 1.66, "call", False, False, False),
        (OVERHEAD, "overhead", 2.16, 2.26, "answer", False, False, False),
        (PREFILL, "prefill", 2.26, 2.36, "answer", False, False, False),
        (DECODE, "decode", 2.36, 2.66, "answer", False, False, False),
        (a1, "tool", 0.47, 0.5, "tool", True, True, True),
        (a2, "tool", 0.76, 1.26, "tool", True, False, False),
        (b, "tool", 1.66, 2.16, "tool", False, False, False),
        (OUTPUT, "playback", 2.46, playback_end, "", False, False, False),
    ]
    assert _as_tuples(tl.segments) == [_approx(e) for e in expected]
    assert tl.marks == (Mark(SPEECH, "transcript", 0.25), Mark(SPEECH, "transcript", 0.5),
                        Mark(a1, "discard", 0.5), Mark(SPEECH, "transcript", 0.75),
                        Mark(SPEECH, "endpoint", pytest.approx(0.8)),
                        Mark(OUTPUT, "answer_done", pytest.approx(2.66)))
    assert (tl.start, tl.end) == (0, playback_end)


def test_a_request_stopped_while_writing_is_marked_stopped_on_its_last_bar_only():
    # 10-token call guessed at 0.25 s (rtt 0.2 s, 2 tokens read) and revised at 0.5 s.
    ep = h.episode([[h.call("a", 10, known_at=4)]], answer_tokens=5)
    rows = h.run(ep, POLICIES["speculative"], _premature_scenario(0.2))
    first = [s for s in turn_timeline(rows, 0).segments if 0.25 <= s.start < 0.5]
    assert _as_tuples(first) == [_approx(e) for e in [
        (OVERHEAD, "overhead", 0.25, 0.45, "call", False, False, True),
        (PREFILL, "prefill", 0.45, 0.47, "call", False, False, True),
        (DECODE, "decode", 0.47, 0.5, "call", False, True, True)]]


def test_sync_swimlanes_have_no_transcripts_and_no_waste():
    ep = h.episode([[h.call("a", 10), h.call("b", 10)]])
    tl = turn_timeline(h.run(ep, POLICIES["sync"], h.scenario()), 0)
    assert [m.kind for m in tl.marks] == ["endpoint", "answer_done"]
    tools = [s for s in tl.segments if s.kind == "tool"]
    assert [(s.lane, s.start) for s in tools] == [("tool (a)", pytest.approx(2.8)),
                                                  ("tool (b)", pytest.approx(2.8))]
    assert not any(s.wasted or s.stopped or s.speculative for s in tl.segments)
    assert isinstance(tl.segments[0], Segment) and tl.segments[0].lane == SPEECH
