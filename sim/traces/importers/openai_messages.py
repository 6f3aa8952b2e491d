"""OpenAI chat-format importer: logged conversations with tool calls as trace episodes.

Accepts a JSON array of conversations, one conversation object (`messages` or `traj` key,
optional `tools`), a bare array of messages, or JSON Lines with one conversation a line.
The rules are documented in docs/importers.md.
"""

import datetime as dt
import itertools
import json
import re
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.inputs import json_values
from rtsim.traces.importers.safety import is_read_only
from rtsim.traces.importers.skips import RecordError, skip_of
from rtsim.traces.knownat import find_end, split_words
from rtsim.traces.tokens import count_tokens

MESSAGE_KEYS = ("messages", "traj")
SYSTEM_ROLES = ("system", "developer")
NO_ANSWER_TOKENS = 1
"""Answer tokens of a turn that ends on a tool result with no assistant text after it."""
_TODAY = re.compile(r"\b(?:current (?:date|time)|today(?:'s date)?)\s*(?:is|:)\s*"
                    r"(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


def import_openai_messages(path: str | Path, skipped: list | None = None) -> list[dict]:
    """Episodes (raw trace dicts) of every conversation in the file at `path`.

    A conversation that cannot be used raises InputError, or, given a `skipped` list, is
    left out and recorded there (a Skip with its location and reason).
    """
    path = Path(path)
    values = json_values(path)
    if values and all(isinstance(v, dict) and "role" in v for _, v in values):
        values = [(str(path), [v for _, v in values])]
    episodes, ids = [], set()
    for n, (where, value) in enumerate(values):
        try:
            messages, key = _messages(value, where)
            body = conversation_episode(messages, f"{where}: {key}")
        except InputError as exc:
            if skipped is None:
                raise
            skipped.append(skip_of(exc, where))
            continue
        episode = {"id": _unique(_episode_id(value, path.stem, n), ids), **body}
        tools = value.get("tools") if isinstance(value, dict) else None
        if tools:
            episode["system_tokens"] = (episode.get("system_tokens", 0)
                                        + count_tokens(json.dumps(tools)))
        episodes.append(episode)
    return episodes


def _messages(value, where: str) -> tuple[list, str]:
    if isinstance(value, list):
        return value, "messages"
    if isinstance(value, dict):
        for key in MESSAGE_KEYS:
            if isinstance(value.get(key), list):
                return value[key], key
    raise InputError(f"{where}: a conversation must be a list of messages or an object "
                     f"with a {' or '.join(MESSAGE_KEYS)} list")


def _episode_id(value, stem: str, n: int) -> str:
    if isinstance(value, dict) and isinstance(value.get("id"), (str, int)):
        return str(value["id"])
    if isinstance(value, dict) and isinstance(value.get("task_id"), (str, int)):
        trial = value.get("trial")
        return f"task{value['task_id']}" + (f"-trial{trial}" if trial is not None else "")
    return f"{stem}-{n}"


def _unique(candidate: str, ids: set[str]) -> str:
    name = candidate
    for k in itertools.count(2):
        if name not in ids:
            break
        name = f"{candidate}-{k}"
    ids.add(name)
    return name


def conversation_episode(messages: list, where: str) -> dict:
    """One episode (without id) from a conversation's messages; `where` locates errors."""
    if not messages:
        raise RecordError(f"{where}: no messages", "empty")
    builder = _Builder()
    for i, msg in enumerate(messages):
        at = f"{where}[{i}]"
        if not isinstance(msg, dict):
            raise InputError(f"{at}: a message must be an object")
        role = msg.get("role")
        if role in SYSTEM_ROLES:
            builder.system.append(message_text(msg, at))
        elif role == "user":
            builder.user(message_text(msg, at))
        elif role == "assistant":
            builder.assistant(msg, at)
        elif role in ("tool", "function"):
            builder.result(msg, at)
        else:
            raise InputError(f"{at}.role: unknown role {role!r}")
    turns = builder.finish()
    if not turns:
        raise RecordError(f"{where}: no user turn with an assistant reply",
                          "with no answered user turn")
    episode = {"source": "openai-messages", "turns": turns}
    system_text = "\n".join(t for t in builder.system if t)
    system = count_tokens(system_text)
    if system:
        episode["system_tokens"] = system
    today = conversation_date(system_text)
    if today:
        episode["date"] = today
    return episode


def conversation_date(system_text: str) -> str | None:
    """The date the system prompt gives as today's ("The current time is 2024-05-15 ...")."""
    match = _TODAY.search(system_text)
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1)).isoformat()
    except ValueError:
        return None


