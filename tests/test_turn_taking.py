"""Turn-taking: false endpoints, resumes, cut-offs, barge-in, the model detector and the
preemptive policy. Deterministic turns (600 words/min, 10 tokens/s, instant prefill)."""

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtsim.engine.metrics import turn_metrics
from rtsim.errors import InputError
from rtsim.policies import POLICIES, PreemptivePolicy, SyncPolicy
from tests.helpers import call, episode, run, scenario, times
from tests.test_properties import surviving, turns

USER = "text Bob, that I am late"  # "Bob," ends at 0.2 s; the pause after it is fixed
LOOKUP = [[call("a", 10, output_tokens=4, name="lookup", known_at=5)]]


def false_endpoint_scenario(pause=0.6, silence=0.4, detector=None, **sections):
    """A fixed pause after "Bob," longer than the detector's silence: a false endpoint."""
    return scenario(tools={"lookup": {"latency": 1.0}}, speech={"pause": pause},
                    turn_detection={"silence": silence, **(detector or {})}, **sections)


def log(rows):
    """(time rounded to ms, event, gen, call, attempt, tokens, label) of each row."""
    return [(round(r.t, 3), r.event, r.gen, r.call, r.attempt, r.tokens, r.label)
            for r in rows]


COMMON_END = [
    (3.7, "first_token", 3, "", 0, 0, ""),
    (3.9, "turn_end", 0, "", 0, 0, ""),
    (3.7, "first_audio", 0, "", 0, 0, ""),
    (4.518, "playback_end", 0, "", 0, 0, ""),
]


def test_sync_abandons_its_false_start_and_begins_again_at_the_real_end():
    ep = episode(LOOKUP, user=USER, answer_tokens=3)
    assert log(run(ep, SyncPolicy, false_endpoint_scenario())) == [
        (0.0, "speech_start", 0, "", 0, 0, ""),
        (0.6, "endpoint", 0, "", 0, 2, "false"),       # pause start 0.2 + silence 0.4
        (0.6, "gen_start", 1, "", 0, 3, "call"),
        (0.8, "gen_stop", 1, "", 0, 2, "call"),        # the user speaks on: abandoned
        (0.8, "resume", 0, "", 0, 2, ""),              # pause end 0.2 + 0.6
        (1.2, "speech_end", 0, "", 0, 0, ""),
        (1.6, "endpoint", 0, "", 0, 6, ""),
        (1.6, "gen_start", 2, "", 0, 6, "call"),       # reads only the words not yet read
        (2.6, "gen_end", 2, "", 0, 10, "call"),
        (2.6, "tool_start", 0, "a", 0, 0, "lookup"),
        (3.6, "tool_end", 0, "a", 0, 0, ""),
        (3.6, "gen_start", 3, "", 0, 4, "answer"),
        (3.9, "gen_end", 3, "", 0, 3, "answer"),
        *COMMON_END,
    ]


def test_preemptive_replies_at_each_tentative_end_and_acts_at_the_commit():
    ep = episode(LOOKUP, user=USER, answer_tokens=3)
    assert log(run(ep, PreemptivePolicy, false_endpoint_scenario())) == [
        (0.0, "speech_start", 0, "", 0, 0, ""),
        (0.4, "pause", 0, "", 0, 2, ""),               # tentative end: 0.2 s of silence
        (0.4, "gen_start", 1, "", 0, 3, "call"),
        (0.6, "endpoint", 0, "", 0, 2, "false"),       # reply under way: reused
        (0.8, "gen_stop", 1, "", 0, 4, "call"),        # the transcript changes: cancelled
        (0.8, "resume", 0, "", 0, 2, ""),
        (1.2, "speech_end", 0, "", 0, 0, ""),
        (1.4, "pause", 0, "", 0, 6, ""),               # begun again, 0.2 s before the commit
        (1.4, "gen_start", 2, "", 0, 6, "call"),
        (1.6, "endpoint", 0, "", 0, 6, ""),
        (2.4, "gen_end", 2, "", 0, 10, "call"),
        (2.4, "tool_start", 0, "a", 0, 0, "lookup"),
        (3.4, "tool_end", 0, "a", 0, 0, ""),
        (3.4, "gen_start", 3, "", 0, 4, "answer"),
        (3.7, "gen_end", 3, "", 0, 3, "answer"),
        (3.5, "first_token", 3, "", 0, 0, ""),
        (3.7, "turn_end", 0, "", 0, 0, ""),
        (3.5, "first_audio", 0, "", 0, 0, ""),
        (4.318, "playback_end", 0, "", 0, 0, ""),
    ]


