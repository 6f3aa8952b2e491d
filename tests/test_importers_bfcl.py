"""BFCL multi-turn importer: call parsing, step rules, exact episodes, the real data's counts."""

import importlib.util
import itertools
import json

import pytest

from rtsim.errors import InputError
from rtsim.traces.importers import bfcl, bfcl_exec
from rtsim.traces.importers.bfcl import HOLDOUT_PROMPT, import_bfcl, parse_call, plan_steps
from rtsim.traces.schema import parse_episode

DOCS = [
    {"name": "cd", "parameters": {"properties": {"folder": {"type": "string"}}},
     "response": {"properties": {"current_working_directory": {"type": "string"}}}},
    {"name": "ls", "parameters": {"properties": {"a": {"type": "boolean"}}},
     "response": {"properties": {"current_directory_content": {"type": "array"}}}},
    {"name": "cat", "parameters": {"properties": {"file_name": {"type": "string"}}},
     "response": {"properties": {"file_content": {"type": "string"}}}},
    {"name": "tail", "parameters": {"properties": {"file_name": {"type": "string"},
                                                   "lines": {"type": "integer"}}},
     "response": {"properties": {"last_lines": {"type": "string"}}}},
    {"name": "mv", "parameters": {"properties": {"source": {"type": "string"},
                                                 "destination": {"type": "string"}}}},
]
FUNCS = {doc["name"]: doc for doc in DOCS}


def write_bfcl(root, rows, truths, category="multi_turn_base", docs=DOCS):
    """A folder laid out like bfcl_eval/data with the given rows and ground truths."""
    (root / "possible_answer").mkdir(parents=True)
    (root / "multi_turn_func_doc").mkdir()
    name = f"BFCL_v4_{category}.json"
    (root / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "possible_answer" / name).write_text(
        "".join(json.dumps({"id": r["id"], "ground_truth": t}) + "\n"
                for r, t in zip(rows, truths, strict=True)))
    (root / "multi_turn_func_doc" / "gorilla_file_system.json").write_text(
        "".join(json.dumps(d) + "\n" for d in docs))
    return root


def row(id_, *texts, **extra):
    turns = [[{"role": "user", "content": t}] if t else [] for t in texts]
    return {"id": id_, "question": turns, "involved_classes": ["GorillaFileSystem"], **extra}


def test_parse_call_maps_positional_arguments_to_documented_names():
    assert parse_call("tail('log.txt', lines=20)", "x", FUNCS) == (
        "tail", {"file_name": "log.txt", "lines": 20})
    assert parse_call("undocumented(1, [2, 3], k={'a': None})", "x", FUNCS) == (
        "undocumented", {"arg0": 1, "arg1": [2, 3], "k": {"a": None}})


@pytest.mark.parametrize("text", ["cd(folder=", "cd(folder=x)", "cd", "cd(**kw)", 42,
                                  "cd(folder={[]: 1})", "f()()"])
def test_parse_call_rejects_what_is_not_a_literal_call(text):
    with pytest.raises(InputError, match=r"^f\.json:3: ground_truth\[0\]\[1\]: "):
        parse_call(text, "f.json:3: ground_truth[0][1]", FUNCS)


def test_steps_reads_in_parallel_writes_in_a_chain():
    calls = [("ls", {"a": True}), ("cat", {"file_name": "a.txt"}),
             ("mv", {"source": "a.txt", "destination": "b"}), ("cd", {"folder": "b"}),
             ("cat", {"file_name": "a.txt"}), ("tail", {"file_name": "a.txt"})]
    utterance = "list everything then show a.txt and move it to b"
    words = tuple(utterance.split())
    steps = plan_steps(calls, words, FUNCS, itertools.count(1))
    shape = [[(c["id"], c["safe"], c.get("depends_on")) for c in s["calls"]] for s in steps]
    assert shape == [
        [("c1", True, None), ("c2", True, None)],
        [("c3", False, ["c1", "c2"])],
        [("c4", False, ["c3"])],
        [("c5", True, ["c4"]), ("c6", True, ["c4"])],
    ]


def test_read_with_unspoken_values_opens_a_step():
    calls = [("ls", {"a": True}), ("cat", {"file_name": "secret.txt"})]
    steps = plan_steps(calls, ("show", "me"), FUNCS, itertools.count(1))
    assert [[c["id"] for c in s["calls"]] for s in steps] == [["c1"], ["c2"]]
    assert steps[1]["calls"][0]["depends_on"] == ["c1"]


