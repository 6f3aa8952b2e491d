"""Question-set importer: entity finding, exact episodes, bad rows, the LLMCompiler sets."""

import json
from pathlib import Path

import pytest

from rtsim.errors import InputError
from rtsim.traces.importers.questions import SEARCH_OUTPUT_TOKENS, find_entities, import_questions
from rtsim.traces.schema import parse_episode

SHARED = Path(__file__).parents[2] / "shared" / "data" / "llmcompiler"


@pytest.mark.parametrize(("question", "count", "expected"), [
    ("Which town is older, Springfield or Shelbyville?", 2, ["Springfield", "Shelbyville"]),
    ("Are Maya Angelou and Toni Morrison both poets?", 2, ["Maya Angelou", "Toni Morrison"]),
    ("Is the Tower of London or Big Ben older?", 2, ["Tower of London", "Big Ben"]),
    ("Between the River Thames and the Seine, which is longer?", 2, ["River Thames", "Seine"]),
    ("Who was born first, John Smith Jr. or Mary St. Clair?", 2,
     ["John Smith Jr.", "Mary St. Clair"]),
    ("If Lake Baikal's depth grew 10% and 42 Wallaby Way shrank 5%, which is bigger?", 2,
     ["Lake Baikal", "42 Wallaby Way"]),
    ("Given Mount Fuji grows by 3%, Ben Nevis by 4%, and K2 by 1%, which is tallest?", 3,
     ["Mount Fuji", "Ben Nevis", "K2"]),
    ("Compare the Nile, the Nile and the Amazon.", 2, ["Nile", "Amazon"]),
    ("is a cat or a dog faster?", 2, []),
    ("which is faster, a cheetah or a falcon?", 2, ["cheetah", "falcon"]),
])
def test_find_entities(question, count, expected):
    assert find_entities(question, count) == expected


def write(tmp_path, rows):
    path = tmp_path / "qa.json"
    path.write_text(rows if isinstance(rows, str) else json.dumps(rows))
    return path


def test_question_becomes_exact_episode(tmp_path):
    rows = [{"id": "q1", "question": "Which is longer, the Danube or the Rhine?",
             "answer": "the Danube"},
            {"id": 2, "question": "Were Ada Lovelace, Alan Turing and Grace Hopper "
                                  "all mathematicians?", "answer": "yes", "branch": 3}]
    first, second = import_questions(write(tmp_path, rows))
    assert first == {"id": "q1", "source": "questions:qa", "turns": [{
        "user": "Which is longer, the Danube or the Rhine?",
        "steps": [{"calls": [
            {"id": "c1", "name": "search", "arguments": {"entity": "Danube"}, "safe": True,
             "output_tokens": SEARCH_OUTPUT_TOKENS},
            {"id": "c2", "name": "search", "arguments": {"entity": "Rhine"}, "safe": True,
             "output_tokens": SEARCH_OUTPUT_TOKENS}]}],
        "answer": "the Danube"}]}
    turn = parse_episode(first, "x").turns[0]
    assert [c.known_at for c in turn.calls] == [5, 8]
    assert second["id"] == "2"
    assert [c["arguments"]["entity"] for c in second["turns"][0]["steps"][0]["calls"]] == [
        "Ada Lovelace", "Alan Turing", "Grace Hopper"]


def test_question_without_entities_searches_the_whole_question(tmp_path):
    [episode] = import_questions(write(tmp_path, [{"id": "a", "question": "is it raining?",
                                                   "answer": "no"}]))
    [call] = episode["turns"][0]["steps"][0]["calls"]
    assert call["arguments"] == {"entity": "is it raining?"}


def test_limit(tmp_path):
    rows = [{"id": str(i), "question": "Is Rome older than Paris?", "answer": "yes"}
            for i in range(5)]
    assert len(import_questions(write(tmp_path, rows), limit=2)) == 2


@pytest.mark.parametrize(("rows", "match"), [
    ('[{"id": "a", "question": ', r"qa\.json:1: not valid JSON"),
    (["just text"], r"qa\.json\[0\]: must be an object with id, question and answer"),
    ([{"id": "a", "answer": "x"}], r"qa\.json\[0\]: question: missing"),
    ([{"id": "a", "question": " ", "answer": "x"}], r"qa\.json\[0\]: question: empty"),
    ([{"id": "a", "question": "Is X big?", "answer": "x", "branch": 0}],
     r"qa\.json\[0\]: branch: must be a positive integer"),
    ([{"id": "a", "question": "Q?", "answer": "x"}, {"id": "a", "question": "Q?", "answer": "y"}],
     r"qa\.json\[1\]: id: duplicate id 'a'"),
])
def test_bad_rows_are_one_located_line(tmp_path, rows, match):
    with pytest.raises(InputError, match=match):
        import_questions(write(tmp_path, rows))


def _shared(name):
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is missing (reference data lives outside the repo)")
    return path


def test_hotpotqa_comparison_finds_two_entities_almost_always():
    episodes = import_questions(_shared("hotpotqa_comparison.json"))
    pairs = sum(len(e["turns"][0]["steps"][0]["calls"]) == 2 for e in episodes)
    assert len(episodes) == 1487
    assert pairs / len(episodes) > 0.99
    parsed = [parse_episode(e, e["id"]) for e in episodes]
    assert all(c.known_at is not None for e in parsed for c in e.turns[0].calls)


def test_parallelqa_finds_branch_entities_mostly():
    path = _shared("parallelqa_dataset.json")
    rows = json.loads(path.read_text())
    episodes = import_questions(path)
    hits = sum(len(e["turns"][0]["steps"][0]["calls"]) == r["branch"]
               for e, r in zip(episodes, rows, strict=True))
    assert len(episodes) == 113
    assert hits >= 105