ASYNC_START = [
    (0.0, "speech_start", 0, "", 0, 0, ""),
    (0.25, "transcript", 0, "", 0, 2, ""),
    (0.25, "gen_start", 1, "", 0, 3, "input"),
    (0.25, "gen_end", 1, "", 0, 0, "input"),
    (0.6, "endpoint", 0, "", 0, 2, "false"),
    (0.6, "gen_start", 2, "a", 0, 0, "call"),          # written from two words: wrong
    (0.8, "gen_stop", 2, "a", 0, 2, "call"),
    (0.8, "discard", 0, "a", 0, 0, "false_start"),
    (0.8, "resume", 0, "", 0, 2, ""),
    (1.0, "transcript", 0, "", 0, 4, ""),              # what was read stays read
    (1.0, "gen_start", 3, "", 0, 3, "input"),
    (1.0, "gen_end", 3, "", 0, 0, "input"),
    (1.2, "transcript", 0, "", 0, 6, ""),
]


def test_async_keeps_what_it_read_and_drops_the_call_that_did_not_hold():
    ep = episode(LOOKUP, user=USER, answer_tokens=3)
    assert log(run(ep, POLICIES["async"], false_endpoint_scenario())) == [
        *ASYNC_START,
        (1.2, "gen_start", 4, "", 0, 3, "input"),
        (1.2, "speech_end", 0, "", 0, 0, ""),
        (1.2, "gen_end", 4, "", 0, 0, "input"),
        (1.6, "endpoint", 0, "", 0, 6, ""),
        (1.6, "gen_start", 5, "a", 1, 0, "call"),
        (2.6, "gen_end", 5, "a", 1, 10, "call"),
        (2.6, "tool_start", 0, "a", 1, 0, "lookup"),
        (3.6, "tool_end", 0, "a", 1, 0, ""),
        (3.6, "gen_start", 6, "", 0, 4, "answer"),
        (3.9, "gen_end", 6, "", 0, 3, "answer"),
        (3.7, "first_token", 6, "", 0, 0, ""),
        (3.9, "turn_end", 0, "", 0, 0, ""),
        (3.7, "first_audio", 0, "", 0, 0, ""),
        (4.518, "playback_end", 0, "", 0, 0, ""),
    ]


def test_speculative_guesses_again_once_the_arguments_are_heard():
    ep = episode(LOOKUP, user=USER, answer_tokens=3)
    rows = run(ep, POLICIES["speculative"], false_endpoint_scenario(
        speculation={"accuracy": 1.0}))
    assert log(rows) == [
        *ASYNC_START,
        (1.2, "gen_start", 4, "a", 1, 3, "call"),      # all five words of its arguments
        (1.2, "speech_end", 0, "", 0, 0, ""),
        (1.6, "endpoint", 0, "", 0, 6, ""),
        (1.6, "confirm", 0, "a", 1, 0, ""),
        (2.2, "gen_end", 4, "a", 1, 10, "call"),
        (2.2, "tool_start", 0, "a", 1, 1, "lookup"),
        (3.2, "tool_end", 0, "a", 1, 0, ""),
        (3.2, "gen_start", 5, "", 0, 4, "answer"),
        (3.5, "gen_end", 5, "", 0, 3, "answer"),
        (3.3, "first_token", 5, "", 0, 0, ""),
        (3.5, "turn_end", 0, "", 0, 0, ""),
        (3.3, "first_audio", 0, "", 0, 0, ""),
        (4.118, "playback_end", 0, "", 0, 0, ""),
    ]
    m = turn_metrics(rows)[0]
    assert (m["false_endpoints"], m["resumes"], m["cut_off"]) == (1, 1, 0)
    assert m["false_start_tokens"] == 2 and m["wasted_tokens"] == 2
    assert m["turn_latency"] == pytest.approx(3.5 - 1.2)
    assert m["endpoint_delay"] == pytest.approx(0.4)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30))
def test_a_false_endpoint_commits_at_pause_start_plus_silence_and_resumes_at_its_end(
        pause, silence):
    pause, silence = pause / 10, silence / 10
    rows = run(episode([], user=USER, answer_tokens=3),
               SyncPolicy, false_endpoint_scenario(pause=pause, silence=silence))
    endpoints = [(r.t, r.label) for r in rows if r.event == "endpoint"]
    end = 0.6 + pause
    if pause > silence:
        assert endpoints == [(pytest.approx(0.2 + silence), "false"),
                             (pytest.approx(end + silence), "")]
        assert times(rows, "resume") == [pytest.approx(0.2 + pause)]
    else:
        assert endpoints == [(pytest.approx(end + silence), "")]
        assert times(rows, "resume") == []


