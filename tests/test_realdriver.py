"""The real driver runs the same policies on the wall clock, with a model that streams.

Against a backend that streams on the latency model's own schedule, the real driver must
write the simulator's event log: the same facts, at the same times up to scheduling jitter.
"""

import asyncio
import dataclasses

import pytest

from rtsim.engine.draws import realize
from rtsim.engine.metrics import turn_metrics
from rtsim.policies import POLICIES
from rtsim.real.conversation import Conversation, filler
from rtsim.real.driver import EpisodeFailed, play_episode
from rtsim.traces.schema import parse_episode
from tests.fakebackend import TimedBackend
from tests.helpers import call, episode, run, scenario

SC = scenario(tools={"lookup": {"latency": 0.37}, "search": {"latency": 0.61},
                     "send": {"latency": 0.23, "safe": False}},
              model={"decode_rate": 9}, tts={"words_per_minute": 6000},
              speculation={"accuracy": 1.0})
USER = "text Bob that I am late"
JITTER = 0.06  # seconds: the event loop's lateness on a busy two-core machine


def two_step():
    return episode([[call("a", 4, output_tokens=4, name="lookup", known_at=2),
                     call("c", 2, output_tokens=2, name="search", known_at=4)],
                    [call("b", 3, deps=["a"], name="send", known_at=4)]],
                   user=USER, answer_tokens=3)


def keyed(rows):
    """{(turn, event, gen, call, attempt, tokens): time} of an event log."""
    out = {}
    for r in rows:
        out.setdefault((r.turn, r.event, r.gen, r.call, r.attempt, r.tokens), r.t)
    return out


# the pause after "Bob," (0.2-0.8 s) outlasts the 0.4 s silence: a false endpoint at 0.6 s
FALSE_END = scenario(tools={"lookup": {"latency": 0.37}, "search": {"latency": 0.61},
                            "send": {"latency": 0.23, "safe": False}},
                     model={"decode_rate": 9}, tts={"words_per_minute": 6000},
                     speech={"pause": 0.6}, turn_detection={"silence": 0.4},
                     speculation={"accuracy": 1.0})


def check_same_log(ep, policy, sc):
    """The real driver's log has the simulator's facts at the simulator's times."""
    simulated_rows = run(ep, POLICIES[policy], sc)
    simulated = keyed(simulated_rows)
    backend = TimedBackend(overhead=0.0, decode_rate=9)
    rows = asyncio.run(play_episode(realize(sc, ep, 0, 0), POLICIES[policy], sc, backend, 30))
    measured = keyed(r for r in rows if r.event != "gen_reply")  # real runs only
    assert measured.keys() == simulated.keys()
    late = {k: round(measured[k] - simulated[k], 3) for k in simulated
            if abs(measured[k] - simulated[k]) > JITTER}
    assert late == {}
    sim_turn = turn_metrics(simulated_rows)[0]
    real_turn = turn_metrics(rows)[0]
    assert real_turn["turn_latency"] == pytest.approx(sim_turn["turn_latency"], abs=JITTER)
    return real_turn


@pytest.mark.parametrize("policy", list(POLICIES))
def test_real_driver_writes_the_simulators_log(policy):
    check_same_log(two_step(), policy, SC)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_real_driver_plays_a_false_endpoint_and_the_resume_as_simulated(policy):
    ep = episode([[call("a", 4, output_tokens=4, name="lookup", known_at=5)]],
                 user="text Bob, that I am late", answer_tokens=3)
    turn = check_same_log(ep, policy, FALSE_END)
    assert (turn["false_endpoints"], turn["resumes"]) == (1, 1)


