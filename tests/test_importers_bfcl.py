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
    [episode] = import_bfcl("multi_turn_base", root=root).episodes
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
    episodes = import_bfcl("multi_turn_miss_func", limit=1, root=root).episodes
    assert len(episodes) == 1
    assert [t["user"] for t in episodes[0]["turns"]] == ["List all files", HOLDOUT_PROMPT]


def test_excluded_functions_leave_the_system_prompt(tmp_path):
    rows = [row("a", "Hi"), row("b", "Hi", excluded_function=["cat", "tail", "mv"])]
    root = write_bfcl(tmp_path, rows, [[[]], [[]]])
    full, reduced = (e["system_tokens"] for e in import_bfcl(root=root).episodes)
    assert reduced < full


def test_bad_call_string_skips_the_record_naming_file_row_and_field(tmp_path):
    root = write_bfcl(tmp_path, [row("a", "Go"), row("b", "Go")],
                      [[["cd(folder='x'"]], [["cd(folder='x')"]]])
    imported = import_bfcl(root=root)
    assert [e["id"] for e in imported.episodes] == ["b"]
    [reason] = imported.skipped
    assert "possible_answer" in reason and ":1: ground_truth[0][0]: cannot parse call" in reason


def test_turn_count_mismatch_and_missing_truth_are_skipped(tmp_path):
    root = write_bfcl(tmp_path, [row("a", "one", "two"), row("b", "one")], [[["ls()"]], [[]]])
    (root / "BFCL_v4_multi_turn_base.json").open("a").write(json.dumps(row("c", "hi")) + "\n")
    imported = import_bfcl(root=root)
    answers = root / "possible_answer" / "BFCL_v4_multi_turn_base.json"
    assert [e["id"] for e in imported.episodes] == ["b"]
    assert [r.split(": ", 1)[1] for r in imported.skipped] == [
        "ground_truth: must list one entry per turn (2)",
        f"id: no ground truth for 'c' in {answers}"]


GOOD = row("good", "List the files")
BAD_RECORDS = [
    ([1, 2], "must be a JSON object, got a list"),
    ({"question": []}, "id: must be a string, got null"),
    ({"id": 7}, "id: must be a string, got a number"),
    (row("r", "Hi", involved_classes="GorillaFileSystem"),
     "involved_classes: must be a list of names"),
    (row("r", "Hi", involved_classes=[{"a": 1}]), "involved_classes: must be a list of names"),
    (row("r", "Hi", excluded_function=3), "excluded_function: must be a list of names"),
    (row("r", "Hi", initial_config=[1]), "initial_config: must be an object, got a list"),
    ({"id": "r", "question": "Hi"}, "question: must be a non-empty list of turns"),
    ({"id": "r", "question": [["Hi"]]}, "question[0]: every message needs a string content"),
    ({"id": "r", "question": ["Hi"]}, "question[0]: must be a list of messages"),
    (row("good", "again"), "id: duplicate episode id 'good'"),
]


@pytest.mark.parametrize("record, problem", BAD_RECORDS)
def test_a_question_record_of_the_wrong_shape_is_skipped_and_counted(tmp_path, record, problem):
    root = write_bfcl(tmp_path, [GOOD], [[["ls(a=True)"]]])
    questions = root / "BFCL_v4_multi_turn_base.json"
    questions.write_text(questions.read_text() + json.dumps(record) + "\n")
    answers = root / "possible_answer" / questions.name
    answers.write_text(answers.read_text() + json.dumps({"id": "r", "ground_truth": [[]]})
                       + "\n")
    imported = import_bfcl(root=root)
    assert [e["id"] for e in imported.episodes] == ["good"]
    assert imported.skipped == [f"{questions}:2: {problem}"]
    assert imported.skipped_summary() == f"skipped 1 malformed record: {questions}:2: {problem}"


@pytest.mark.parametrize("truth, problem", [
    ({"id": "good", "ground_truth": [[1]]}, "ground_truth[0][0]: must be a call string, got 1"),
    ({"id": "good", "ground_truth": ["ls()"]}, "ground_truth[0]: must be a list of call "
                                               "strings, got a string"),
    ({"id": "good", "ground_truth": {"0": []}}, "ground_truth: must list one entry per turn"),
    ({"id": "good", "ground_truth": [["cd({1, 2})"]]},
     "ground_truth[0][0]: cannot parse call 'cd({1, 2})' (set {1, 2} is not a JSON value)"),
    ({"id": "good", "ground_truth": [["cd(b'x')"]]}, "(bytes b'x' is not a JSON value)"),
    ({"id": "good", "ground_truth": [["cd(1e999)"]]}, "(inf is not a JSON number)"),
    ({"id": "good", "ground_truth": [["cd({1: 2})"]]}, "(an argument's object keys must be"),
    ({"id": "good", "ground_truth": [["cd('\\ud800')"]]}, "(a string holds a lone surrogate)"),
    ({"id": "good", "ground_truth": [["cd(" + "[" * 30 + "]" * 30 + ")"]]},
     "(an argument nests deeper than 20 levels)"),
    ({"id": "good", "ground_truth": [["cd(" + "-" * 100000 + "1)"]]}, "cannot parse call"),
])
def test_a_ground_truth_of_the_wrong_shape_skips_its_record(tmp_path, truth, problem):
    root = write_bfcl(tmp_path, [GOOD, row("other", "Hi")], [[["ls()"]], [[]]])
    answers = root / "possible_answer" / "BFCL_v4_multi_turn_base.json"
    answers.write_text(json.dumps(truth) + "\n" + answers.read_text().split("\n", 1)[1])
    imported = import_bfcl(root=root)
    assert [e["id"] for e in imported.episodes] == ["other"]
    [reason] = imported.skipped
    assert reason.startswith(f"{answers}:1: ") and problem in reason and len(reason) < 400


