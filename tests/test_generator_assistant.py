"""The personal-assistant episode generator and the built-in set it produced."""

from pathlib import Path

import pytest

from rtsim.traces.generators.assistant import generate
from rtsim.traces.generators.assistant_world import SAFE
from rtsim.traces.schema import load_traces, parse_episode, write_traces

BUILTIN = Path(__file__).resolve().parents[1] / "scenarios" / "traces" / "assistant.jsonl"


@pytest.fixture(scope="module")
def rows():
    return generate(36, 0)


@pytest.fixture(scope="module")
def episodes(rows):
    return [parse_episode(raw, raw["id"]) for raw in rows]


def calls_of(raw_turn: dict) -> list[dict]:
    return [call for step in raw_turn.get("steps", []) for call in step["calls"]]


def spoken(value) -> list[str]:
    """The string leaves of an argument value."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in spoken(item)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_every_episode_validates_with_unique_ids(seed):
    rows = generate(36, seed)
    assert len(rows) == 36
    assert len({raw["id"] for raw in rows}) == 36
    for raw in rows:
        parse_episode(raw, raw["id"])


def test_same_seed_same_output_and_seeds_differ():
    assert generate(12, 3) == generate(12, 3)
    assert generate(12, 3) != generate(12, 4)


def test_shapes_stay_in_the_documented_ranges(rows, episodes):
    for raw, episode in zip(rows, episodes, strict=True):
        assert raw["source"] == "builtin"
        assert 2 <= len(episode.turns) <= 5
        for number, (raw_turn, turn) in enumerate(zip(raw["turns"], episode.turns,
                                                      strict=True), start=1):
            assert 6 <= len(turn.words) <= 35, turn.user
            assert len(turn.calls) <= 4
            assert raw_turn["answer"].strip()
            assert 0 <= turn.answer_reasoning_tokens <= 40
            for step in raw_turn.get("steps", []):
                assert 0 <= step["reasoning_tokens"] <= 40
            for call in calls_of(raw_turn):
                assert 20 <= len(call["output"]) <= 400, call["output"]
                assert call["safe"] is SAFE[call["name"]]
                assert call["id"].startswith(f"t{number}c")


def test_set_mixes_the_kinds_of_turns_a_voice_agent_sees(rows, episodes):
    turns = [turn for episode in episodes for turn in episode.turns]
    calls = [(turn, call) for turn in turns for call in turn.calls]
    raw_steps = [step for raw in rows for t in raw["turns"] for step in t.get("steps", [])]
    assert any(not turn.calls for turn in turns), "a turn answered without tools"
    assert any(len(step["calls"]) >= 2 for step in raw_steps), "parallel calls in a step"
    assert any(turn.steps >= 3 for turn in turns), "a three-step chain"
    assert any(call.depends_on for _, call in calls), "dependent calls"
    assert any(not call.safe for _, call in calls), "unsafe calls"
    assert any(call.safe for _, call in calls), "safe calls"
    assert any(call.known_at is not None and call.known_at < len(turn.words)
               for turn, call in calls), "calls known before the last word"
    assert any(call.known_at is None for _, call in calls), "calls known only at the end"
    n = len(calls)
    assert 0.2 < sum(call.known_at is None for _, call in calls) / n < 0.6
    assert 0.2 < sum(not call.safe for _, call in calls) / n < 0.6


def test_dependent_calls_use_values_from_their_dependencies(rows):
    for raw in rows:
        for raw_turn in raw["turns"]:
            outputs = {call["id"]: call["output"] for call in calls_of(raw_turn)}
            for call in calls_of(raw_turn):
                if "depends_on" not in call:
                    continue
                derived = " ".join(outputs[dep] for dep in call["depends_on"])
                assert any(value in derived for value in spoken(call["arguments"])), call


def test_committed_builtin_set_is_the_seed_0_output(rows, tmp_path):
    expected = tmp_path / "assistant.jsonl"
    write_traces(rows, expected)
    assert BUILTIN.read_bytes() == expected.read_bytes()
    assert len(load_traces(BUILTIN)) == 36

