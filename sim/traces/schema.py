"""Trace episodes: the schema of docs/trace-format.md, its loader and its writer."""

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.atomic import write_atomic
from rtsim.files.inputs import json_lines
from rtsim.text import count
from rtsim.traces.knownat import compute_known_at, split_words
from rtsim.traces.tokens import CALL_FRAMING_TOKENS, count_tokens


@dataclass(frozen=True, slots=True)
class Call:
    """One tool call the model makes, with its cost in tokens and its dependencies."""

    id: str
    name: str
    arguments: dict
    depends_on: tuple[str, ...]
    safe: bool
    output_tokens: int
    tokens: int
    known_at: int | None
    step: int
    reasoning_tokens: int
    latency: float | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One user utterance and the model's work to answer it."""

    user: str
    words: tuple[str, ...]
    word_times: tuple[tuple[float, float], ...] | None
    word_tokens: tuple[int, ...]
    calls: tuple[Call, ...]
    steps: int
    answer_tokens: int
    answer_reasoning_tokens: int

    @property
    def user_tokens(self) -> int:
        """Tokens of the whole utterance."""
        return self.word_tokens[-1]


@dataclass(frozen=True, slots=True)
class Episode:
    """A conversation: turns in order."""

    id: str
    source: str
    system_tokens: int | None
    turns: tuple[Turn, ...]
    date: dt.date | None = None


class _Field:
    """Validation helpers bound to one location (file:line and a field path)."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, path: str, problem: str) -> InputError:
        return InputError(f"{self.where}: {path}: {problem}")

    def get(self, obj: dict, key: str, path: str, kind, required=True, default=None):
        if key not in obj:
            if required:
                raise self.fail(f"{path}{key}", "missing")
            return default
        value = obj[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(f"{path}{key}", f"must be an integer, got {value!r}")
        if kind is not int and not isinstance(value, kind):
            raise self.fail(f"{path}{key}", f"must be {_kind_name(kind)}, got {value!r}")
        return value

    def count(self, obj: dict, key: str, path: str, minimum=0, required=False, default=0):
        value = self.get(obj, key, path, int, required, default)
        if value is not None and value < minimum:
            raise self.fail(f"{path}{key}", f"must be >= {minimum}, got {value}")
        return value

    def only(self, obj: dict, allowed: set[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                raise self.fail(f"{path}{key}", "unknown field")


def _kind_name(kind) -> str:
    names = {str: "a string", list: "a list", dict: "an object", bool: "true or false"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))


_EPISODE_KEYS = {"id", "source", "system_tokens", "date", "turns"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TURN_KEYS = {"user", "word_times", "steps", "answer", "answer_tokens", "answer_reasoning_tokens"}
_STEP_KEYS = {"reasoning_tokens", "calls"}
_CALL_KEYS = {"id", "name", "arguments", "depends_on", "safe", "output", "output_tokens",
              "tokens", "known_at", "latency"}


def parse_episode(raw, where: str) -> Episode:
    """Validate one decoded JSON value as an episode; errors name `where` and the field."""
    f = _Field(where)
    if not isinstance(raw, dict):
        raise InputError(f"{where}: an episode must be a JSON object")
    f.only(raw, _EPISODE_KEYS, "")
    ep_id = f.get(raw, "id", "", str)
    source = f.get(raw, "source", "", str, required=False, default="")
    system_tokens = f.count(raw, "system_tokens", "", default=None)
    today = _date(f, raw)
    turns_raw = f.get(raw, "turns", "", list)
    if not turns_raw:
        raise f.fail("turns", "must not be empty")
    seen: set[str] = set()
    history: list[str] = []
    turns = tuple(_parse_turn(f, t, f"turns[{i}].", seen, history, today)
                  for i, t in enumerate(turns_raw))
    return Episode(ep_id, source, system_tokens, turns, today)


def _date(f: _Field, raw: dict) -> dt.date | None:
    """The conversation's date (`date`, YYYY-MM-DD), against which "tomorrow" is heard."""
    text = f.get(raw, "date", "", str, required=False)
    if text is None:
        return None
    try:
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise f.fail("date", f"must be a date YYYY-MM-DD, got {text!r}")


def _parse_turn(f: _Field, raw, path: str, seen: set[str], history: list[str],
                today: dt.date | None) -> Turn:
    """Parse one turn; `history` holds earlier turns' results and answers (known values)."""
    if not isinstance(raw, dict):
        raise f.fail(path.rstrip("."), "must be an object")
    f.only(raw, _TURN_KEYS, path)
    user = f.get(raw, "user", path, str)
    words = tuple(split_words(user, keep_case=True))
    if not words:
        raise f.fail(f"{path}user", "must contain at least one word")
    word_times = _parse_word_times(f, raw, path, len(words))
    answer_tokens = _answer_tokens(f, raw, path)
    outputs: dict[str, str] = {}
    heard = _Heard(words, tuple(history), today)
    calls: list[Call] = []
    steps_raw = f.get(raw, "steps", path, list, required=False, default=[])
    for s, step in enumerate(steps_raw):
        calls.extend(_parse_step(f, step, f"{path}steps[{s}].", s, heard, seen, outputs))
    history.extend(outputs[c.id] for c in calls)
    history += [user, raw.get("answer") or ""]
    return Turn(
        user=user,
        words=words,
        word_times=word_times,
        word_tokens=_cumulative_tokens(words),
        calls=tuple(calls),
        steps=len(steps_raw),
        answer_tokens=answer_tokens,
        answer_reasoning_tokens=f.count(raw, "answer_reasoning_tokens", path),
    )