def test_an_answer_heard_before_the_user_resumes_cuts_them_off():
    rows = run(episode([], user=USER, answer_tokens=3), SyncPolicy,
               false_endpoint_scenario(pause=2.0))
    m = turn_metrics(rows)[0]
    assert (m["false_endpoints"], m["cut_off"]) == (1, 1)
    cut = next(r for r in rows if r.event == "cut_off")
    # the false answer's audio, from its first token at 0.7, had all played (2.25 words
    # at 165 words/min) when the user resumed at 2.2
    assert (cut.t, cut.seconds) == (pytest.approx(2.2), pytest.approx(2.25 / 165 * 60))
    long = run(episode([], user=USER, answer_tokens=300), SyncPolicy,
               false_endpoint_scenario(pause=2.0))
    cut = next(r for r in long if r.event == "cut_off")
    assert cut.seconds == pytest.approx(2.2 + 0.5 - 0.7)  # stopped 0.5 s into the resume
    assert m["first_audio_latency"] == pytest.approx(0.5)  # the real answer's, 0.4 + 0.1
    assert m["false_start_tokens"] == 3


def test_the_model_detector_commits_after_min_delay_when_it_says_done():
    ep = episode([], user=USER, answer_tokens=3)

    def endpoints(**detector):
        sc = false_endpoint_scenario(detector={"mode": "model", **detector})
        return [(round(r.t, 3), r.label) for r in run(ep, SyncPolicy, sc)
                if r.event == "endpoint"]

    assert endpoints(min_delay=0.3, done_at_pause=1.0) == [(0.5, "false"), (1.5, "")]
    assert endpoints(min_delay=0.3, done_at_pause=0.0) == [(1.5, "")]  # 3 s > the pause
    assert endpoints(min_delay=0.3, max_delay=2.0, done_at_end=0.0) == [(3.2, "")]


def test_a_barge_in_starts_the_next_utterance_over_the_answer():
    ep = episode([], user=USER, answer_tokens=30)
    ep = dataclasses.replace(ep, turns=ep.turns * 2)
    sc = false_endpoint_scenario(pause=0.0, interruption={"barge_in": 1.0})
    rows = run(ep, SyncPolicy, sc)
    barge = next(r for r in rows if r.event == "barge_in")
    second = [r.t for r in rows if r.event == "speech_start"][1]
    assert second == pytest.approx(barge.t) and barge.t < times(rows, "playback_end")[0]
    assert [m["barge_ins"] for m in turn_metrics(rows)] == [1, 1]


def test_a_backchannel_pauses_the_answer_for_the_timeout():
    ep = episode([], user=USER, answer_tokens=30)
    plain = run(ep, SyncPolicy, false_endpoint_scenario(pause=0.0))
    sc = false_endpoint_scenario(pause=0.0, interruption={"barge_in": 1.0, "backchannel": 1.0,
                                                          "false_interruption_timeout": 2.0})
    rows = run(ep, SyncPolicy, sc)
    assert times(rows, "playback_end")[0] == pytest.approx(times(plain, "playback_end")[0] + 2)
    assert turn_metrics(rows)[0]["false_interruptions"] == 1


def test_the_old_endpointing_key_is_the_silence_detector():
    old = scenario(endpointing={"silence": 0.3})
    assert old.turn_detection == scenario(turn_detection={"silence": 0.3}).turn_detection
    with pytest.raises(InputError, match="endpointing.delay: unknown key"):
        scenario(endpointing={"delay": 0.3})
    with pytest.raises(InputError, match="max_delay: must be >= min_delay"):
        scenario(turn_detection={"mode": "model", "min_delay": 2.0, "max_delay": 1.0})
    with pytest.raises(InputError, match="turn_detection.mode: must be one of silence, model"):
        scenario(turn_detection={"mode": "vad"})


# ---- properties over random turns, pauses and detectors ---------------------------------

