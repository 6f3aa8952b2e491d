"""Hypothesis fuzz of the otel importer and of the skipping imports: any input either
imports (every episode valid, every span read or skipped and counted) or fails in one line."""

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rtsim.errors import InputError
from rtsim.traces.importers.openai_messages import import_openai_messages
from rtsim.traces.importers.otel import import_otel
from rtsim.traces.importers.questions import import_questions
from rtsim.traces.schema import parse_episode
from tests.test_fuzz_inputs import CONVERSATION, QUESTION

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMES = ["user_turn", "agent_turn", "eou_detection", "llm_node", "llm_request", "tts_node",
         "function_tool", "conversation", "turn", "stt", "llm", "tts", "llm_tool_call",
         "llm_tool_result", "invoke_agent x", "chat m", "execute_tool t", "other"]
KEYS = ["gen_ai.operation.name", "gen_ai.tool.name", "gen_ai.tool.call.id",
        "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens", "gen_ai.response.time_to_first_chunk",
        "gen_ai.input.messages", "gen_ai.conversation.id", "conversation.id", "error.type",
        "lk.function_tool.name", "lk.function_tool.id", "lk.pii.function_tool.arguments",
        "lk.pii.function_tool.output", "lk.pii.user_transcript", "lk.response.ttft",
        "lk.eou.endpointing_delay", "tool.call_id", "tool.function_name", "tool.arguments",
        "tool.result", "transcript", "metrics.ttfb", "rtsim.tool.output_tokens",
        "rtsim.tool.safe", "rtsim.tool.depends_on"]
SCALAR = st.one_of(
    st.builds(lambda v: {"stringValue": v}, st.sampled_from(
        ["chat", "execute_tool", "invoke_agent", "get_x", "c1", '{"a": 1}', "[]", "hi there",
         "cancelled", ""]) | st.text(max_size=8)),
    st.builds(lambda v: {"intValue": v}, st.integers(-5, 10**6) | st.sampled_from(["7", "x"])),
    st.builds(lambda v: {"doubleValue": v}, st.floats(allow_nan=True)),
    st.builds(lambda v: {"boolValue": v}, st.booleans()),
    st.just({}), st.integers())
VALUE = st.recursive(SCALAR, lambda inner: st.builds(
    lambda vs: {"arrayValue": {"values": vs}}, st.lists(inner, max_size=3)), max_leaves=6)
HEX = st.sampled_from(["a" * 32, "b" * 32, "c" * 16, "d" * 16, "e" * 16, "zz", "", 5])
TIME = st.integers(0, 3 * 10**9) | st.sampled_from(["100", "-1", "x", None, 1.5])
SPAN = st.fixed_dictionaries(
    {"traceId": HEX, "spanId": HEX, "name": st.sampled_from(NAMES) | st.integers(),
     "startTimeUnixNano": TIME, "endTimeUnixNano": TIME},
    optional={"parentSpanId": HEX, "attributes": st.lists(st.fixed_dictionaries(
        {"key": st.sampled_from(KEYS), "value": VALUE}), max_size=6) | st.integers()})
ATTRIBUTES = st.lists(st.fixed_dictionaries({"key": st.sampled_from(KEYS), "value": VALUE}),
                      max_size=6)
WELL_FORMED = st.builds(
    lambda trace, span_id, name, start, length, attrs: {
        "traceId": trace, "spanId": span_id, "name": name,
        "startTimeUnixNano": str(start), "endTimeUnixNano": start + length,
        "attributes": attrs},
    st.sampled_from(["a" * 32, "b" * 32]), st.sampled_from(["c" * 16, "d" * 16, "e" * 16]),
    st.sampled_from(NAMES), st.integers(0, 10**10), st.integers(0, 3 * 10**9), ATTRIBUTES)
DOCUMENT = st.builds(lambda spans: {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]},
                     st.lists(WELL_FORMED | WELL_FORMED | SPAN | st.integers(), max_size=10))


LIST_OPERATION = {"resourceSpans": [{"scopeSpans": [{"spans": [{
    "traceId": "a" * 32, "spanId": "c" * 16, "name": "chat m", "startTimeUnixNano": "0",
    "endTimeUnixNano": 10, "attributes": [{"key": "gen_ai.operation.name",
                                           "value": {"arrayValue": {"values": []}}}]}]}]}]}


@FUZZ
@given(st.lists(DOCUMENT, min_size=1, max_size=3))
@example(documents=[LIST_OPERATION])  # once a TypeError: a list is no operation name
def test_otel_import_reads_or_counts_every_span(tmp_path, documents):
    path = tmp_path / "spans.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in documents))
    try:
        imported = import_otel([path])
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    total = sum(len(d["resourceSpans"][0]["scopeSpans"][0]["spans"]) for d in documents)
    malformed = [s for s in imported.skipped if s.reason == "malformed span"]
    assert imported.spans + len(malformed) == total
    for row in imported.episodes:
        parse_episode(row, row["id"])


@FUZZ
@given(st.lists(CONVERSATION, min_size=1, max_size=4))
def test_openai_import_keeps_or_counts_every_conversation(tmp_path, conversations):
    path = tmp_path / "log.json"
    path.write_text(json.dumps(conversations, allow_nan=True), encoding="utf-8")
    skipped = []
    try:
        rows = import_openai_messages(path, skipped)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    if not all(isinstance(c, dict) and "role" in c for c in conversations):
        assert len(rows) + len(skipped) == len(conversations)
    for row in rows:
        parse_episode(row, row["id"])


@FUZZ
@given(st.lists(QUESTION, min_size=1, max_size=4))
def test_question_import_keeps_or_counts_every_row(tmp_path, rows):
    path = tmp_path / "q.json"
    path.write_text(json.dumps(rows, allow_nan=True), encoding="utf-8")
    skipped = []
    episodes = import_questions(path, skipped=skipped)
    assert len(episodes) + len(skipped) == len(rows)
