"""OpenTelemetry importer: OTLP JSON spans of an agent as trace episodes with the measured
tool latencies (rules: docs/importers.md, "OpenTelemetry spans").

Spans are grouped into conversations (the `gen_ai.conversation.id` or `conversation.id`
they carry, else their trace), and a conversation into turns at its turn anchors; a tool
span's duration is its call's `latency`.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rtsim.errors import InputError
from rtsim.traces.importers.openai_messages import mentions
from rtsim.traces.importers.otel_sources import PARSERS, SOURCES, Parsed, detect
from rtsim.traces.importers.otlp import Skip, Span, read_spans
from rtsim.traces.importers.safety import is_read_only

CONVERSATION_KEYS = ("gen_ai.conversation.id", "conversation.id")
DEFAULT_USER_WORDS = 12
"""Words of the placeholder utterance of a turn whose spans record neither text nor tokens."""
MAX_PLACEHOLDER_WORDS = 500
DEFAULT_ANSWER_TOKENS = 30
"""Answer tokens of a turn whose last model request records none (as BFCL's importer)."""
DEFAULT_OUTPUT_TOKENS = 16
"""Result tokens of a tool call whose span records no result."""


@dataclass
class OtelImport:
    """Episodes (raw trace dicts), what was skipped, and what could not be mapped."""

    episodes: list[dict]
    skipped: list[Skip]
    conversations: int
    source: str
    unmapped: Counter = field(default_factory=Counter)
    spans: int = 0


def import_otel(paths: list[str | Path], source: str | None = None) -> OtelImport:
    """Episodes of every conversation in the OTLP JSON files; `source` (one of SOURCES)
    picks the mapping, else it is detected from the spans."""
    if source is not None and source not in SOURCES:
        raise InputError(f"unknown span source {source!r}; choose one of: {', '.join(SOURCES)}")
    spans, skipped = [], []
    for path in paths:
        got, bad = read_spans(path)
        spans += got
        skipped += bad
    source = source or detect(spans)
    groups = conversations(spans)
    result = OtelImport([], skipped, len(groups), source, spans=len(spans))
    for key, members in groups.items():
        parsed = Parsed()
        PARSERS[source](members, parsed)
        result.unmapped.update(f"span {name}" for name in parsed.unmapped)
        result.unmapped.update(parsed.notes)
        turns = assemble(parsed, result.unmapped)
        if not turns:
            skipped.append(Skip(members[0].where, "with no answered user turn",
                                f"conversation {key}"))
            continue
        result.episodes.append({"id": key, "source": f"otel:{source}", "turns": turns})
    return result


def conversations(spans: list[Span]) -> dict[str, list[Span]]:
    """Spans by conversation, in start order; a trace joins the conversation an id on one
    of its spans names (else it is its own)."""
    named: dict[str, str] = {}
    for s in spans:
        for key in CONVERSATION_KEYS:
            if isinstance(s.attrs.get(key), (str, int)) and s.trace_id not in named:
                named[s.trace_id] = str(s.attrs[key])
    groups: dict[str, list[Span]] = defaultdict(list)
    for s in sorted(spans, key=lambda s: (s.start, s.end, s.span_id)):
        groups[named.get(s.trace_id, s.trace_id)].append(s)
    return dict(groups)


def assemble(parsed: Parsed, unmapped: Counter) -> list[dict]:
    """The trace turns of one conversation: each record joins the last anchor that began at
    or before it; without anchors the conversation is one turn."""
    starts = sorted(a.start for a in parsed.anchors) or [float("-inf")]
    anchors = sorted(parsed.anchors, key=lambda a: a.start) or [None]

    def slot(t: float) -> int:
        return max(0, sum(1 for s in starts if s <= t) - 1)

    models, tools, texts = defaultdict(list), defaultdict(list), defaultdict(list)
    for m in parsed.models:
        models[slot(m.start)].append(m)
    for c in parsed.tools:
        tools[slot(c.start)].append(c)
    for t, key, value in parsed.measures:
        if key == "transcript":
            texts[slot(t)].append(value)
    turns, context = [], None
    for k, anchor in enumerate(anchors):
        if not models[k] and not tools[k]:
            unmapped["turn with no model request or tool call"] += 1
            continue
        user = (anchor.user if anchor else None) or " ".join(texts[k]) or None
        if user is None:
            user = _placeholder(models[k], context, unmapped)
        turns.append({"user": user, "steps": steps(tools[k], unmapped),
                      **_answer(models[k], unmapped)})
        last = models[k][-1] if models[k] else None
        context = (last.input_tokens or 0) + (last.output_tokens or 0) if last else context
    return turns


def _placeholder(models: list, context: int | None, unmapped: Counter) -> str:
    """Words standing for an utterance the spans do not record: as many as the tokens the
    turn's first request read beyond the previous turn's context, where both are known."""
    first = models[0].input_tokens if models else None
    if first is not None and context is not None and first > context:
        unmapped["user text (placeholder of the recorded tokens)"] += 1
        words = min(first - context, MAX_PLACEHOLDER_WORDS)
    else:
        unmapped[f"user text (placeholder of {DEFAULT_USER_WORDS} words)"] += 1
        words = DEFAULT_USER_WORDS
    return " ".join(["word"] * words)


def _answer(models: list, unmapped: Counter) -> dict:
    last = models[-1] if models else None
    if last is not None and last.text:
        return {"answer": last.text}
    if last is not None and last.output_tokens:
        return {"answer_tokens": last.output_tokens}
    unmapped[f"answer size (default {DEFAULT_ANSWER_TOKENS} tokens)"] += 1
    return {"answer_tokens": DEFAULT_ANSWER_TOKENS}


def steps(tools: list, unmapped: Counter) -> list[dict]:
    """Tool calls as steps: a call that starts before every call of the current step has
    ended runs in parallel with them; otherwise it opens a new step. A call depends on an
    earlier call that ended before it started and whose result holds one of its argument
    values (or on the ids rtsim's own export names)."""
    out, current, done, ids = [], [], [], set()
    for tool in sorted(tools, key=lambda c: (c.start, c.end)):
        if current and tool.start >= min(c.end for c, _ in current):
            out.append({"calls": [call for _, call in current]})
            done += current
            current = []
        call = _call(tool, done, ids, unmapped)
        current.append((tool, call))
    if current:
        out.append({"calls": [call for _, call in current]})
    return out


def _call(tool, done: list, ids: set, unmapped: Counter) -> dict:
    arguments = _arguments(tool.arguments, unmapped)
    call_id = tool.call_id
    for k in range(2, 2 + len(ids) + 1):
        if call_id not in ids:
            break
        call_id = f"{tool.call_id}-{k}"
    ids.add(call_id)
    call = {"id": call_id, "name": tool.name or "unnamed_tool", "arguments": arguments,
            "safe": tool.extra.get("rtsim.tool.safe", is_read_only(tool.name)),
            "latency": tool.latency}
    if not tool.name:
        unmapped["tool name"] += 1
    _output(call, tool, unmapped)
    earlier = {c["id"] for _, c in done}
    named = tool.extra.get("rtsim.tool.depends_on")
    if isinstance(named, list):
        deps = [d for d in named if d in earlier]
    else:
        deps = [c["id"] for t, c in done
                if t.end <= tool.start and t.result and mentions(t.result, arguments)]
    if deps:
        call["depends_on"] = deps
    return call


def _output(call: dict, tool, unmapped: Counter) -> None:
    tokens = tool.extra.get("rtsim.tool.output_tokens")
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens >= 0:
        call["output_tokens"] = tokens
    elif tool.result is not None:
        call["output"] = tool.result
    else:
        unmapped[f"tool result (default {DEFAULT_OUTPUT_TOKENS} tokens)"] += 1
        call["output_tokens"] = DEFAULT_OUTPUT_TOKENS


def _arguments(raw, unmapped: Counter) -> dict:
    if isinstance(raw, dict):
        return raw
    if raw is None:
        unmapped["tool arguments"] += 1
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        unmapped["tool arguments not a JSON object"] += 1
        return {}
    return value