@st.composite
def hesitant(draw):
    """A random turn spoken with random hesitations to a random detector."""
    ep, tools = draw(turns())
    detector = draw(st.sampled_from([
        {"silence": draw(st.sampled_from([0.0, 0.2, 0.5]))},
        {"mode": "model", "min_delay": 0.2, "max_delay": 1.0,
         "done_at_pause": draw(st.sampled_from([0.0, 0.5, 1.0])),
         "done_at_end": draw(st.sampled_from([0.5, 1.0]))}]))
    sc = scenario(asr={"interval": 0.1}, turn_detection=detector,
                  speech={"pause": draw(st.sampled_from([0.0, 0.3, 1.2])), "hesitation": {
                      "rate": draw(st.sampled_from([0.0, 0.3, 1.0])),
                      "duration": {"dist": "uniform", "low": 0.05, "high": 1.5},
                      "filler": 0.5}},
                  speculation={"accuracy": draw(st.sampled_from([0.5, 1.0])),
                               "premature_rate": draw(st.sampled_from([0.0, 0.3])),
                               "at_pause": draw(st.booleans())},
                  interruption={"barge_in": draw(st.sampled_from([0.0, 0.5, 1.0])),
                                "backchannel": draw(st.sampled_from([0.0, 0.5]))},
                  seed=draw(st.integers(0, 1000)), **tools)
    return dataclasses.replace(ep, turns=ep.turns * draw(st.integers(1, 2))), sc


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hesitant())
def test_no_audio_before_a_commit_no_cut_off_without_a_false_endpoint_no_call_lost(case):
    ep, sc = case
    for policy in POLICIES.values():
        rows = run(ep, policy, sc)
        commits = times(rows, "endpoint")
        for audio in times(rows, "first_audio"):
            assert any(c <= audio + 1e-9 for c in commits)
        for turn, m in enumerate(turn_metrics(rows)):
            mine = [r for r in rows if r.turn == turn]
            final = [r for r in mine if r.event == "endpoint"][-1]
            assert final.label == "" and times(mine, "first_audio")[-1] >= final.t - 1e-9
            assert m["cut_off"] <= m["false_endpoints"] <= m["resumes"]
            done = surviving(mine)
            assert sorted(c for c, _ in done) == sorted(c.id for c in ep.turns[turn].calls)


@settings(max_examples=100, deadline=None)
@given(turns(), st.sampled_from([0.3, 0.5, 1.0]))
def test_preemptive_is_sync_begun_earlier_when_the_transcript_never_changes(case, silence):
    ep, tools = case
    sc = scenario(asr={"interval": 0.1}, turn_detection={"silence": silence}, **tools)
    pre, sync = run(ep, PreemptivePolicy, sc), run(ep, SyncPolicy, sc)
    a, b = turn_metrics(pre)[0], turn_metrics(sync)[0]
    for same in ("prefill_tokens", "decode_tokens", "tool_calls", "wasted_tokens"):
        assert a[same] == b[same]
    saved = silence - 0.2  # the tentative end comes 0.2 s of silence after speech end
    assert b["turn_latency"] - saved - 1e-9 <= a["turn_latency"] <= b["turn_latency"] + 1e-9
    assert a["turn_latency"] >= silence - 1e-9  # nothing is done before the commit


def test_the_timeline_marks_the_false_endpoint_the_resume_and_the_cut_off():
    from rtsim.reports.timeline_data import OUTPUT, SPEECH, turn_timeline

    rows = run(episode([], user=USER, answer_tokens=3), SyncPolicy,
               false_endpoint_scenario(pause=2.0))
    tl = turn_timeline(rows, 0)
    marks = [(m.lane, m.kind, round(m.t, 3)) for m in tl.marks if m.kind != "answer_done"]
    assert marks == [(SPEECH, "false_endpoint", 0.6), (SPEECH, "resume", 2.2),
                     (OUTPUT, "cut_off", 2.2), (SPEECH, "endpoint", 3.0)]
    cut = [s for s in tl.segments if s.lane == OUTPUT and s.wasted]
    assert [(round(s.start, 3), round(s.end, 3)) for s in cut] == [(0.7, 1.518)]


def test_without_hesitations_or_long_pauses_the_old_policies_see_no_new_event():
    from rtsim.engine.draws import realize
    from rtsim.engine.simpy_driver import simulate_episode
    from rtsim.scenario.load import load_scenario
    from rtsim.traces.sets import load_trace_set

    sc = load_scenario("cloud-realtime", ["speech.hesitation.rate=0", "speech.pause=0.3"])
    new = {"pause", "resume", "cut_off", "barge_in", "backchannel"}
    for k, ep in enumerate(load_trace_set("assistant")[:6]):
        for name in ("sync", "async", "speculative"):
            rows = simulate_episode(realize(sc, ep, k, 0), POLICIES[name], sc)
            assert not {r.event for r in rows} & new
            assert all(r.label == "" for r in rows if r.event == "endpoint")
