"""Reading the files a user gives: text, YAML and JSON (a document or JSON Lines), each
failure one InputError line that names the file (and the line, where there is one).

YAML is read as a user means it: numbers as YAML 1.2 reads them (`1e3` is a number, `1:30`
and `010` are not sexagesimal or octal), and no aliases, duplicate keys or nesting deeper
than MAX_DEPTH (they are refused, never expanded). JSON Lines are split on "\\n" only:
U+2028, U+2029 and NEL are characters inside a line, as the JSON writer leaves them.
A string with a lone surrogate (an escape such as "\\ud800" that is half of a pair) is
refused in both, with the key path to it: it is not Unicode text and cannot be written out.
"""

import json
import re
from pathlib import Path

import yaml

from rtsim.errors import InputError

MAX_DEPTH = 100
_INT = re.compile(r"^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


class _Refused(yaml.MarkedYAMLError):
    """A YAML construct rtsim does not accept."""


class _Loader(yaml.SafeLoader):
    """The safe loader with YAML 1.2 numbers, refusing aliases, duplicates and deep nests."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _Refused(problem="aliases (*name) are not accepted",
                           problem_mark=self.peek_event().start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(problem=f"nested deeper than {MAX_DEPTH} levels",
                               problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                continue  # unhashable keys: the base constructor says so
            if key in seen:
                raise _Refused(problem=f"duplicate key {key!r}",
                               problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    base = {"0o": 8, "0x": 16}.get(digits[:2], 10)
    return sign * int(digits[2:] if base != 10 else digits, base)


def _construct_float(loader, node):
    text = loader.construct_scalar(node).lower()
    return float(text.replace(".inf", "inf").replace(".nan", "nan"))


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def parse_yaml(text: str, where: str):
    """The YAML document in `text` (None when empty); errors start with `where`."""
    try:
        value = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except _Refused as exc:
        raise InputError(f"{where}: {exc.problem} (line {exc.problem_mark.line + 1})") \
            from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"{where}: not valid YAML{at}") from None
    _refuse_surrogates(value, text, where)
    return value


def _refuse_surrogates(value, text: str, where: str) -> None:
    """InputError naming the first string (value or key) of `value` that holds a lone
    surrogate; `text` is its source, which has one only where it has such an escape."""
    if not _SURROGATE_ESCAPE.search(text):
        return
    todo = [(value, "")]
    while todo:
        item, path = todo.pop()
        if isinstance(item, str) and not item.isascii():
            lone = next((c for c in item if "\ud800" <= c <= "\udfff"), None)
            if lone is not None:
                at = f"{path}: " if path else ""
                raise InputError(f"{where}: {at}{lone!r} is a lone surrogate, not a character "
                                 "(text must be valid Unicode)")
        children = []
        if isinstance(item, dict):
            for key, child in item.items():
                name = str(key).encode("utf-8", "backslashreplace").decode("utf-8")
                sub = f"{path}.{name}" if path else name
                children += [(key, sub), (child, sub)]
        elif isinstance(item, list):
            children = [(child, f"{path}[{i}]") for i, child in enumerate(item)]
        todo.extend(reversed(children))


def is_file(path: str | Path) -> bool:
    """Whether `path` names a readable file; False for names the system refuses (too long,
    a NUL byte, a lone surrogate), where Path.is_file raises."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError, UnicodeError):
        return False


def read_text(path: str | Path) -> str:
    """The file's text (UTF-8)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None


def read_yaml(path: str | Path):
    """The YAML document in the file (None when it is empty)."""
    return parse_yaml(read_text(path), str(path))


def _loads(text: str, where: str, line_of_error: bool):
    """The JSON value in `text`, no deeper than MAX_DEPTH; errors start with `where` (and,
    with `line_of_error`, the line in `text`)."""
    too_deep = InputError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        at = f"{where}:{exc.lineno}" if line_of_error else where
        raise InputError(f"{at}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise too_deep from None
    if _depth(value) > MAX_DEPTH:
        raise too_deep
    _refuse_surrogates(value, text, where)
    return value


def _depth(value) -> int:
    """How deeply lists and objects nest in a decoded JSON value (iteratively)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                todo.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                     else item))
    return deepest


def read_json(path: str | Path):
    """The JSON document in the file."""
    return _loads(read_text(path), str(path), True)


def json_lines(path: str | Path, text: str | None = None,
               keep_errors: bool = False) -> list[tuple[str, object]]:
    """The values of a JSON Lines file, each located as `FILE:LINE` (blank lines skipped).

    A line that is not JSON raises InputError, or with `keep_errors` gives that InputError
    as its value (for imports that skip bad records).
    """
    text = read_text(path) if text is None else text
    values = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            where = f"{path}:{number}"
            try:
                values.append((where, _loads(line, where, False)))
            except InputError as exc:
                if not keep_errors:
                    raise
                values.append((where, exc))
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
        value = _loads(text, str(path), True)
    except InputError as exc:
        if "(Extra data" not in exc.template:
            raise
        return json_lines(path, text)
    if isinstance(value, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    return [(str(path), value)]