def test_bad_ground_truth_and_doc_lines_are_skipped_and_counted(tmp_path):
    docs = [*DOCS, {"name": 3}, {"name": "x", "parameters": [1]}, "text"]
    root = write_bfcl(tmp_path, [GOOD], [[["ls(a=True)"]]], docs=docs)
    answers = root / "possible_answer" / "BFCL_v4_multi_turn_base.json"
    answers.write_text(answers.read_text() + '{"id": "good", "ground_truth": []}\n[]\n{oops\n')
    imported = import_bfcl(root=root)
    assert [e["id"] for e in imported.episodes] == ["good"]
    doc_file = root / "multi_turn_func_doc" / "gorilla_file_system.json"
    assert [r.split(": ", 1)[0] for r in imported.skipped] == [
        f"{answers}:2", f"{answers}:3", f"{answers}:4", f"{doc_file}:6", f"{doc_file}:7",
        f"{doc_file}:8"]
    assert "duplicate ground truth for 'good' (first at" in imported.skipped[0]
    assert imported.skipped_summary().startswith("skipped 6 malformed records: ")
    assert imported.skipped_summary().endswith("; and 3 more")


@pytest.mark.parametrize("which", ["questions", "answers", "docs"])
@pytest.mark.parametrize("text, problem", [
    ('[{"id": "a"}]\n', "must be a JSON object, got a list"),
    ('{\n  "id": "a"\n}\n', "not valid JSON"),
    ("id,question\na,hi\n", "not valid JSON"),
])
def test_a_file_not_of_the_expected_format_is_one_line(tmp_path, which, text, problem):
    root = write_bfcl(tmp_path, [GOOD], [[["ls(a=True)"]]])
    path = {"questions": root / "BFCL_v4_multi_turn_base.json",
            "answers": root / "possible_answer" / "BFCL_v4_multi_turn_base.json",
            "docs": root / "multi_turn_func_doc" / "gorilla_file_system.json"}[which]
    path.write_text(text)
    with pytest.raises(InputError) as info:
        import_bfcl(root=root)
    message = str(info.value)
    assert message.startswith(f"{path}: not a BFCL ") and problem in message
    assert "\n" not in message


def test_a_file_whose_records_all_have_the_wrong_shape_is_one_line(tmp_path):
    root = write_bfcl(tmp_path, [{"id": "a"}, {"id": "b"}], [[], []])
    questions = root / "BFCL_v4_multi_turn_base.json"
    with pytest.raises(InputError) as info:
        import_bfcl(root=root)
    assert str(info.value) == (
        f"{questions}: not BFCL multi_turn_base data: none of its 2 records has the expected "
        f"shape ({questions}:1: question: must be a non-empty list of turns)")


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
    [episode] = import_bfcl(root=root, execute=True).episodes
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
    imported = import_bfcl("multi_turn_base")
    assert imported.skipped == []
    episodes = [parse_episode(e, e["id"]) for e in imported.episodes]
    turns = [t for e in episodes for t in e.turns]
    assert (len(episodes), len(turns), sum(len(t.calls) for t in turns)) == (200, 734, 1142)


@pytest.mark.parametrize("category", bfcl.CATEGORIES[1:])
def test_real_other_categories_import(category):
    pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed")
    imported = import_bfcl(category)
    assert imported.skipped == []
    episodes = [parse_episode(e, e["id"]) for e in imported.episodes]
    assert len(episodes) == 200


def test_the_api_warns_of_skipped_records(tmp_path):
    from rtsim.api import import_traces

    root = write_bfcl(tmp_path, [row("a", "Go"), {"id": "b"}], [[["ls()"]], [[]]])
    with pytest.warns(UserWarning, match=r"^skipped 1 malformed record: .*:2: question: "):
        episodes = import_traces("bfcl", root=root)
    assert [e.id for e in episodes] == ["a"]


def test_execute_skips_a_record_its_simulators_cannot_load(tmp_path):
    pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed")
    rows = [row("a", "Hi", initial_config={"GorillaFileSystem": {"root": 5}}),
            row("b", "Hi", involved_classes=["NoSuchAPI"]), row("c", "Hi")]
    root = write_bfcl(tmp_path, rows, [[[]], [[]], [[]]])
    imported = import_bfcl(root=root, execute=True)
    assert [e["id"] for e in imported.episodes] == ["c"]
    first, second = imported.skipped
    assert first.startswith(f"{root / 'BFCL_v4_multi_turn_base.json'}:1: initial_config."
                            "GorillaFileSystem: BFCL's simulator cannot load it (")
    assert second.endswith(":2: involved_classes: no BFCL simulator for 'NoSuchAPI'")
