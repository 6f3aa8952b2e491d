"""Reading the files a user gives: text, YAML and JSON (a document or JSON Lines), each
failure one InputError line that names the file (and the line, where there is one).

JSON Lines are split on "\\n" only: U+2028, U+2029 and NEL are characters inside a line, as
the JSON writer leaves them.
"""

import json
from pathlib import Path

import yaml

from rtsim.errors import InputError


def read_text(path: str | Path) -> str:
    """The file's text (UTF-8)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None


def read_yaml(path: str | Path):
    """The YAML document in the file (None when it is empty)."""
    text = read_text(path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"{path}: not valid YAML{at}") from None


def read_json(path: str | Path):
    """The JSON document in the file."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON "
                         f"({exc.msg} at column {exc.colno})") from None


def json_lines(path: str | Path, text: str | None = None) -> list[tuple[str, object]]:
    """The values of a JSON Lines file, each located as `FILE:LINE` (blank lines skipped)."""
    text = read_text(path) if text is None else text
    values = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            values.append((f"{path}:{number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON "
                             f"({exc.msg} at column {exc.colno})") from None
    return values


def json_values(path: str | Path) -> list[tuple[str, object]]:
    """Top-level values of a JSON document or JSON Lines file, each with its location.

    A document that is an array yields its items (`FILE[i]`); any other document yields
    itself (`FILE`); JSON Lines yields one value per non-blank line (`FILE:LINE`).
    """
    text = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: empty file")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise InputError(f"{path}:{exc.lineno}: not valid JSON "
                             f"({exc.msg} at column {exc.colno})") from None
        return json_lines(path, text)
    if isinstance(value, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    return [(str(path), value)]
