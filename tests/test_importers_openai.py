"""OpenAI chat-format importer: turns, steps, dependencies, input shapes, bad input, tau-bench."""

import json
from pathlib import Path

import pytest

from rtsim.errors import InputError
from rtsim.traces.importers.openai_messages import import_openai_messages
from rtsim.traces.schema import parse_episode
from rtsim.traces.tokens import count_tokens

SHARED = Path(__file__).parents[2] / "shared" / "data"


def call(id_, tool_name, **arguments):
    return {"id": id_, "type": "function",
            "function": {"name": tool_name, "arguments": json.dumps(arguments)}}


def tool(id_, content):
    return {"role": "tool", "tool_call_id": id_, "content": content}


CONVERSATION = [
    {"role": "system", "content": "You are a travel agent."},
    {"role": "assistant", "content": "Hello, how can I help?"},
    {"role": "user", "content": "Find my booking."},
    {"role": "user", "content": "My name is Ada Lovelace."},
    {"role": "assistant", "content": "Let me look.",
     "tool_calls": [call("a", "get_user", name="Ada Lovelace"), call("b", "get_weather")]},
    tool("a", '{"booking": "BK12"}'),
    tool("b", "sunny"),
    {"role": "assistant", "content": None, "tool_calls": [call("c", "cancel_booking", id="BK12")]},
    tool("c", "cancelled"),
    {"role": "assistant", "content": "Booking BK12 is cancelled."},
    {"role": "user", "content": "Thanks!"},
]


def write(tmp_path, value, name="log.json"):
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


def test_conversation_becomes_exact_episode(tmp_path):
    path = write(tmp_path, {"id": "conv1", "messages": CONVERSATION})
    assert import_openai_messages(path) == [{
        "id": "conv1", "source": "openai-messages",
        "system_tokens": count_tokens("You are a travel agent."),
        "turns": [{
            "user": "Find my booking. My name is Ada Lovelace.",
            "steps": [
                {"reasoning_tokens": count_tokens("Let me look."), "calls": [
                    {"id": "a", "name": "get_user", "arguments": {"name": "Ada Lovelace"},
                     "safe": True, "output": '{"booking": "BK12"}'},
                    {"id": "b", "name": "get_weather", "arguments": {}, "safe": True,
                     "output": "sunny"}]},
                {"calls": [{"id": "c", "name": "cancel_booking", "arguments": {"id": "BK12"},
                            "safe": False, "output": "cancelled", "depends_on": ["a"]}]},
            ],
            "answer": "Booking BK12 is cancelled."}],
    }]


def test_known_at_skips_values_read_from_dependencies(tmp_path):
    [raw] = import_openai_messages(write(tmp_path, {"messages": CONVERSATION}))
    turn = parse_episode(raw, "x").turns[0]
    assert [c.known_at for c in turn.calls] == [8, 0, 0]


def test_dependency_on_any_earlier_step_of_the_turn(tmp_path):
    messages = [{"role": "user", "content": "Check both of my bookings."},
                {"role": "assistant", "tool_calls": [call("u", "get_user", user="me")]},
                tool("u", '{"bookings": ["BK1", "BK2"]}'),
                {"role": "assistant", "tool_calls": [call("r1", "get_booking", id="BK1")]},
                tool("r1", "BK1: Paris"),
                {"role": "assistant", "tool_calls": [call("r2", "get_booking", id="BK2")]},
                tool("r2", "BK2: Rome"),
                {"role": "assistant", "content": "Paris and Rome."}]
    [episode] = import_openai_messages(write(tmp_path, [messages]))
    deps = [c.get("depends_on") for s in episode["turns"][0]["steps"] for c in s["calls"]]
    assert deps == [None, ["u"], ["u"]]


def test_text_between_steps_is_reasoning_and_tool_ending_turn_has_minimal_answer(tmp_path):
    messages = [{"role": "user", "content": "Transfer me."},
                {"role": "assistant", "content": "One moment."},
                {"role": "assistant", "content": "", "tool_calls": [call("t", "transfer")]},
                tool("t", "Transfer successful")]
    [episode] = import_openai_messages(write(tmp_path, [messages]))
    assert episode["turns"] == [{
        "user": "Transfer me.", "answer_tokens": 1,
        "steps": [{"reasoning_tokens": count_tokens("One moment."), "calls": [
            {"id": "t", "name": "transfer", "arguments": {}, "safe": False,
             "output": "Transfer successful"}]}]}]


