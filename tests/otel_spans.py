"""OTLP JSON produced by the real OpenTelemetry SDK, with the span and attribute names
LiveKit Agents and Pipecat emit (fixtures for the otel importer's tests)."""

import base64
import json

import pytest

pytest.importorskip("opentelemetry.sdk")
from google.protobuf import json_format  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

T0 = 1_767_225_600 * 10**9  # 2026-01-01 00:00 UTC, in ns


class Recorder:
    """A tracer whose spans are given explicit times (seconds after T0)."""

    def __init__(self):
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = provider.get_tracer("fixture")

    def span(self, name, start, end, parent=None, **attrs):
        ctx = trace.set_span_in_context(parent) if parent is not None else None
        span = self.tracer.start_span(name, context=ctx, start_time=T0 + round(start * 1e9),
                                      attributes=attrs)
        span.end(end_time=T0 + round(end * 1e9))
        return span

    def otlp_json(self) -> str:
        """The spans as one OTLP JSON document, ids in hex (protobuf JSON gives base64)."""
        raw = json_format.MessageToDict(encode_spans(self.exporter.get_finished_spans()))
        for resource in raw["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for span in scope["spans"]:
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in span:
                            span[key] = base64.b64decode(span[key]).hex()
        return json.dumps(raw)


def livekit() -> str:
    """Two turns: two parallel weather look-ups, then a search and a booking that uses its
    result."""
    r = Recorder()
    session = r.span("agent_session", 0, 20)
    r.span("user_turn", 0.0, 2.0, session, **{
        "lk.pii.user_transcript": "What's the weather in Paris and in Rome?",
        "lk.end_of_turn_delay": 0.6, "lk.transcription_delay": 0.2})
    r.span("eou_detection", 2.0, 2.5, session, **{"lk.eou.endpointing_delay": 0.5})
    turn = r.span("agent_turn", 2.6, 6.0, session, **{"lk.e2e_latency": 1.4,
                                                      "lk.interrupted": False})
    node = r.span("llm_node", 2.6, 3.2, turn, **{"lk.response.ttft": 0.4})
    r.span("llm_request", 2.6, 3.2, node, **{"gen_ai.usage.input_tokens": 500,
                                             "gen_ai.usage.output_tokens": 30})
    for city, end in (("Paris", 3.9), ("Rome", 4.3)):
        r.span("function_tool", 3.2, end, turn, **{
            "lk.function_tool.name": "get_weather", "lk.function_tool.id": f"w-{city}",
            "lk.pii.function_tool.arguments": json.dumps({"city": city}),
            "lk.pii.function_tool.output": "Sunny, 22 C"})
    node = r.span("llm_node", 4.3, 5.0, turn, **{"lk.response.ttft": 0.3,
                                                 "lk.pii.response.text": "Sunny in both."})
    r.span("llm_request", 4.3, 5.0, node, **{"gen_ai.usage.input_tokens": 600,
                                             "gen_ai.usage.output_tokens": 20})
    r.span("tts_node", 5.0, 6.0, turn, **{"lk.response.ttfb": 0.15})
    r.span("user_turn", 8.0, 10.0, session, **{
        "lk.pii.user_transcript": "Book a table at Chez Marie for two",
        "lk.end_of_turn_delay": 0.8, "lk.transcription_delay": 0.3})
    r.span("eou_detection", 10.0, 10.7, session, **{"lk.eou.endpointing_delay": 0.7})
    turn = r.span("agent_turn", 10.8, 14.0, session)
    node = r.span("llm_node", 10.8, 11.2, turn, **{"lk.response.ttft": 0.35})
    r.span("llm_request", 10.8, 11.2, node, **{"gen_ai.usage.input_tokens": 700,
                                               "gen_ai.usage.output_tokens": 25})
    r.span("function_tool", 11.2, 11.7, turn, **{
        "lk.function_tool.name": "find_restaurant", "lk.function_tool.id": "f1",
        "lk.pii.function_tool.arguments": json.dumps({"name": "Chez Marie"}),
        "lk.pii.function_tool.output": "Chez Marie, id R42, 12 Rue Cler"})
    r.span("function_tool", 11.9, 12.8, turn, **{
        "lk.function_tool.name": "book_table", "lk.function_tool.id": "b1",
        "lk.pii.function_tool.arguments": json.dumps({"restaurant_id": "R42", "party": 2}),
        "lk.pii.function_tool.output": "booked"})
    node = r.span("llm_node", 12.8, 13.4, turn, **{"lk.response.ttft": 0.25,
                                                   "lk.pii.response.text": "Booked for two."})
    r.span("llm_request", 12.8, 13.4, node, **{"gen_ai.usage.input_tokens": 800,
                                               "gen_ai.usage.output_tokens": 15})
    return r.otlp_json()


def pipecat() -> str:
    """One turn: a flight search whose result the second model request reads."""
    r = Recorder()
    conv = r.span("conversation", 0, 10, None, **{"conversation.id": "pc-1",
                                                  "conversation.type": "voice"})
    turn = r.span("turn", 0.0, 6.0, conv, **{"turn.number": 1,
                                             "turn.user_bot_latency_seconds": 1.9,
                                             "turn.was_interrupted": False})
    r.span("stt", 0.2, 1.4, turn, transcript="Search flights to Oslo tomorrow",
           is_final=True, **{"metrics.ttfb": 0.2})
    r.span("llm", 1.6, 2.0, turn, **{"gen_ai.operation.name": "chat", "metrics.ttfb": 0.35,
                                     "gen_ai.usage.input_tokens": 300,
                                     "gen_ai.usage.output_tokens": 18})
    r.span("llm_tool_call", 2.0, 2.05, turn, **{
        "tool.function_name": "search_flights", "tool.call_id": "call_1",
        "tool.arguments": json.dumps({"city": "Oslo", "day": "tomorrow"})})
    r.span("llm_tool_result", 2.85, 2.9, turn, **{
        "tool.function_name": "search_flights", "tool.call_id": "call_1",
        "tool.result": json.dumps({"flights": ["SK 4411 at 08:10"]})})
    r.span("llm", 2.9, 3.6, turn, **{"gen_ai.operation.name": "chat", "metrics.ttfb": 0.4,
                                     "gen_ai.usage.input_tokens": 360,
                                     "gen_ai.usage.output_tokens": 24,
                                     "output": "There is SK 4411 at 08:10."})
    r.span("tts", 3.6, 4.5, turn, **{"metrics.ttfb": 0.12})
    return r.otlp_json()
