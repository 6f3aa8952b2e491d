"""What each span source's names and attributes mean: GenAI semantic conventions, LiveKit
Agents and Pipecat, each read into the same few records (docs/importers.md lists them).

A span is a turn anchor (where a user turn begins), a model request, a tool call, a
measurement (endpointing, transcription, speech output), structural (sessions, speaking
spans: known and not needed) or unmapped (counted).
"""

import json
from dataclasses import dataclass, field

from rtsim.traces.importers.otlp import NANOS, Span

SOURCES = ("genai", "livekit", "pipecat")


@dataclass
class Anchor:
    """Where a user turn begins, with what the spans say about it."""

    start: float
    user: str | None = None
    measures: dict = field(default_factory=dict)


@dataclass
class Model:
    """One model request."""

    start: float
    end: float
    input_tokens: int | None
    output_tokens: int | None
    ttft: float | None
    text: str | None = None


@dataclass
class Tool:
    """One tool call with its measured latency."""

    start: float
    end: float
    latency: float
    name: str
    call_id: str
    arguments: object = None
    result: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Parsed:
    """One conversation's records, by kind."""

    anchors: list = field(default_factory=list)
    models: list = field(default_factory=list)
    tools: list = field(default_factory=list)
    measures: list = field(default_factory=list)  # (time, key, seconds)
    unmapped: list = field(default_factory=list)  # span names
    notes: list = field(default_factory=list)  # reasons a span was only partly used


def detect(spans: list[Span]) -> str:
    """The source whose names or attributes the spans carry (GenAI when neither's)."""
    names = {s.name for s in spans}
    if any(k.startswith("lk.") for s in spans for k in s.attrs) or \
            names & {"user_turn", "agent_turn", "function_tool", "llm_node"}:
        return "livekit"
    if {"turn", "conversation"} & names and (
            names & {"llm", "stt", "tts", "llm_tool_call"}
            or any(k.startswith("turn.") for s in spans for k in s.attrs)):
        return "pipecat"
    return "genai"


def _number(value) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return float(value) if ok and value != float("inf") else None


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _model(span: Span, ttft, text=None) -> Model:
    a = span.attrs
    return Model(span.start, span.end, _count(a.get("gen_ai.usage.input_tokens")),
                 _count(a.get("gen_ai.usage.output_tokens")), _number(ttft), _text(text))


def message_text(raw, role: str) -> str | None:
    """The text of the last message of `role` in GenAI `gen_ai.input.messages` /
    `gen_ai.output.messages` (JSON: [{role, parts: [{type: text, content}]}])."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    if not isinstance(raw, list):
        return None
    texts = []
    for msg in raw:
        if isinstance(msg, dict) and msg.get("role") == role:
            parts = msg.get("parts") if isinstance(msg.get("parts"), list) else []
            texts = [p["content"] for p in parts if isinstance(p, dict)
                     and p.get("type") == "text" and isinstance(p.get("content"), str)]
    return _text(" ".join(texts))


RTSIM_EXTRAS = ("rtsim.tool.output_tokens", "rtsim.tool.safe", "rtsim.tool.depends_on")
"""Attributes rtsim's own export adds to tool spans (no GenAI key holds them)."""

GENAI_MODEL_OPS = frozenset({"chat", "text_completion", "generate_content"})
GENAI_STRUCTURAL = frozenset({"create_agent", "embeddings", "invoke_workflow"})


def parse_genai(spans: list[Span], out: Parsed) -> None:
    """GenAI semantic conventions: invoke_agent (a turn), chat, execute_tool."""
    for s in spans:
        a, op = s.attrs, _text(s.attrs.get("gen_ai.operation.name"))
        if op == "invoke_agent":
            out.anchors.append(Anchor(s.start, message_text(
                a.get("gen_ai.input.messages"), "user")))
        elif op in GENAI_MODEL_OPS:
            out.models.append(_model(s, a.get("gen_ai.response.time_to_first_chunk"),
                                     message_text(a.get("gen_ai.output.messages"), "assistant")))
        elif op == "execute_tool":
            name = a.get("gen_ai.tool.name") or s.name.removeprefix("execute_tool ").strip()
            call_id = str(a.get("gen_ai.tool.call.id") or s.span_id)
            out.tools.append(Tool(s.start, s.end, s.duration, str(name), call_id,
                                  a.get("gen_ai.tool.call.arguments"),
                                  _text(a.get("gen_ai.tool.call.result")),
                                  {k: a[k] for k in RTSIM_EXTRAS if k in a}))
            if a.get("error.type") == "cancelled":
                out.tools.pop()
                out.notes.append("cancelled tool call")
        elif op not in GENAI_STRUCTURAL:
            out.unmapped.append(s.name)