def message_text(msg: dict, at: str) -> str:
    """Text of a message's content: a string, null, or a list of text parts."""
    content = msg.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    raise InputError(f"{at}.content: must be a string, null or a list of parts")


class _Builder:
    """Collects messages into turns: user text, steps of calls, answer text."""

    def __init__(self):
        self.system: list[str] = []
        self.turns: list[dict] = []
        self.turn: dict | None = None
        self.ids: set[str] = set()
        self.by_source_id: dict[str, dict] = {}
        self.legacy: dict[str, dict] = {}

    def user(self, text: str) -> None:
        if not text:
            return
        if self.turn is not None and not self.turn["replied"]:
            self.turn["user"] += " " + text
            return
        self._close()
        self.turn = {"user": text, "steps": [], "texts": [], "replied": False}

    def assistant(self, msg: dict, at: str) -> None:
        if self.turn is None:
            return
        text = message_text(msg, at)
        if text:
            self.turn["texts"].append(text)
        self.turn["replied"] = True
        tool_calls = msg.get("tool_calls") or []
        if not tool_calls and isinstance(msg.get("function_call"), dict):
            tool_calls = [{"function": msg["function_call"], "legacy": True}]
        if not isinstance(tool_calls, list):
            raise InputError(f"{at}.tool_calls: must be a list")
        if tool_calls:
            calls = [self._call(tc, f"{at}.tool_calls[{j}]") for j, tc in enumerate(tool_calls)]
            self.turn["steps"].append({"reasoning": " ".join(self.turn["texts"]),
                                       "calls": calls})
            self.turn["texts"] = []

    def _call(self, raw, at: str) -> dict:
        function = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise InputError(f"{at}.function.name: missing")
        arguments = function.get("arguments") or {}
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{at}.function.arguments: not valid JSON ({exc.msg})",
                                  "with arguments that are not JSON") from None
        if not isinstance(arguments, dict):
            raise InputError(f"{at}.function.arguments: must be a JSON object")
        source_id = raw.get("id")
        call_id = source_id if isinstance(source_id, str) and source_id else ""
        call_id = _unique(call_id or f"c{len(self.ids) + 1}", self.ids)
        call = {"id": call_id, "name": function["name"], "arguments": arguments,
                "safe": is_read_only(function["name"]), "output": ""}
        if isinstance(source_id, str):
            self.by_source_id[source_id] = call
        if raw.get("legacy"):
            self.legacy[call["name"]] = call
        return call

    def result(self, msg: dict, at: str) -> None:
        source_id = msg.get("tool_call_id")
        call = self.by_source_id.get(source_id) if isinstance(source_id, str) else None
        if call is None and source_id is None and msg.get("role") == "function":
            call = self.legacy.pop(msg.get("name"), None)  # the legacy function_call form
        if call is None:
            raise RecordError(f"{at}.tool_call_id: no earlier tool call with id {source_id!r}",
                              "with a tool result without its call")
        call["output"] = message_text(msg, at)

    def _close(self) -> None:
        turn, self.turn = self.turn, None
        if turn is None or not turn["replied"]:
            return
        steps = [_step(s, [c for e in turn["steps"][:k] for c in e["calls"]])
                 for k, s in enumerate(turn["steps"])]
        out = {"user": turn["user"], "steps": steps}
        answer = " ".join(turn["texts"])
        if answer:
            out["answer"] = answer
        else:
            out["answer_tokens"] = NO_ANSWER_TOKENS
        self.turns.append(out)

    def finish(self) -> list[dict]:
        """The turns; a trailing user message that got no reply is dropped."""
        self._close()
        return self.turns


def _step(step: dict, earlier: list[dict]) -> dict:
    """A trace step; each call depends on the earlier calls of its turn whose output names it."""
    for call in step["calls"]:
        deps = [e["id"] for e in earlier if mentions(e["output"], call["arguments"])]
        if deps:
            call["depends_on"] = deps
    out = {"calls": step["calls"]}
    reasoning = count_tokens(step["reasoning"])
    if reasoning:
        out = {"reasoning_tokens": reasoning, **out}
    return out


def mentions(output: str, arguments: dict) -> bool:
    """True when a string or number among `arguments` occurs (as words) in `output`."""
    words = split_words(output)
    return any(find_end(value, words) for value in argument_values(arguments))


def argument_values(value) -> list[str]:
    """Strings and numbers inside an argument value, as text (booleans and nulls skipped)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, str):
        return [value] if split_words(value) else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in argument_values(item)]
    return []