def test_a_cancelled_generation_closes_its_stream():
    sc = scenario(speculation={"accuracy": 1.0, "premature_rate": 1.0},
                  tools={"lookup": {"latency": 0.2}}, tts={"words_per_minute": 6000})
    ep = episode([[call("a", 6, output_tokens=3, name="lookup", known_at=5)]],
                 user="one two three four five six seven eight nine ten eleven twelve")
    backend = TimedBackend(overhead=0.0, decode_rate=10)
    rows = asyncio.run(play_episode(realize(sc, ep, 0, 0), POLICIES["speculative"], sc,
                                    backend, 30))
    assert [r.event for r in rows].count("discard") >= 1
    stopped = [r for r in rows if r.event == "gen_stop"]
    assert len(stopped) == backend.closed_early >= 1


def test_prompts_only_grow_so_the_prompt_cache_can_work():
    backend = TimedBackend(overhead=0.0, decode_rate=50)
    asyncio.run(play_episode(realize(SC, two_step(), 0, 0), POLICIES["async"], SC, backend, 30))
    for before, after in zip(backend.prompts, backend.prompts[1:], strict=False):
        assert len(after) >= len(before)
        assert after[:len(before) - 1] == before[:-1]
        assert after[len(before) - 1]["content"].startswith(before[-1]["content"])
    assert "text Bob that I am late" in " ".join(m["content"] for m in backend.prompts[-1])


def test_a_backend_failure_fails_the_episode_with_its_reason():
    backend = TimedBackend(overhead=0.0, decode_rate=50, fail_after=2)
    with pytest.raises(EpisodeFailed, match="HTTP 500"):
        asyncio.run(play_episode(realize(SC, two_step(), 0, 0), POLICIES["sync"], SC,
                                 backend, 30))


def test_conversation_reads_heard_words_then_results():
    chat = Conversation(3)
    chat.begin_turn(("hello", "there", "world"), (0, 1, 2, 3))
    chat.hear(2)
    chat.read(2)
    chat.wrote("ok")
    chat.hear(3)
    chat.read(1 + 4)
    assert chat.prompt() == [
        {"role": "system", "content": filler(3)},
        {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "world Tool result: data data data data"},
    ]


@pytest.mark.parametrize("written, verdict", [({"city": "paris "}, "match"),
                                              ({"city": "Rome"}, "mismatch"),
                                              (None, "invalid")])
def test_forced_calls_are_checked_against_the_trace(written, verdict):
    c = dict(call("w", 5, name="lookup", known_at=None), arguments={"city": "Paris"})
    ep = parse_episode({"id": "ep", "turns": [{
        "user": "weather in Paris please", "answer_tokens": 3,
        "steps": [{"reasoning_tokens": 2, "calls": [c]}]}]}, "test")
    backend = TimedBackend(overhead=0.0, decode_rate=50, arguments=written)
    rows = asyncio.run(play_episode(realize(SC, ep, 0, 0), POLICIES["async"], SC, backend, 30,
                                    forced_calls=True))
    checked = [(r.event, r.call, r.tokens, r.label) for r in rows if r.event == "call_args"]
    assert checked == [("call_args", "w", 5, verdict)]
    assert {"name": "lookup", "parameters": {"type": "object", "required": ["city"],
            "properties": {"city": {"type": "string"}}}} in backend.tools
    ends = [r.tokens for r in rows if r.event == "gen_end" and r.call == "w"]
    assert ends == [7]  # two reasoning tokens, then the five of the call


@pytest.mark.parametrize("spec", [{"accuracy": 0.0, "confirm_error": 1.0},
                                  {"accuracy": 1.0, "revise_error": 1.0}])
def test_real_driver_plays_commit_errors_as_simulated(spec):
    sc = dataclasses.replace(SC, speculation=dataclasses.replace(SC.speculation, **spec))
    turn = check_same_log(two_step(), "speculative", sc)
    if spec.get("confirm_error"):  # lookup guessed wrong and kept; send built on it
        assert (turn["wrong_calls"], turn["wrong_unsafe_calls"], turn["task_success"]) == (
            2, 1, 0)
    else:
        assert (turn["wrong_calls"], turn["task_success"], turn["spec_hits"]) == (0, 1, 0)
