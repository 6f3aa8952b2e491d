"""Reading JSON inputs: one document (object or array) or JSON Lines, with located errors."""

import json
from pathlib import Path

from rtsim.errors import InputError


def read_text(path: Path) -> str:
    """The file's text, or an InputError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None


def read_values(path: str | Path) -> list[tuple[str, object]]:
    """Top-level values of a JSON document or JSON Lines file, each with its location.

    A document that is an array yields its items (`FILE[i]`); any other document yields
    itself (`FILE`); JSON Lines yields one value per non-blank line (`FILE:LINE`).
    """
    path = Path(path)
    text = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: empty file")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise InputError(f"{path}:{exc.lineno}: not valid JSON "
                             f"({exc.msg} at column {exc.colno})") from None
        return read_lines(path, text)
    if isinstance(value, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    return [(str(path), value)]


def read_lines(path: Path, text: str | None = None) -> list[tuple[str, object]]:
    """Values of a JSON Lines file, each located as `FILE:LINE`."""
    text = read_text(path) if text is None else text
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append((f"{path}:{number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON "
                             f"({exc.msg} at column {exc.colno})") from None
    return values
