"""Fuzzing the loaders a user feeds: every input loads or stops with the one-line
InputError, never another exception (scenarios with `--set`, trace files, YAML files,
importers); a scenario or trace that loads also simulates within a bounded number of
events."""

import contextlib
import dataclasses
import itertools
import json
import string
from unittest import mock

import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtsim.engine.runner import simulate
from rtsim.errors import InputError
from rtsim.files.inputs import parse_yaml
from rtsim.policies import POLICIES
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
    """`load(*args)` returns (its value is returned), or raises the one-line InputError
    (None is returned), nothing else."""
    try:
        return load(*args)
    except InputError as exc:
        assert "\n" not in str(exc)
        return None


MAX_EVENTS = 20_000
"""SimPy events a tiny simulation (one replication, at most two episodes) may take."""


@contextlib.contextmanager
def bounded_events():
    """Fail the block once its SimPy environments have processed MAX_EVENTS events (a
    hang, or work that grows without bound); counts, never times."""
    step, count = simpy.Environment.step, itertools.count(1)

    def counted(env):
        if next(count) > MAX_EVENTS:
            raise AssertionError(f"the simulation took more than {MAX_EVENTS} events")
        return step(env)

    with mock.patch.object(simpy.Environment, "step", counted):
        yield


def test_the_event_bound_stops_a_simulation_that_never_ends():
    env = simpy.Environment()

    def forever(env):
        while True:
            yield env.timeout(0)

    env.process(forever(env))
    with bounded_events(), pytest.raises(AssertionError, match="more than 20000 events"):
        env.run()


def simulates_within_bound(scenario, episodes) -> None:
    """A tiny simulation of what loaded (every policy, one replication, at most two
    episodes under load) ends within MAX_EVENTS events, or stops with a one-line error."""
    server = dataclasses.replace(scenario.server,
                                 episodes=min(scenario.server.episodes or len(episodes), 2))
    tiny = dataclasses.replace(scenario, seeds=1, server=server)
    with bounded_events():
        loads_or_fails_in_one_line(simulate, tiny, episodes[:2], list(POLICIES))


def _dotted(tree, prefix=""):
    for key, value in tree.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from _dotted(value, path + ".")


CLOUD = load_scenario("cloud-realtime")
TINY_EPISODES = [load_traces(resolve_traces("assistant"))[0]]
KEYS = sorted(_dotted(scenario_to_dict(CLOUD)))
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
    scenario = loads_or_fails_in_one_line(load_scenario, "cloud-realtime",
                                          [f"{k}={v}" for k, v in items])
    if scenario is not None:
        simulates_within_bound(scenario, TINY_EPISODES)


def _values(tree, prefix=""):
    """(dotted key, value) of every setting: a number, a flag or a distribution."""
    for key, value in tree.items():
        if isinstance(value, dict) and "dist" not in value:
            yield from _values(value, f"{prefix}{key}.")
        elif not isinstance(value, str) and value is not None:
            yield f"{prefix}{key}", value


_POSITIVE = st.floats(1e-3, 1e3)
_AMOUNT = st.one_of(st.floats(0, 1e5).map(repr), st.sampled_from(["0", "1e-3", "1e4", "1e5"]),
                    st.builds("{{dist: uniform, low: {}, high: {}}}".format, _POSITIVE,
                              st.floats(1e3, 1e4)),
                    st.builds("{{dist: lognormal, median: {}, sigma: {}}}".format, _POSITIVE,
                              st.floats(0.01, 3)),
                    st.builds("{{dist: normal, mean: {}, sd: {}, low: 0, high: 1e4}}".format,
                              _POSITIVE, _POSITIVE))
_SHARE = st.one_of(st.floats(0, 1).map(repr), st.sampled_from(["0", "1"]))
SETTINGS = [(key, st.booleans().map(str) if isinstance(value, bool)
             else st.integers(1, 3000).map(str) if isinstance(value, int)
             else _SHARE if key.startswith("speculation.") else _AMOUNT)
            for key, value in _values(scenario_to_dict(CLOUD))
            if key not in ("seed", "seeds")]
SETTINGS += [("server.sessions", st.integers(1, 10**6).map(str)),
             ("server.arrival_rate", _AMOUNT), ("server.episodes", st.integers(0, 10**7).map(str))]


@FUZZ
@given(st.lists(st.sampled_from(SETTINGS).flatmap(
    lambda setting: setting[1].map(lambda v: f"{setting[0]}={v}")), min_size=1, max_size=3))
def test_scenarios_with_plausible_values_simulate_within_a_bound(overrides):
    scenario = loads_or_fails_in_one_line(load_scenario, "cloud-realtime", overrides)
    if scenario is not None:
        simulates_within_bound(scenario, TINY_EPISODES)


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


def _get(value, path):
    for part in path:
        value = value[part]
    return value


def _replaced(row, path, value):
    row = json.loads(json.dumps(row))
    target = row
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return row


PLAUSIBLE_JSON = st.one_of(st.integers(0, 10**4), st.integers(10**4, 10**25), st.booleans(),
                           st.floats(0, 1e6), st.text("ab ", min_size=1, max_size=12))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON | PLAUSIBLE_JSON), min_size=1,
                max_size=3))
def test_trace_files_load_or_fail_with_one_line(tmp_path, changes):
    row = ROW
    for path, value in changes:
        try:
            row = _replaced(row, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the path
            continue
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(row, allow_nan=True) + "\n", encoding="utf-8")
    episodes = loads_or_fails_in_one_line(load_traces, path)
    if episodes is not None:
        simulates_within_bound(CLOUD, episodes)


_COUNT = st.one_of(st.integers(0, 100), st.integers(0, 10**25))
_SAME_TYPE = {bool: st.booleans(), int: _COUNT, float: st.floats(0, 1e6),
              str: st.text("ab .", max_size=12)}
CALLS = [p for p in PATHS if len(p) == 6 and p[-2] == "calls"]
LEAVES = [(p, _SAME_TYPE[type(v)]) for p in PATHS
          if type(v := _get(ROW, p)) in _SAME_TYPE]
LEAVES += [((*call, key), value) for call in CALLS for key, value in (
    ("latency", st.floats(0, 1e6)), ("known_at", st.integers(0, 30)), ("tokens", _COUNT),
    ("output_tokens", _COUNT))]
LEAVES += [((*p, "answer_tokens"), _COUNT) for p in PATHS if len(p) == 2]


@FUZZ
@given(st.lists(st.sampled_from(LEAVES).flatmap(
    lambda leaf: leaf[1].map(lambda v: (leaf[0], v))), min_size=1, max_size=4))
def test_traces_with_values_of_the_right_type_simulate_within_a_bound(tmp_path, changes):
    row = ROW
    for path, value in changes:
        row = _replaced(row, path, value)
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    episodes = loads_or_fails_in_one_line(load_traces, path)
    if episodes is not None:
        simulates_within_bound(CLOUD, episodes)


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