def _parse_word_times(f: _Field, raw: dict, path: str, n_words: int):
    times = f.get(raw, "word_times", path, list, required=False)
    if times is None:
        return None
    if len(times) != n_words:
        raise f.fail(f"{path}word_times",
                     f"has {count(len(times), 'pair')} for {count(n_words, 'word')}")
    last = 0.0
    pairs = []
    for i, pair in enumerate(times):
        ok = isinstance(pair, list) and len(pair) == 2 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in pair)
        if not ok or not last <= pair[0] <= pair[1]:
            raise f.fail(f"{path}word_times[{i}]", "must be [start, end] with "
                         "0 <= start <= end, non-decreasing")
        last = pair[1]
        pairs.append((float(pair[0]), float(pair[1])))
    return tuple(pairs)


def _answer_tokens(f: _Field, raw: dict, path: str) -> int:
    if "answer_tokens" in raw:
        return f.count(raw, "answer_tokens", path, minimum=1)
    if "answer" not in raw:
        raise f.fail(f"{path}answer", "missing (give answer or answer_tokens)")
    text = f.get(raw, "answer", path, str)
    if not text.strip():
        raise f.fail(f"{path}answer", "must not be empty")
    return count_tokens(text)


@dataclass(frozen=True, slots=True)
class _Heard:
    """What a call's values are looked for in: the utterance, earlier turns, the date."""

    words: tuple[str, ...]
    history: tuple[str, ...]
    today: dt.date | None


def _parse_step(f, raw, path, s, heard, seen, outputs) -> list[Call]:
    if not isinstance(raw, dict):
        raise f.fail(path.rstrip("."), "must be an object")
    f.only(raw, _STEP_KEYS, path)
    reasoning = f.count(raw, "reasoning_tokens", path)
    calls_raw = f.get(raw, "calls", path, list)
    if not calls_raw:
        raise f.fail(f"{path}calls", "must not be empty")
    calls, earlier = [], set(outputs)
    for c, call in enumerate(calls_raw):
        calls.append(_parse_call(f, call, f"{path}calls[{c}].", s, reasoning if c == 0 else 0,
                                 heard, seen, outputs, earlier))
    for call in calls:
        seen.add(call.id)
    return calls


def _parse_call(f, raw, path, step, reasoning, heard, seen, outputs, earlier) -> Call:
    if not isinstance(raw, dict):
        raise f.fail(path.rstrip("."), "must be an object")
    f.only(raw, _CALL_KEYS, path)
    call_id = f.get(raw, "id", path, str)
    if call_id in seen or call_id in outputs:
        raise f.fail(f"{path}id", f"duplicate call id {call_id!r}")
    name = f.get(raw, "name", path, str)
    arguments = f.get(raw, "arguments", path, dict, required=False, default={})
    depends_on = tuple(f.get(raw, "depends_on", path, list, required=False, default=[]))
    for dep in depends_on:
        if not isinstance(dep, str):
            raise f.fail(f"{path}depends_on", f"must list call ids (strings), got {dep!r}")
        if dep not in earlier:
            raise f.fail(f"{path}depends_on",
                         f"{dep!r} is not a call of an earlier step of this turn")
    output = f.get(raw, "output", path, str, required=False)
    if "output_tokens" in raw:
        output_tokens = f.count(raw, "output_tokens", path)
    elif output is not None:
        output_tokens = count_tokens(output)
    else:
        raise f.fail(f"{path}output", "missing (give output or output_tokens)")
    outputs[call_id] = output or ""
    if "known_at" in raw and raw["known_at"] is not None:
        known_at = f.count(raw, "known_at", path)
        if known_at > len(heard.words):
            raise f.fail(f"{path}known_at",
                         f"{known_at} is past the last word ({len(heard.words)})")
    elif "known_at" in raw:
        known_at = None
    else:
        derived = (*heard.history, *(outputs[d] for d in depends_on))
        known_at = compute_known_at(arguments, heard.words, derived, heard.today)
    tokens = f.count(raw, "tokens", path, minimum=1, default=None)
    if tokens is None:
        text = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
        tokens = count_tokens(text) + CALL_FRAMING_TOKENS
    return Call(call_id, name, arguments, depends_on,
                f.get(raw, "safe", path, bool, required=False, default=True),
                output_tokens, tokens, known_at, step, reasoning, _latency(f, raw, path))


def _latency(f: _Field, raw: dict, path: str) -> float | None:
    """A measured tool latency, seconds (replaces the scenario's draw for the first try)."""
    value = raw.get("latency")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
            or value == float("inf"):
        raise f.fail(f"{path}latency", f"must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _cumulative_tokens(words: tuple[str, ...]) -> tuple[int, ...]:
    """Tokens of the first k words, for k = 0..n (a word carries its leading space)."""
    total, out = 0, [0]
    for i, word in enumerate(words):
        total += count_tokens(word if i == 0 else " " + word)
        out.append(total)
    return tuple(out)


def load_traces(path: str | Path) -> list[Episode]:
    """Read and validate a JSON Lines trace file; the first bad line raises InputError."""
    path = Path(path)
    episodes, ids = [], set()
    for where, raw in json_lines(path):
        episode = parse_episode(raw, where)
        if episode.id in ids:
            raise InputError(f"{where}: id: duplicate episode id {episode.id!r}")
        ids.add(episode.id)
        episodes.append(episode)
    if not episodes:
        raise InputError(f"{path}: no episodes")
    return episodes


def write_traces(rows: list[dict], path: str | Path) -> None:
    """Write raw episode dicts as JSON Lines, atomically."""
    text = "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for row in rows)
    write_atomic(path, text)
