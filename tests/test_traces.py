"""Trace loading: validation errors name line and field; known_at from the utterance."""

import json

import pytest

from rtsim.errors import InputError
from rtsim.traces.knownat import compute_known_at
from rtsim.traces.schema import load_traces, parse_episode


def turn(user="call Bob at 7 pm", **kw):
    base = {"user": user, "answer": "Done."}
    base.update(kw)
    return base


def write(tmp_path, *episodes):
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in episodes))
    return path


@pytest.mark.parametrize("episode,message", [
    ({"turns": [turn()]}, ":2: id: missing"),
    ({"id": "b", "turns": []}, ":2: turns: must not be empty"),
    ({"id": "b", "turns": [turn(extra=1)]}, ":2: turns[0].extra: unknown field"),
    ({"id": "b", "turns": [turn(steps=[{"calls": [{"id": "c", "name": "x"}]}])]},
     ":2: turns[0].steps[0].calls[0].output: missing"),
    ({"id": "a", "turns": [turn()]}, ":2: id: duplicate episode id 'a'"),
    ({"id": "b", "turns": [turn(word_times=[[0, 1]])]}, ":2: turns[0].word_times: has 1 pair for"),
    ({"id": "b", "date": "2024-02-30", "turns": [turn()]},
     ":2: date: must be a date YYYY-MM-DD, got '2024-02-30'"),
    ({"id": "b", "date": "20240614", "turns": [turn()]}, ":2: date: must be a date YYYY-MM-DD"),
    ({"id": "b", "date": 20240614, "turns": [turn()]}, ":2: date: must be a string"),
])
def test_first_bad_line_and_field_are_named(tmp_path, episode, message):
    path = write(tmp_path, {"id": "a", "turns": [turn()]}, episode)
    with pytest.raises(InputError) as err:
        load_traces(path)
    assert str(err.value).startswith(f"{path}{message}")


def test_not_json_and_dependencies_across_turns(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("{oops\n")
    with pytest.raises(InputError, match=r"x.jsonl:1: not valid JSON"):
        load_traces(path)
    call = {"id": "c1", "name": "lookup", "output": "bob@example.com"}
    later = {"id": "c2", "name": "send", "output": "ok", "depends_on": ["c1"]}
    raw = {"id": "e", "turns": [turn(steps=[{"calls": [call]}]),
                                turn(steps=[{"calls": [later]}])]}
    with pytest.raises(InputError, match="not a call of an earlier step of this turn"):
        parse_episode(raw, "f:1")


def test_known_at_follows_the_spoken_values():
    words = tuple("remind me to call Bob at 7 pm tomorrow".split())
    assert compute_known_at({"who": "Bob"}, words) == 5
    assert compute_known_at({"who": "Bob", "when": "7 pm"}, words) == 8
    assert compute_known_at({"n": 7}, words) == 7
    assert compute_known_at({"who": "Alice"}, words) is None
    assert compute_known_at({"flag": True}, words) == 0
    assert compute_known_at({"email": "b1@x.org", "who": "Bob"}, words,
                            ("found b1@x.org",)) == 5


def test_values_from_earlier_turns_are_known():
    lookup = {"id": "c1", "name": "find", "arguments": {"q": "sushi"},
              "output": "Sakura, id r-17"}
    book = {"id": "c2", "name": "book", "arguments": {"restaurant": "r-17", "people": 2},
            "output": "booked", "safe": False}
    ep = parse_episode({"id": "e", "turns": [
        turn("find sushi nearby", steps=[{"calls": [lookup]}]),
        turn("book it for two people please", steps=[{"calls": [book]}])]}, "f:1")
    assert ep.turns[0].calls[0].known_at == 2
    assert ep.turns[1].calls[0].known_at == 4
    assert ep.turns[1].calls[0].safe is False


def test_the_episodes_date_is_what_tomorrow_is_heard_against():
    book = {"id": "c1", "name": "book", "arguments": {"day": "2024-06-13"}, "output": "ok"}
    raw = {"id": "e", "turns": [turn("book it for tomorrow", steps=[{"calls": [book]}])]}
    assert parse_episode(raw, "f:1").turns[0].calls[0].known_at == 4
    assert parse_episode({**raw, "date": "2024-06-12"}, "f:1").turns[0].calls[0].known_at == 4
    assert parse_episode({**raw, "date": "2024-06-11"}, "f:1").turns[0].calls[0].known_at is None
