"""The streaming backend client against a scripted OpenAI-style server on loopback."""

import asyncio
import json
import re
import socket

import pytest

pytest.importorskip("httpx")
pytest.importorskip("httpx_sse")

from rtsim.real.backend.client import Backend, normalize_base_url  # noqa: E402
from rtsim.real.backend.errors import BackendError  # noqa: E402

MESSAGES = [{"role": "user", "content": "hello"}]
TOOL = {"name": "get_weather", "parameters": {"type": "object",
                                               "properties": {"city": {"type": "string"}}}}


def delta(text=None, finish=None, tool_args=None):
    """One chat.completion.chunk."""
    d = {"content": text} if text is not None else {}
    if tool_args is not None:
        d["tool_calls"] = [{"index": 0, "function": {"name": "get_weather",
                                                     "arguments": tool_args}}]
    return {"object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


def reply(*texts, finish="length", extra=()):
    """Event data lines of a complete reply."""
    return ([json.dumps(delta(t)) for t in texts] + [json.dumps(delta(finish=finish))]
            + [json.dumps(e) for e in extra] + ["[DONE]"])


class FakeServer:
    """Answers each request with the next scripted behaviour (the last one repeats)."""

    def __init__(self, *behaviours):
        self.behaviours = list(behaviours)
        self.requests = []
        self.gone = asyncio.Event()
        self.sent = 0

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc):
        self.server.close()

    async def _handle(self, reader, writer):
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                lines = head.split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                size = int(headers.get("content-length", headers.get("Content-Length", 0)))
                body = json.loads(await reader.readexactly(size)) if size else None
                self.requests.append((lines[0], {k.lower(): v for k, v in headers.items()},
                                      body))
                act = self.behaviours.pop(0) if len(self.behaviours) > 1 else self.behaviours[0]
                if not await act(self, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def sse(data_lines, cut=False, content_type="text/event-stream"):
    """A 200 chunked response sending each line as an SSE event; `cut` drops the end."""
    async def act(server, reader, writer):
        writer.write(f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\n"
                     "transfer-encoding: chunked\r\n\r\n".encode())
        for line in data_lines:
            event = f"data: {line}\n\n".encode()
            writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            await writer.drain()
        if cut:
            return False
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True
    return act


def status(code, body):
    """A JSON error response."""
    async def act(server, reader, writer):
        data = json.dumps(body).encode()
        writer.write(f"HTTP/1.1 {code} Error\r\ncontent-type: application/json\r\n"
                     f"content-length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()
        return True
    return act


def json_reply(body):
    """A 200 JSON response."""
    async def act(server, reader, writer):
        data = json.dumps(body).encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     + f"content-length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()
        return True
    return act


def silent(seconds, after=()):
    """Send the `after` events (if any, as an open stream), then nothing for `seconds`."""
    async def act(server, reader, writer):
        if after:
            await sse(after, cut=True)(server, reader, writer)
        await asyncio.sleep(seconds)
        return False
    return act


async def endless(server, reader, writer):
    """Stream tokens every 20 ms until the client goes away (then set `server.gone`)."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                 b"transfer-encoding: chunked\r\n\r\n")
    while server.sent < 1000:
        event = f"data: {json.dumps(delta('tok'))}\n\n".encode()
        try:
            writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            await writer.drain()
            server.sent += 1
            if await asyncio.wait_for(reader.read(1), 0.02) == b"":
                break
        except asyncio.TimeoutError:
            continue
        except ConnectionError:
            break
    server.gone.set()
    return False


def run(coro):
    return asyncio.run(coro)


def backend(url, **kw):
    kw.setdefault("backoff", 0.001)
    return Backend(url, "m", **kw)


def test_a_reply_whose_token_has_no_text_still_ends_when_its_last_event_comes():
    async def main():
        async with FakeServer(sse(reply(""))) as server, backend(server.url) as b:
            async with b.stream(MESSAGES, 1, exact=False) as s:
                chunks = [c async for c in s]
            return chunks, s.result
    chunks, result = run(main())
    assert chunks == [] and result.first_at is None
    assert result.end_at > result.sent_at


def test_stream_yields_each_chunk_and_the_result():
    async def main():
        async with FakeServer(sse(reply("Hel", "lo"))) as server, backend(server.url) as b:
            async with b.stream(MESSAGES, 2) as s:
                chunks = [c async for c in s]
            return server, chunks, s.result
    server, chunks, result = run(main())
    assert [(c.text, c.tokens, c.kind) for c in chunks] == [("Hel", 1, "content"),
                                                            ("lo", 1, "content")]
    assert result.sent_at <= chunks[0].at == result.first_at <= chunks[1].at <= result.end_at
    assert (result.text, result.tokens, result.tokens_from) == ("Hello", 2, "length")
    assert result.finish_reason == "length" and result.complete
    line, headers, body = server.requests[0]
    assert line == "POST /v1/chat/completions HTTP/1.1" and "authorization" not in headers
    assert body == {"model": "m", "messages": MESSAGES, "max_tokens": 2, "temperature": 0.0,
                    "stream": True, "stream_options": {"include_usage": True},
                    "min_tokens": 2, "ignore_eos": True}


def test_token_count_comes_from_usage_else_from_chunks():
    usage = {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 5}}
    async def main(lines, **kw):
        async with FakeServer(sse(lines)) as server, backend(server.url, **kw) as b:
            return await b.generate(MESSAGES, 8, exact=False), server.requests[0][2]
    with_usage, _ = run(main(reply("a", "b", finish="stop", extra=[usage])))
    counted, body = run(main(reply("a", "b", "c", finish="stop"), exact_fields=()))
    assert (with_usage.tokens, with_usage.tokens_from, with_usage.prompt_tokens) == (5, "usage", 9)
    assert (counted.tokens, counted.tokens_from, counted.prompt_tokens) == (3, "chunks", None)
    assert "min_tokens" not in body and "ignore_eos" not in body


def test_the_servers_own_timings_are_kept_when_it_sends_them():
    timings = {"cache_n": 800, "prompt_n": 3, "prompt_ms": 21.5, "predicted_n": 2,
               "predicted_ms": 30.0}
    final = {"choices": [], "usage": {"prompt_tokens": 803, "completion_tokens": 2},
             "timings": timings}
    async def main(lines):
        async with FakeServer(sse(lines)) as server, backend(server.url) as b:
            return await b.generate(MESSAGES, 2)
    assert run(main(reply("a", "b", extra=[final]))).timings == timings
    assert run(main(reply("a", "b", extra=[{"choices": [], "timings": "n/a"}]))).timings is None


def test_forced_tool_call_returns_its_arguments():
    lines = [json.dumps(delta(tool_args='{"city": ')), json.dumps(delta(tool_args='"Paris"}')),
             json.dumps(delta(finish="tool_calls")), "[DONE]"]
    async def main():
        async with FakeServer(sse(lines)) as server, backend(server.url) as b:
            async with b.stream(MESSAGES, 30, tool=TOOL) as s:
                kinds = [c.kind async for c in s]
            return server.requests[0][2], kinds, s.result
    body, kinds, result = run(main())
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["tools"] == [{"type": "function", "function": TOOL}]
    assert "min_tokens" not in body
    assert kinds == ["tool", "tool"] and result.text == ""
    assert result.tool_arguments == '{"city": "Paris"}'
    assert result.arguments() == {"city": "Paris"}


def test_a_forced_tool_can_be_asked_for_prefilled():
    body = Backend("http://127.0.0.1:9/v1", "m", force_tool="prefilled").body(MESSAGES, 30,
                                                                           tool=TOOL)
    assert (body["tool_choice"], body["parallel_tool_calls"]) == ("required", False)
    assert body["tools"] == [{"type": "function", "function": TOOL}]
    assert body["messages"] == [*MESSAGES, {"role": "assistant", "content": "{"}]
    with pytest.raises(ValueError, match="force_tool must be one of named, prefilled"):
        Backend("http://127.0.0.1:9/v1", "m", force_tool="any")


def test_api_key_is_read_from_the_environment_at_call_time(monkeypatch):
    monkeypatch.delenv("RTSIM_TEST_KEY", raising=False)
    async def main():
        async with FakeServer(sse(reply("x"))) as server:
            b = backend(server.url, api_key_env="RTSIM_TEST_KEY")
            with pytest.raises(BackendError, match="RTSIM_TEST_KEY .*not set"):
                await b.generate(MESSAGES, 1)
            monkeypatch.setenv("RTSIM_TEST_KEY", "sekret")
            await b.generate(MESSAGES, 1)
            await b.aclose()
            return server.requests, repr(b)
    requests, text = run(main())
    assert len(requests) == 1 and requests[0][1]["authorization"] == "Bearer sekret"
    assert "sekret" not in text


def test_server_down_is_retried_then_reported():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async def main():
        async with backend(f"http://127.0.0.1:{port}/v1", retries=2) as b:
            await b.generate(MESSAGES, 1)
    with pytest.raises(BackendError, match=r"cannot connect .*gave up after 3 attempts") as err:
        run(main())
    assert "\n" not in str(err.value)


def test_500_then_success_is_retried():
    async def main():
        behaviours = (status(500, {"error": {"message": "warming up"}}), sse(reply("ok")))
        async with FakeServer(*behaviours) as server, backend(server.url) as b:
            return await b.generate(MESSAGES, 1), len(server.requests)
    result, requests = run(main())
    assert (result.text, requests) == ("ok", 2)


def test_500_forever_gives_up_naming_the_status_and_message():
    async def main():
        async with FakeServer(status(503, {"detail": "overloaded"})) as server:
            async with backend(server.url, retries=2) as b:
                with pytest.raises(BackendError) as err:
                    await b.generate(MESSAGES, 1)
            return str(err.value), len(server.requests)
    message, requests = run(main())
    assert requests == 3
    assert message.endswith("HTTP 503: overloaded (gave up after 3 attempts)")


def test_400_fails_at_once_with_the_server_message():
    async def main():
        body = {"error": {"message": "max_tokens is too large", "type": "invalid_request"}}
        async with FakeServer(status(400, body)) as server, backend(server.url) as b:
            with pytest.raises(BackendError) as err:
                await b.generate(MESSAGES, 1)
            return str(err.value), len(server.requests)
    message, requests = run(main())
    assert requests == 1
    assert message == f"{message.split(': ')[0]}: HTTP 400: max_tokens is too large"


@pytest.mark.parametrize("act, match", [
    (silent(5), r"no response within 0.2 s \(read timeout\)"),
    (silent(5, after=[json.dumps(delta("a"))]), r"stream stalled: no data for 0.2 s after 1 "),
])
def test_silence_times_out_without_retrying(act, match):
    async def main():
        async with FakeServer(act) as server, backend(server.url, read_timeout=0.2) as b:
            with pytest.raises(BackendError, match=match):
                await b.generate(MESSAGES, 1)
            return len(server.requests)
    assert run(main()) == 1


@pytest.mark.parametrize("act, match", [
    (sse([json.dumps(delta("a"))], cut=True), r"stream cut mid-way after 1 chunks \(peer closed"),
    (sse([json.dumps(delta("a")), "[DONE]"]), "stream cut mid-way: it ended after 1 chunks "
                                              "without a finish_reason"),
    (sse([json.dumps(delta("a"))]), "without a finish_reason"),
    (sse(["{not json"]), "malformed stream: event data is not JSON: '{not json'"),
    (sse(['["a list"]']), "malformed stream: event data is not a JSON object"),
    (sse(['{"choices": [{"index": 0}]}']), "malformed stream: a chunk has no choices"),
    (sse(['{"error": {"message": "out of memory"}}']), "server error mid-stream: out of memory"),
    (sse(reply("a"), content_type="application/json"), "malformed stream: Expected .*text/event"),
])
def test_broken_streams_raise_one_clear_line(act, match):
    async def main():
        async with FakeServer(act) as server, backend(server.url) as b:
            with pytest.raises(BackendError, match=match) as err:
                await b.generate(MESSAGES, 5)
            return str(err.value)
    assert "\n" not in run(main())


def test_leaving_the_stream_early_closes_the_connection():
    async def main():
        async with FakeServer(endless) as server, backend(server.url) as b:
            async with b.stream(MESSAGES, 1000) as s:
                async for _ in s:
                    if s.result.tokens == 3:
                        break
            await asyncio.wait_for(server.gone.wait(), 10)
            return s.result, server.sent
    result, sent = run(main())
    assert (result.tokens, result.tokens_from, result.finish_reason) == (3, "chunks", None)
    assert sent < 1000


def test_cancelling_the_task_closes_the_connection():
    async def main():
        async with FakeServer(endless) as server, backend(server.url) as b:
            seen = asyncio.Event()
            async def consume():
                async with b.stream(MESSAGES, 1000) as s:
                    async for _ in s:
                        seen.set()
            task = asyncio.create_task(consume())
            await seen.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.wait_for(server.gone.wait(), 10)
            return server.sent
    assert run(main()) < 1000


def test_prefill_prompt_tokens_and_models():
    async def main():
        behaviours = (sse(reply("x")), json_reply({"usage": {"prompt_tokens": 42}}),
                      json_reply({"data": [{"id": "smol"}, {"id": "big"}]}))
        async with FakeServer(*behaviours) as server, backend(server.url) as b:
            result = await b.prefill(MESSAGES)
            count, models = await b.prompt_tokens(MESSAGES), await b.models()
            return server.requests, result, count, models
    requests, result, count, models = run(main())
    assert (result.tokens, count, models) == (1, 42, ["smol", "big"])
    assert requests[0][2]["max_tokens"] == 1 and "min_tokens" not in requests[0][2]
    assert requests[1][2]["stream"] is False
    assert requests[2][0] == "GET /v1/models HTTP/1.1"


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
    ("https://api.example.com/v1/", "https://api.example.com/v1"),
    ("http://h:1/openai/v1", "http://h:1/openai/v1"),
])
def test_base_url_normalization(url, expected):
    assert normalize_base_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://h/v1", "127.0.0.1:8000", "http://"])
def test_bad_base_url_is_rejected(url):
    with pytest.raises(BackendError, match="expected http"):
        normalize_base_url(url)


@pytest.mark.parametrize("url", ["http://[::1", "http://h:99999/v1", "http://h:x", "http://a b"])
def test_a_malformed_base_url_is_a_backend_error(url):
    with pytest.raises(BackendError, match=f"^backend URL {re.escape(repr(url))}: "):
        Backend(url, "m")


def test_a_server_that_echoes_the_key_does_not_leak_it(monkeypatch):
    monkeypatch.setenv("RTSIM_TEST_KEY", "sk-test-9f8e7d")

    async def main():
        body = {"error": {"message": "bad request; headers were Authorization: Bearer "
                                     "sk-test-9f8e7d, key sk-test-9f8e7d"}}
        async with FakeServer(status(400, body)) as server, backend(
                server.url, api_key_env="RTSIM_TEST_KEY") as b:
            with pytest.raises(BackendError) as err:
                await b.generate(MESSAGES, 1)
            return str(err.value), server.requests
    message, requests = run(main())
    assert requests[0][1]["authorization"] == "Bearer sk-test-9f8e7d"  # sent, never shown
    assert "9f8e7d" not in message and "[redacted]" in message


def test_credentials_in_the_url_are_used_but_never_shown():
    async def main():
        async with FakeServer(status(400, {"error": "no"})) as server:
            url = server.url.replace("http://", "http://user:pa55word@")
            async with backend(url) as b:
                with pytest.raises(BackendError) as err:
                    await b.generate(MESSAGES, 1)
                return str(err.value), b.base_url, repr(b), server.requests
    message, base_url, text, requests = run(main())
    assert requests[0][1]["authorization"].startswith("Basic ")  # httpx sends them
    assert all("pa55word" not in s for s in (message, base_url, text))