@pytest.mark.parametrize("layout", ["array", "jsonl", "messages", "traj", "bare"])
def test_accepted_layouts(tmp_path, layout):
    convs = [CONVERSATION, CONVERSATION[2:]]
    text = {
        "array": json.dumps([{"messages": c} for c in convs]),
        "jsonl": "\n".join(json.dumps({"messages": c}) for c in convs) + "\n\n",
        "messages": json.dumps({"messages": CONVERSATION}),
        "traj": json.dumps({"traj": CONVERSATION, "task_id": 7, "trial": 1}),
        "bare": json.dumps(CONVERSATION),
    }[layout]
    episodes = import_openai_messages(write(tmp_path, text))
    assert len(episodes) == (2 if layout in ("array", "jsonl") else 1)
    assert len({e["id"] for e in episodes}) == len(episodes)
    if layout == "traj":
        assert episodes[0]["id"] == "task7-trial1"


def test_tools_add_to_system_tokens(tmp_path):
    tools = [{"type": "function", "function": {"name": "get_user", "parameters": {}}}]
    [episode] = import_openai_messages(write(tmp_path, {"messages": CONVERSATION,
                                                        "tools": tools}))
    assert episode["system_tokens"] == (count_tokens("You are a travel agent.")
                                        + count_tokens(json.dumps(tools)))


def test_content_parts_are_joined(tmp_path):
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hi"},
                                             {"type": "text", "text": "there"}]},
                {"role": "assistant", "content": "Hello"}]
    [episode] = import_openai_messages(write(tmp_path, [messages]))
    assert episode["turns"][0]["user"] == "Hi there"


@pytest.mark.parametrize(("text", "match"), [
    ('[{"messages": [}]', r"log\.json:1: not valid JSON"),
    ('{"messages": []}\n{"messages": [\n', r"log\.json:2: not valid JSON"),
    ('{"nothing": 1}', r"log\.json: a conversation must be a list of messages"),
    (json.dumps([[{"role": "user", "content": "x"},
                  {"role": "assistant", "tool_calls": [
                      {"id": "q", "function": {"name": "f", "arguments": "{bad"}}]}]]),
     r"log\.json\[0\]: messages\[1\]\.tool_calls\[0\]\.function\.arguments: not valid JSON"),
    (json.dumps([[{"role": "user", "content": "x"}, tool("zz", "out")]]),
     r"messages\[1\]\.tool_call_id: no earlier tool call with id 'zz'"),
    (json.dumps([[{"role": "robot", "content": "x"}]]), r"messages\[0\]\.role: unknown role"),
    (json.dumps([[{"role": "user", "content": "unanswered"}]]), r"no user turn with an assistant"),
    ("", r"log\.json: empty file"),
])
def test_bad_input_is_one_located_line(tmp_path, text, match):
    with pytest.raises(InputError, match=match) as info:
        import_openai_messages(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_tau_bench_airline_imports_whole():
    path = SHARED / "tau-bench" / "gpt-4o-airline.json"
    if not path.is_file():
        pytest.skip(f"{path} is missing (reference data lives outside the repo)")
    episodes = [parse_episode(e, e["id"]) for e in import_openai_messages(path)]
    calls = sum(len(t.calls) for e in episodes for t in e.turns)
    assert (len(episodes), calls) == (200, 1164)
    assert all(e.system_tokens for e in episodes)


def test_the_system_prompts_current_date_is_the_episodes_date(tmp_path):
    system = "Policy. The current time is 2024-05-15 15:00:00 EST."
    messages = [{"role": "system", "content": system},
                {"role": "user", "content": "Fly me to Rome tomorrow."},
                {"role": "assistant",
                 "tool_calls": [call("s", "search_flights", date="2024-05-16")]},
                tool("s", "no flights"),
                {"role": "assistant", "content": "None left."}]
    [raw] = import_openai_messages(write(tmp_path, [messages]))
    assert raw["date"] == "2024-05-15"
    episode = parse_episode(raw, "x")
    assert episode.turns[0].calls[0].known_at == 5
    del raw["date"], messages[0]
    [undated] = import_openai_messages(write(tmp_path, [messages]))
    assert "date" not in undated