def test_import_gives_exact_episode(tmp_path):
    root = write_bfcl(tmp_path, [row("multi_turn_base_0", "Go to docs and show notes.txt",
                                     "Thanks, nothing else")],
                      [[["cd(folder='docs')", "cat('notes.txt')"], []]])
    [episode] = import_bfcl("multi_turn_base", root=root)
    system = parse_episode(episode, "x").system_tokens
    assert system > 0
    assert episode == {
        "id": "multi_turn_base_0", "source": "bfcl:multi_turn_base", "system_tokens": system,
        "turns": [
            {"user": "Go to docs and show notes.txt", "answer_tokens": bfcl.ANSWER_TOKENS,
             "steps": [
                 {"calls": [{"id": "c1", "name": "cd", "arguments": {"folder": "docs"},
                             "safe": False, "output_tokens": 2 + 8 + 8}]},
                 {"calls": [{"id": "c2", "name": "cat", "arguments": {"file_name": "notes.txt"},
                             "safe": True, "output_tokens": 2 + 4 + 8,
                             "depends_on": ["c1"]}]}]},
            {"user": "Thanks, nothing else", "answer_tokens": bfcl.ANSWER_TOKENS, "steps": []},
        ]}
    turn = parse_episode(episode, "x").turns[0]
    assert [c.known_at for c in turn.calls] == [3, 6]


def test_missing_function_turn_gets_bfcl_prompt_and_limit_applies(tmp_path):
    rows = [row("multi_turn_miss_func_0", "List all files", "", missed_function={"1": ["ls"]}),
            row("multi_turn_miss_func_1", "Hello")]
    root = write_bfcl(tmp_path, rows, [[[], ["ls(a=True)"]], [[]]],
                      category="multi_turn_miss_func")
    episodes = import_bfcl("multi_turn_miss_func", limit=1, root=root)
    assert len(episodes) == 1
    assert [t["user"] for t in episodes[0]["turns"]] == ["List all files", HOLDOUT_PROMPT]


def test_excluded_functions_leave_the_system_prompt(tmp_path):
    rows = [row("a", "Hi"), row("b", "Hi", excluded_function=["cat", "tail", "mv"])]
    root = write_bfcl(tmp_path, rows, [[[]], [[]]])
    full, reduced = (e["system_tokens"] for e in import_bfcl(root=root))
    assert reduced < full


def test_bad_call_string_names_file_row_and_field(tmp_path):
    root = write_bfcl(tmp_path, [row("multi_turn_base_0", "Go")], [[["cd(folder='x'"]]])
    with pytest.raises(InputError) as info:
        import_bfcl(root=root)
    message = str(info.value)
    assert "possible_answer" in message and ":1: ground_truth[0][0]: cannot parse call" in message
    assert "\n" not in message


def test_turn_count_mismatch_and_missing_truth(tmp_path):
    root = write_bfcl(tmp_path, [row("a", "one", "two")], [[["ls()"]]])
    with pytest.raises(InputError, match="ground_truth: must list one entry per turn"):
        import_bfcl(root=root)


def test_unknown_category_lists_the_valid_ones(tmp_path):
    with pytest.raises(InputError, match="multi_turn_base, multi_turn_long_context"):
        import_bfcl("multi_turn_nope", root=tmp_path)


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match="pip install --no-deps bfcl-eval"):
        import_bfcl()


def test_output_estimate_from_response_schema():
    assert bfcl.output_tokens(None) == bfcl.UNKNOWN_OUTPUT_TOKENS
    key = len('"current_directory_content": ')  # 29 characters: 8 tokens
    assert key == 29
    assert bfcl.output_tokens(FUNCS["ls"]) == 2 + 8 + bfcl.VALUE_TOKENS["array"]


def test_execute_gives_simulator_outputs(tmp_path):
    pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed")
    files = {"type": "directory", "contents": {"notes.txt": {"type": "file", "content": "hi"}}}
    config = {"GorillaFileSystem": {"root": {"home": files}}}
    root = write_bfcl(tmp_path, [row("a", "Show notes.txt", initial_config=config)],
                      [[["cat(file_name='notes.txt')", "cat(file_name='gone.txt')"]]])
    [episode] = import_bfcl(root=root, execute=True)
    outputs = [c["output"] for s in episode["turns"][0]["steps"] for c in s["calls"]]
    assert outputs[0] == '{"file_content": "hi"}'
    assert "gone.txt" in outputs[1]


def test_execute_names_a_missing_simulator_dependency(tmp_path, monkeypatch):
    def missing(name):
        raise ModuleNotFoundError("No module named 'mpmath'", name="mpmath")

    monkeypatch.setattr(bfcl_exec.importlib, "import_module", missing)
    root = write_bfcl(tmp_path, [row("a", "Hi")], [[[]]])
    with pytest.raises(InputError, match="needs the mpmath package: pip install mpmath"):
        import_bfcl(root=root, execute=True)


def test_real_multi_turn_base_counts():
    pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed")
    episodes = [parse_episode(e, e["id"]) for e in import_bfcl("multi_turn_base")]
    turns = [t for e in episodes for t in e.turns]
    assert (len(episodes), len(turns), sum(len(t.calls) for t in turns)) == (200, 734, 1142)


@pytest.mark.parametrize("category", bfcl.CATEGORIES[1:])
def test_real_other_categories_import(category):
    pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed")
    episodes = [parse_episode(e, e["id"]) for e in import_bfcl(category)]
    assert len(episodes) == 200
