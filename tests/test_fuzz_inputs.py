"""Fuzzing the loaders a user feeds: every input loads or stops with the one-line
InputError, never another exception (scenarios with `--set`, trace files, YAML files)."""

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtsim.errors import InputError
from rtsim.files.inputs import parse_yaml
from rtsim.scenario.load import load_scenario, scenario_to_dict
from rtsim.traces.schema import load_traces
from rtsim.traces.sets import resolve_traces

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**25) | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def loads_or_fails_in_one_line(load, *args):
    """`load(*args)` returns, or raises the one-line InputError, nothing else."""
    try:
        load(*args)
    except InputError as exc:
        assert "\n" not in str(exc)


def _dotted(tree, prefix=""):
    for key, value in tree.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from _dotted(value, path + ".")


KEYS = sorted(_dotted(scenario_to_dict(load_scenario("cloud-realtime"))))
VALUE_TEXT = st.one_of(
    JSON.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(alphabet=string.printable, max_size=30),
    st.sampled_from(["1e3", "1:30", "010", ".inf", "-.nan", "&a [*a]", "{dist: [1]}",
                     "{dist: normal, mean: 1, sd: 1, low: 1, high: 1}", "1e-320", "1e308",
                     "[[[[[[[[]]]]]]]]", "!!python/object:os.system ls", "{a: 1, a: 2}"]))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(KEYS) | st.text(max_size=12), VALUE_TEXT),
                min_size=1, max_size=3))
def test_scenario_overrides_load_or_fail_with_one_line(items):
    loads_or_fails_in_one_line(load_scenario, "cloud-realtime", [f"{k}={v}" for k, v in items])


@FUZZ
@given(st.text(max_size=200))
def test_any_yaml_text_parses_or_fails_with_one_line(text):
    try:
        parse_yaml(text, "f")
    except InputError as exc:
        assert str(exc).startswith("f: ")


ROW = json.loads(resolve_traces("assistant").read_text(encoding="utf-8").split("\n")[0])


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


PATHS = list(_paths(ROW))[1:]


def _replaced(row, path, value):
    row = json.loads(json.dumps(row))
    target = row
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return row


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=3))
def test_trace_files_load_or_fail_with_one_line(tmp_path, changes):
    row = ROW
    for path, value in changes:
        try:
            row = _replaced(row, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the path
            continue
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(row, allow_nan=True) + "\n", encoding="utf-8")
    loads_or_fails_in_one_line(load_traces, path)


MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool", "system", "function", 3])},
    optional={"content": JSON | st.text(max_size=20), "tool_calls": JSON,
              "tool_call_id": JSON, "name": JSON})
CONVERSATION = st.one_of(JSON, st.lists(MESSAGE, max_size=6),
                         st.fixed_dictionaries({"messages": st.lists(MESSAGE, max_size=6)}))


@FUZZ
@given(st.lists(CONVERSATION, min_size=1, max_size=3))
def test_openai_messages_import_or_fail_with_one_line(tmp_path, conversations):
    from rtsim.traces.importers.openai_messages import import_openai_messages

    path = tmp_path / "log.json"
    path.write_text(json.dumps(conversations, allow_nan=True), encoding="utf-8")
    loads_or_fails_in_one_line(import_openai_messages, path)


QUESTION = st.fixed_dictionaries({}, optional={"id": JSON, "question": JSON | st.text(),
                                               "answer": JSON})


@FUZZ
@given(st.lists(QUESTION | JSON, min_size=1, max_size=4))
def test_question_sets_import_or_fail_with_one_line(tmp_path, rows):
    from rtsim.traces.importers.questions import import_questions

    path = tmp_path / "q.json"
    path.write_text(json.dumps(rows, allow_nan=True), encoding="utf-8")
    loads_or_fails_in_one_line(import_questions, path)


CALL_TEXT = st.sampled_from(["ls(a=True)", "cd('docs')", "cd({1, 2})", "cd(b'x')", "f()()",
                             "cd(1e999)", "cd(**k)", "cd(folder=", "cat(x=[[[[1]]]])"])
BFCL = {
    "questions": [
        {"id": "q0", "question": [[{"role": "user", "content": "Go to docs, show notes.txt"}], []],
         "involved_classes": ["GorillaFileSystem"], "excluded_function": ["mv"],
         "initial_config": {}},
        {"id": "q1", "question": [[{"role": "user", "content": "List files"}]],
         "involved_classes": ["GorillaFileSystem"]}],
    "truths": [{"id": "q0", "ground_truth": [["cd(folder='docs')", "cat('notes.txt')"], []]},
               {"id": "q1", "ground_truth": [["ls(a=True)"]]}],
    "docs": [{"name": name, "parameters": {"properties": {"x": {"type": "string"}}},
              "response": {"properties": {"out": {"type": kind}}}}
             for name, kind in (("cd", "string"), ("cat", "string"), ("ls", "array"))],
}
BFCL_PATHS = [p for p in _paths(BFCL) if len(p) > 1]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(BFCL_PATHS), JSON | CALL_TEXT), max_size=3),
       st.sampled_from(sorted(BFCL)), st.lists(JSON, max_size=1))
def test_bfcl_data_imports_valid_episodes_or_fails_with_one_line(tmp_path, changes, extra_in,
                                                                 extra):
    from rtsim.traces.importers.bfcl import import_bfcl
    from rtsim.traces.schema import parse_episode

    data = BFCL
    for path, value in changes:
        try:
            data = _replaced(data, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the path
            continue
    data = {**data, extra_in: data[extra_in] + extra}
    name = "BFCL_v4_multi_turn_base.json"
    files = {"questions": tmp_path / name, "truths": tmp_path / "possible_answer" / name,
             "docs": tmp_path / "multi_turn_func_doc" / "gorilla_file_system.json"}
    for key, path in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(json.dumps(v, allow_nan=True) + "\n" for v in data[key]),
                        encoding="utf-8")
    try:
        imported = import_bfcl(root=tmp_path)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    for episode in imported.episodes:
        parse_episode(episode, "imported")
        json.dumps(episode, allow_nan=False).encode("utf-8")
    assert all("\n" not in reason for reason in imported.skipped)