LIVEKIT_STRUCTURAL = frozenset({"agent_session", "agent_speaking", "user_speaking",
                                "start_agent_activity", "drain_agent_activity",
                                "on_enter", "on_exit", "on_user_turn_completed"})


def parse_livekit(spans: list[Span], out: Parsed) -> None:
    """LiveKit Agents: user_turn, eou_detection, agent_turn, llm_node / llm_request,
    tts_node, function_tool."""
    by_id = {s.span_id: s for s in spans}
    for s in spans:
        a = s.attrs
        if s.name == "user_turn":
            out.anchors.append(Anchor(s.start, _text(a.get("lk.pii.user_transcript"))))
            for key, name in (("lk.end_of_turn_delay", "end_of_turn_delay"),
                              ("lk.transcription_delay", "transcription_delay")):
                _measure(out, s, a.get(key), name)
        elif s.name == "eou_detection":
            _measure(out, s, a.get("lk.eou.endpointing_delay"), "endpointing_delay")
        elif s.name == "agent_turn":
            _measure(out, s, a.get("lk.e2e_latency"), "e2e_latency")
            if a.get("lk.interrupted") is True:
                out.notes.append("interrupted agent turn")
        elif s.name == "llm_request":
            node = by_id.get(s.parent_id)
            node_attrs = node.attrs if node is not None and node.name == "llm_node" else {}
            out.models.append(_model(s, node_attrs.get("lk.response.ttft"),
                                     node_attrs.get("lk.pii.response.text")))
        elif s.name == "llm_node":
            if not any(c.parent_id == s.span_id and c.name == "llm_request" for c in spans):
                out.models.append(_model(s, a.get("lk.response.ttft"),
                                         a.get("lk.pii.response.text")))
        elif s.name == "tts_node":
            _measure(out, s, a.get("lk.response.ttfb"), "tts_ttfb")
        elif s.name == "function_tool":
            name = str(a.get("lk.function_tool.name") or "")
            out.tools.append(Tool(s.start, s.end, s.duration, name,
                                  str(a.get("lk.function_tool.id") or s.span_id),
                                  a.get("lk.pii.function_tool.arguments"),
                                  _text(a.get("lk.pii.function_tool.output"))))
        elif s.name not in LIVEKIT_STRUCTURAL:
            out.unmapped.append(s.name)


def parse_pipecat(spans: list[Span], out: Parsed) -> None:
    """Pipecat: conversation, turn, stt, llm, tts, llm_tool_call + llm_tool_result (the
    latency runs from the end of the call's span to the start of its result's)."""
    results = {}
    for s in spans:
        if s.name == "llm_tool_result" and isinstance(s.attrs.get("tool.call_id"), str):
            results.setdefault(s.attrs["tool.call_id"], s)
    for s in spans:
        a = s.attrs
        if s.name == "turn":
            out.anchors.append(Anchor(s.start))
            _measure(out, s, a.get("turn.user_bot_latency_seconds"), "e2e_latency")
            if a.get("turn.was_interrupted") is True:
                out.notes.append("interrupted turn")
        elif s.name == "stt":
            if a.get("is_final", True) is not False and _text(a.get("transcript")):
                out.measures.append((s.start, "transcript", a["transcript"].strip()))
        elif s.name == "llm":
            out.models.append(_model(s, a.get("metrics.ttfb"), a.get("output")))
        elif s.name == "tts":
            _measure(out, s, a.get("metrics.ttfb"), "tts_ttfb")
        elif s.name == "llm_tool_call":
            _pipecat_call(s, results, out)
        elif s.name not in ("conversation", "llm_tool_result"):
            out.unmapped.append(s.name)


def _pipecat_call(s: Span, results: dict, out: Parsed) -> None:
    call_id = s.attrs.get("tool.call_id")
    result = results.get(call_id) if isinstance(call_id, str) else None
    if result is None or result.start < s.end:
        out.notes.append("tool call with no result after it")
        return
    latency = (result.start_ns - s.end_ns) / NANOS
    name = str(s.attrs.get("tool.function_name") or "")
    out.tools.append(Tool(s.end, result.start, latency, name,
                          call_id, s.attrs.get("tool.arguments"),
                          _text(result.attrs.get("tool.result"))))


def _measure(out: Parsed, span: Span, value, name: str) -> None:
    seconds = _number(value)
    if seconds is not None:
        out.measures.append((span.start, name, seconds))


PARSERS = {"genai": parse_genai, "livekit": parse_livekit, "pipecat": parse_pipecat}
