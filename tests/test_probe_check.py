"""`rtsim check --speculation model`: the real model's guesses, judged against its own call
on the complete utterance, decide what the speculative policy confirms or revises."""

import asyncio

import pytest
from click.testing import CliRunner

from rtsim.cli import main
from rtsim.engine.draws import realize
from rtsim.policies import POLICIES
from rtsim.policies.events import CallWritten
from rtsim.real.driver import play_episode
from rtsim.traces.schema import parse_episode
from tests.fakebackend import TimedBackend
from tests.helpers import call, scenario

SC = scenario(tools={"lookup": {"latency": 0.2}}, model={"decode_rate": 50},
              tts={"words_per_minute": 6000}, speculation={"accuracy": 1.0},
              asr={"interval": 0.05})


def weather(safe=True):
    c = dict(call("w", 5, name="lookup", known_at=3, safe=safe), arguments={"city": "Paris"})
    return parse_episode({"id": "ep", "turns": [{
        "user": "weather in Paris please, and take your time with it", "answer_tokens": 3,
        "steps": [{"calls": [c]}]}]}, "test")


def play(reference, written=None, safe=True, decode_rate=50):
    backend = TimedBackend(overhead=0.0, decode_rate=decode_rate,
                           arguments=written or {"city": "Paris"})
    ep = weather(safe)
    refs = None if reference is None else {(0, "w"): reference}
    return asyncio.run(play_episode(realize(SC, ep, 0, 0), POLICIES["speculative"], SC,
                                    backend, 30, forced_calls=True, references=refs))


def calls_of(rows):
    return [(r.event, r.call, r.attempt, r.label) for r in rows
            if r.event in ("call_guess", "confirm", "discard")]


def test_a_right_guess_is_confirmed():
    assert calls_of(play({"city": "paris"})) == [("call_guess", "w", 0, "right"),
                                                 ("confirm", "w", 0, "")]


@pytest.mark.parametrize("safe, reason", [(True, "revised"), (False, "withdrawn")])
def test_a_wrong_guess_is_thrown_away_at_the_commit_and_written_again(safe, reason):
    rows = play({"city": "Rome"}, safe=safe)
    assert calls_of(rows) == [("call_guess", "w", 0, "wrong"), ("discard", "w", 0, reason)]
    assert [r.attempt for r in rows if r.event == "gen_start" and r.call == "w"] == [0, 1]


def test_a_wrong_guess_judged_after_the_commit_is_revised_then():
    rows = play({"city": "Rome"}, decode_rate=4)  # the guess takes 1.25 s, past the commit
    endpoint = next(r.t for r in rows if r.event == "endpoint")
    judged = next(r.t for r in rows if r.event == "call_guess")
    assert judged > endpoint
    assert calls_of(rows) == [("confirm", "w", 0, ""), ("call_guess", "w", 0, "wrong"),
                              ("discard", "w", 0, "revised")]
    assert [r.attempt for r in rows if r.event == "gen_start" and r.call == "w"] == [0, 1]


def test_without_references_rightness_stays_drawn():
    assert calls_of(play(None, written={"city": "Rome"})) == [("confirm", "w", 0, "")]


def test_a_verdict_for_another_attempt_changes_nothing():
    ep = weather()
    policy = POLICIES["speculative"](realize(SC, ep, 0, 0).turns[0].plan,
                                     rng=None, settings=SC.speculation)
    assert policy.on_event(CallWritten("w", 3, False)) == []  # no live attempt at all


def test_check_rejects_an_unknown_speculation_mode():
    result = CliRunner().invoke(main, ["check", "--speculation", "oracle"])
    assert result.exit_code == 2 and "'oracle' is not one of 'drawn', 'model'" in result.output


def test_a_server_down_before_the_references_is_one_line(tmp_path):
    pytest.importorskip("httpx")
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: p\ntraces: assistant\nmodel: {decode_rate: 50}\n")
    result = CliRunner().invoke(main, ["check", "-b", "http://127.0.0.1:9/v1", "-m", "x",
                                       "--profile", str(profile), "-n", "1", "-p", "speculative",
                                       "--speculation", "model", "-o", str(tmp_path / "c")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "asking the model for its calls" in result.output
    assert "127.0.0.1:9" in result.output.splitlines()[-1]
