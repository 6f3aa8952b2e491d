"""Reading user files (rtsim.files.inputs): located one-line errors, and traces that survive
a write and read with every character a line splitter might break at."""

import re

import pytest

from rtsim.errors import InputError
from rtsim.files.inputs import json_lines, json_values, read_json, read_yaml
from rtsim.traces.schema import load_traces, write_traces

SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r"]


@pytest.mark.parametrize("char", SEPARATORS)
def test_traces_round_trip_with_any_line_separator_inside_a_string(tmp_path, char):
    row = {"id": f"ep{char}1", "turns": [{"user": f"book it{char} now", "answer_tokens": 3}]}
    path = tmp_path / "t.jsonl"
    write_traces([row, {**row, "id": "ep2"}], path)
    episodes = load_traces(path)
    assert [e.id for e in episodes] == [f"ep{char}1", "ep2"]
    assert episodes[0].turns[0].user == f"book it{char} now"


def test_json_lines_name_the_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.jsonl:3: not valid JSON \(Expecting value"):
        json_lines(path)


def test_a_document_an_array_or_json_lines(tmp_path):
    doc, array, lines = tmp_path / "d.json", tmp_path / "a.json", tmp_path / "l.jsonl"
    doc.write_text('{"a": 1}')
    array.write_text('[{"a": 1}, {"a": 2}]')
    lines.write_text('{"a": 1}\n{"a": 2}\n')
    assert json_values(doc) == [(str(doc), {"a": 1})]
    assert json_values(array) == [(f"{array}[0]", {"a": 1}), (f"{array}[1]", {"a": 2})]
    assert json_values(lines) == [(f"{lines}:1", {"a": 1}), (f"{lines}:2", {"a": 2})]


@pytest.mark.parametrize("reader, text, message", [
    (read_yaml, "a: [1, 2\n", r"f: not valid YAML at line 2"),
    (read_json, '{"a": 1,}', r"f:1: not valid JSON \(Expecting property name"),
])
def test_yaml_and_json_errors_are_one_located_line(tmp_path, reader, text, message):
    path = tmp_path / "f"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        reader(path)


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(InputError, match=r"nope\.yaml: cannot read \(FileNotFoundError\)"):
        read_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(InputError, match=r"bad\.json: cannot read \(UnicodeDecodeError\)"):
        read_json(bad)


@pytest.mark.parametrize("text, message", [
    ('[{"a": 1}, {"id": ["x", "\\udc00"]}]', r"\[1\]\.id\[1\]: '\\udc00' is a lone surrogate"),
    ('{"k\\ud800": 1}', r"k\\ud800: '\\ud800' is a lone surrogate"),
    ('"\\ud83d"', r"'\\ud83d' is a lone surrogate"),
])
def test_a_lone_surrogate_is_refused_with_its_key_path(tmp_path, text, message):
    path = tmp_path / "f"
    path.write_text(text, encoding="utf-8")
    for reader in (read_json, read_yaml):
        with pytest.raises(InputError, match=f"^{re.escape(str(path))}: {message}"):
            reader(path)


def test_a_surrogate_pair_and_an_escaped_backslash_are_text(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "\\ud83d\\ude00 \\\\ud800", "turns": [{"user": "hi", '
                    '"answer_tokens": 2}]}\n', encoding="utf-8")
    [episode] = load_traces(path)
    assert episode.id == "\U0001F600 \\ud800"
    write_traces([{"id": episode.id, "turns": [{"user": "hi", "answer_tokens": 2}]}], path)
    assert load_traces(path)[0].id == episode.id
