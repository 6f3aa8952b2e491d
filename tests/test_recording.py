"""Recorded episodes replay what was measured: the same speech and tool timing."""

import pytest

from rtsim.engine.draws import realize
from rtsim.engine.metrics import turn_metrics
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.policies import POLICIES
from rtsim.real.measured_traces import recorded_episode
from rtsim.scenario.load import load_scenario
from rtsim.traces.schema import load_traces, parse_episode, write_traces
from rtsim.traces.sets import load_trace_set


def test_a_recorded_episode_replays_its_measured_timing(tmp_path):
    sc = load_scenario("cloud-realtime")
    episodes = load_trace_set("assistant")[:4]
    rows, originals = [], []
    for k, episode in enumerate(episodes):
        draws = realize(sc, episode, k, 0)
        run = simulate_episode(draws, POLICIES["sync"], sc)
        rows.append(recorded_episode(episode, draws, run))
        originals.append((draws, run))
    write_traces(rows, tmp_path / "measured.jsonl")
    replayed = load_traces(tmp_path / "measured.jsonl")
    other = load_scenario("cloud-realtime", ["seed=99"])  # other draws: measured ones win
    for k, (episode, (draws, _run)) in enumerate(zip(replayed, originals, strict=True)):
        assert episode.source == "measured:builtin"
        again = realize(other, episode, k, 0)
        for d0, d1 in zip(draws.turns, again.turns, strict=True):
            assert d1.word_ends == pytest.approx(d0.word_ends, abs=1e-6)
            assert d1.tool_latency == pytest.approx(d0.tool_latency, abs=1e-6)
        assert [c.tokens for t in episode.turns for c in t.calls] == \
            [c.tokens for t in episodes[k].turns for c in t.calls]


def test_a_bad_latency_is_named(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "e", "turns": [{"user": "hi there", "answer_tokens": 3, "steps": '
                    '[{"calls": [{"id": "c", "name": "x", "output_tokens": 2, '
                    '"latency": -1}]}]}]}\n')
    with pytest.raises(Exception, match=r"latency: must be a number of seconds >= 0, got -1"):
        load_traces(path)


def test_turn_metrics_of_a_replay_match_when_the_model_is_the_same():
    sc = load_scenario("edge-3b", ["seeds=1"])
    episode = load_trace_set("assistant")[0]
    draws = realize(sc, episode, 0, 0)
    run = simulate_episode(draws, POLICIES["async"], sc)
    replay = parse_episode(recorded_episode(episode, draws, run), "recorded")
    again = simulate_episode(realize(sc, replay, 0, 0), POLICIES["async"], sc)
    first = [m["turn_latency"] for m in turn_metrics(run)]
    assert [m["turn_latency"] for m in turn_metrics(again)] == pytest.approx(first, abs=1e-5)
