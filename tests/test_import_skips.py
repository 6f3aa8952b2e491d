"""Bad records in the OpenAI and question imports: skipped, counted in one summary line,
exit 0; `--strict` fails on the first (exit 2). The OpenAI legacy `function_call` form."""

import json

from click.testing import CliRunner

from rtsim.cli.traces import traces_group
from rtsim.traces.importers.openai_messages import import_openai_messages
from rtsim.traces.schema import load_traces

VALID = {"id": "ok", "messages": [
    {"role": "user", "content": [{"type": "text", "text": "Is it raining in Oslo?"}]},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
    {"role": "tool", "tool_call_id": "t1", "content": "Rain, 4 C"},
    {"role": "assistant", "content": [{"type": "text", "text": "Yes, it is raining."}]}]}


def invoke(*args):
    return CliRunner().invoke(traces_group, [str(a) for a in args])


def test_one_empty_conversation_among_valid_ones_is_skipped_and_said(tmp_path):
    src, out = tmp_path / "log.json", tmp_path / "t.jsonl"
    unanswered = {"id": "u", "messages": [{"role": "user", "content": "hello?"}]}
    bad_args = {"id": "j", "messages": [{"role": "user", "content": "x"}, {
        "role": "assistant", "tool_calls": [{"id": "a", "function": {
            "name": "f", "arguments": "{nope"}}]}]}
    src.write_text(json.dumps([VALID, {"id": "e", "messages": []},
                               {**VALID, "id": "ok2"}, unanswered, bad_args]))
    result = invoke("import", "openai-messages", src, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"wrote {out}: 2 episodes, 2 turns, 2 calls",
        f"skipped 3 of 5 conversations: 1 empty, 1 with no answered user turn, 1 with "
        f"arguments that are not JSON ({src}[1]: empty (messages: no messages); {src}[3]: "
        f"with no answered user turn (messages: no user turn with an assistant reply); "
        f"{src}[4]: with arguments that are not JSON (messages[1].tool_calls[0].function."
        f"arguments: not valid JSON (Expecting property name enclosed in double quotes)))"]
    assert [e.id for e in load_traces(out)] == ["ok", "ok2"]


def test_strict_fails_on_the_first_skipped_conversation(tmp_path):
    src, out = tmp_path / "log.json", tmp_path / "t.jsonl"
    src.write_text(json.dumps([VALID, {"id": "e", "messages": []}]))
    result = invoke("import", "openai-messages", src, "--strict", "--out", out)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {src}[1]: messages: no messages\n"
    assert not out.exists()


def test_a_tool_result_without_its_call_skips_the_conversation(tmp_path):
    src = tmp_path / "log.json"
    orphan = {"id": "o", "messages": [VALID["messages"][0],
                                      {"role": "tool", "tool_call_id": "zz", "content": "?"}]}
    src.write_text(json.dumps([VALID, orphan]))
    skipped = []
    assert [e["id"] for e in import_openai_messages(src, skipped)] == ["ok"]
    assert [(s.where, s.reason) for s in skipped] == [
        (f"{src}[1]", "with a tool result without its call")]


def test_the_legacy_function_call_form_is_read(tmp_path):
    src = tmp_path / "log.json"
    src.write_text(json.dumps({"messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None,
         "function_call": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}},
        {"role": "function", "name": "get_weather", "content": "Rain, 4 C"},
        {"role": "assistant", "content": "It's raining."}]}))
    [episode] = import_openai_messages(src)
    [turn] = episode["turns"]
    assert turn["steps"] == [{"calls": [{"id": "c1", "name": "get_weather",
                                         "arguments": {"city": "Oslo"}, "safe": True,
                                         "output": "Rain, 4 C"}]}]
    assert turn["answer"] == "It's raining."


def test_bad_questions_are_skipped_and_counted(tmp_path):
    src, out = tmp_path / "q.json", tmp_path / "q.jsonl"
    src.write_text(json.dumps([{"id": "a", "question": "Is Rome older than Paris?",
                                "answer": "yes"}, {"id": "b", "question": " ", "answer": "x"},
                               {"id": "a", "question": "Is Oslo cold?", "answer": "yes"}]))
    result = invoke("import", "questions", src, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (
        f"skipped 2 of 3 questions: 1 empty, 1 with a duplicate id ({src}[1]: empty "
        f"(question: empty); {src}[2]: with a duplicate id (id: duplicate id 'a'))")
    assert invoke("import", "questions", src, "--strict", "--out", out).exit_code == 2
