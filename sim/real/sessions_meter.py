"""A backend that records every request it sends, for server load figures and per-request
timings."""

import contextlib
from typing import NamedTuple


class Request(NamedTuple):
    """One request as the client saw it (perf_counter seconds) and as the server reported
    it (llama-server's `timings`; None from servers that send none). `kind`: "read" (a
    prompt read, one token asked), "call" (a forced tool call), "reply", or "warm" (an
    episode's warm-up read of its system prompt, which the simulation leaves out)."""

    slot: int | None
    kind: str
    sent: float
    first: float | None
    end: float
    prompt_tokens: int | None
    tokens: int
    cache_n: int | None
    prompt_n: int | None
    prompt_ms: float | None
    predicted_n: int | None
    predicted_ms: float | None


TIMINGS = ("cache_n", "prompt_n", "prompt_ms", "predicted_n", "predicted_ms")


class MeteredBackend:
    """Passes every call to `backend`; `requests` (shared by the pinned copies) gets a
    Request for each stream that ended. With a `slot`, every request asks llama-server for
    that slot (`id_slot`), so a conversation keeps its prompt cache."""

    def __init__(self, backend, requests: list | None = None, slot: int | None = None):
        self.backend, self.slot = backend, slot
        self.requests = [] if requests is None else requests

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def pinned(self, slot: int) -> "MeteredBackend":
        """The same backend and records, every request on `slot`."""
        return MeteredBackend(self.backend, self.requests, slot)

    async def prefill(self, messages: list[dict]):
        """Read `messages` (an episode's warm-up: its system prompt), recorded as "warm"."""
        async with self._metered("warm", messages, 1, exact=False) as s:
            async for _ in s:
                pass
        return s.result

    def stream(self, messages, max_tokens, *, tool=None, exact=True, **kwargs):
        kind = "call" if tool is not None else "read" if max_tokens == 1 and not exact \
            else "reply"
        return self._metered(kind, messages, max_tokens, tool=tool, exact=exact, **kwargs)

    @contextlib.asynccontextmanager
    async def _metered(self, kind: str, messages, max_tokens, **kwargs):
        if self.slot is not None:
            kwargs["extra"] = {"id_slot": self.slot}
        async with self.backend.stream(messages, max_tokens, **kwargs) as s:
            try:
                yield s
            finally:
                if s.result is not None:
                    self.requests.append(_request(self.slot, kind, s.result))


def _request(slot, kind: str, r) -> Request:
    server = r.timings if isinstance(r.timings, dict) else {}
    values = [_number(server.get(k)) for k in TIMINGS]
    return Request(slot, kind, r.sent_at, r.first_at, r.end_at, r.prompt_tokens, r.tokens,
                   *values)


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def load_figures(requests: list, start: float, end: float) -> dict:
    """Tokens per second over [start, end] and the mean batch: streams decoding at once
    (from first chunk to end), averaged over the time any was (as the simulated server
    counts them)."""
    spans = [(r.first, r.end, r.tokens) for r in requests if r.first is not None]
    edges = sorted([(a, 1) for a, _, _ in spans] + [(b, -1) for _, b, _ in spans])
    area = busy = 0.0
    level, last = 0, start
    for t, step in edges:
        if level:
            area += level * (t - last)
            busy += t - last
        level, last = level + step, t
    duration = end - start
    return {"tokens_per_s": sum(s[2] for s in spans) / duration if duration > 0 else 0.0,
            "mean_batch": area / busy if busy else 0.0, "duration": duration}
