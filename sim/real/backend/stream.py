"""One streamed chat reply: its chunks as they arrive and the result they add up to.

The server sends Server-Sent Events whose data are OpenAI `chat.completion.chunk` objects,
then `[DONE]`. A reply is complete when a chunk carries a `finish_reason`; a stream that
ends before that was cut (or interrupted by the server) and raises BackendError.
"""

import json
import re
import time
from dataclasses import dataclass

import httpx
from httpx_sse import EventSource, SSEError

from rtsim.real.backend.errors import BackendError

_SECRETS: set[str] = set()
_TOKEN = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_KEY_VALUE = re.compile(r"(?i)((?:authorization|api[-_]?key|x-api-key)[\"']?\s*[:=]\s*[\"']?)"
                        r"(?!bearer\b|basic\b|\[redacted\])[^\s\"',}]+")


def keep_secret(secret: str) -> None:
    """Never show `secret` (an API key) in a message from here on."""
    if secret:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    """`text` without API keys, bearer tokens or authorization values."""
    for secret in _SECRETS:
        text = text.replace(secret, "[redacted]")
    text = _TOKEN.sub(lambda m: f"{m.group(1)} [redacted]", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}[redacted]", text)


def one_line(value, limit: int = 200) -> str:
    """`value` as one line of at most `limit` characters, secrets redacted."""
    text = redact(" ".join(str(value).split()))
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of the reply: its text, the tokens it carries, when it arrived.

    `kind` is "content" (answer text), "reasoning" (a server's separate reasoning text)
    or "tool" (part of the forced call's JSON arguments). `tokens` is the server's count
    when it reports one per chunk (usage on every chunk), else 1. `at` is
    time.perf_counter() on arrival.
    """

    text: str
    tokens: int
    at: float
    kind: str = "content"


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What one request produced, and when (time.perf_counter() seconds).

    `tokens` is how many tokens the model produced: the server's usage count
    (`tokens_from` "usage"), else max_tokens when it stopped for length ("length"),
    else one per chunk ("chunks", a lower bound). `finish_reason` is None when the caller
    left the stream early. `timings` is the server's own account of the request when it
    sends one (llama-server: `cache_n`, `prompt_n`, `prompt_ms`, `predicted_n`,
    `predicted_ms`), else None.
    """

    sent_at: float
    first_at: float | None
    end_at: float
    text: str
    tool_arguments: str | None
    tokens: int
    tokens_from: str
    prompt_tokens: int | None
    finish_reason: str | None
    timings: dict | None = None

    @property
    def ttft(self) -> float | None:
        """Seconds from sending the request to the first chunk of output."""
        return None if self.first_at is None else self.first_at - self.sent_at

    @property
    def complete(self) -> bool:
        """The server finished the reply (it was not closed early)."""
        return self.finish_reason is not None

    def arguments(self) -> dict | None:
        """The forced call's arguments as a JSON object, None if absent or not valid JSON."""
        try:
            value = json.loads(self.tool_arguments or "")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


class Stream:
    """An open streaming reply: `async for chunk in stream`, then `stream.result`."""

    def __init__(self, response: httpx.Response, sent_at: float, max_tokens: int,
                 read_timeout: float):
        self._response, self._max, self._read_timeout = response, max_tokens, read_timeout
        self._sent, self._first, self._end = sent_at, None, sent_at
        self._text, self._args, self._chunks = [], None, 0
        self._usage: dict = {}
        self._timings: dict | None = None
        self._finish: str | None = None
        self._events = self._iterate()

    def __aiter__(self):
        return self._events

    async def aclose(self) -> None:
        """Stop reading and close the connection (the server sees the client leave)."""
        try:
            await self._events.aclose()
        finally:
            await self._response.aclose()

    @property
    def result(self) -> StreamResult:
        """The reply so far (all of it once iteration has ended)."""
        if isinstance(self._usage.get("completion_tokens"), int):
            tokens, source = self._usage["completion_tokens"], "usage"
        elif self._finish == "length":
            tokens, source = self._max, "length"
        else:
            tokens, source = self._chunks, "chunks"
        prompt = self._usage.get("prompt_tokens")
        return StreamResult(self._sent, self._first, self._end, "".join(self._text),
                            None if self._args is None else "".join(self._args), tokens,
                            source, prompt if isinstance(prompt, int) else None, self._finish,
                            self._timings)

    async def _iterate(self):
        sse = EventSource(self._response).aiter_sse()
        try:
            async for event in sse:
                if event.data == "[DONE]":
                    break
                if event.event in ("", "message") and event.data.strip():
                    for chunk in self._take(_decode(event.data)):
                        yield chunk
        except SSEError as exc:
            raise BackendError(f"malformed stream: {one_line(exc)}") from None
        except httpx.TimeoutException:
            raise BackendError(f"stream stalled: no data for {self._read_timeout} s after "
                               f"{self._chunks} chunks (read timeout)") from None
        except httpx.TransportError as exc:
            raise BackendError(f"stream cut mid-way after {self._chunks} chunks "
                               f"({one_line(exc) or exc.__class__.__name__})") from None
        finally:
            await sse.aclose()
        if self._finish is None:
            raise BackendError(f"stream cut mid-way: it ended after {self._chunks} chunks "
                               "without a finish_reason")

    def _take(self, data: dict) -> list[Chunk]:
        """The chunks in one event's data; records usage, the finish reason, and the time
        of the last event (the reply's end, even when its last token has no text)."""
        now = self._end = time.perf_counter()
        error = data.get("error")
        if error:
            message = error.get("message", error) if isinstance(error, dict) else error
            raise BackendError(f"server error mid-stream: {one_line(message)}")
        usage = data.get("usage")
        previous = self._usage.get("completion_tokens")
        if isinstance(usage, dict):
            self._usage = usage
        timings = data.get("timings")
        if isinstance(timings, dict):
            self._timings = timings
        choices = data.get("choices") or []
        if not choices:
            return []
        choice = choices[0]
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            raise BackendError(f"malformed stream: a chunk has no choices[0].delta: "
                               f"{one_line(json.dumps(data), 120)}")
        self._finish = choice.get("finish_reason") or self._finish
        pieces = [(delta.get("content"), "content")]
        pieces += [(delta.get(k), "reasoning") for k in ("reasoning_content", "reasoning")]
        pieces += [(_arguments(call), "tool") for call in delta.get("tool_calls") or []]
        tokens = _counted(previous, self._usage.get("completion_tokens"))
        chunks = [Chunk(text, tokens, now, kind) for text, kind in pieces
                  if isinstance(text, str) and text]
        for chunk in chunks:
            (self._text if chunk.kind != "tool" else self._tool_args()).append(chunk.text)
        if chunks:
            self._first = self._first if self._first is not None else now
            self._chunks += len(chunks)
        return chunks

    def _tool_args(self) -> list[str]:
        if self._args is None:
            self._args = []
        return self._args


def _decode(data: str) -> dict:
    try:
        value = json.loads(data)
    except ValueError:
        raise BackendError(f"malformed stream: event data is not JSON: "
                           f"{one_line(data, 80)!r}") from None
    if not isinstance(value, dict):
        raise BackendError(f"malformed stream: event data is not a JSON object: "
                           f"{one_line(data, 80)!r}")
    return value


def _arguments(call) -> str | None:
    function = call.get("function") if isinstance(call, dict) else None
    return function.get("arguments") if isinstance(function, dict) else None


def _counted(previous, now) -> int:
    """Tokens in this chunk: the growth of a per-chunk usage count, else 1."""
    if isinstance(previous, int) and isinstance(now, int) and now > previous:
        return now - previous
    if previous is None and isinstance(now, int) and now > 0:
        return now
    return 1
