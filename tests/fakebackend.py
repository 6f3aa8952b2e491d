"""A backend that streams on the latency model's schedule, for testing the real driver.

A request with `exact=True` (or a forced `tool`) waits `overhead`, then streams
`max_tokens` one-token chunks `1 / decode_rate` apart (a forced call's arguments are
`arguments`); a prefill-only request (`exact=False`) returns at once. Prompt
reading is instantaneous, as in the tests' FAST_PREFILL scenarios. `fail_after` makes the
n-th request fail, to test how an episode reports a backend failure.
"""

import asyncio
import contextlib
import time
from types import SimpleNamespace

from rtsim.real.backend.errors import BackendError
from rtsim.real.backend.stream import Chunk


class TimedBackend:
    """Streams tokens on a fixed schedule; records the prompts it was sent."""

    def __init__(self, overhead: float, decode_rate: float, fail_after: int | None = None,
                 arguments: dict | None = None):
        self.overhead, self.per_token = overhead, 1.0 / decode_rate
        self.fail_after, self.arguments = fail_after, arguments
        self.prompts: list[list[dict]] = []
        self.tools: list = []
        self.closed_early = 0

    async def prefill(self, messages):
        self.prompts.append(messages)

    @contextlib.asynccontextmanager
    async def stream(self, messages, max_tokens, *, tool=None, exact=True, extra=None):
        self.prompts.append(messages)
        if self.fail_after is not None and len(self.prompts) > self.fail_after:
            raise BackendError("http://fake/v1: HTTP 500 Internal Server Error (after 3 tries)")
        self.tools.append(tool)
        s = _Stream(self, max_tokens if exact or tool else 0, tool)
        try:
            yield s
        finally:
            if not s.finished:
                self.closed_early += 1


class _Stream:
    """The chunks of one reply; a forced call writes `arguments` as its JSON."""

    def __init__(self, backend: TimedBackend, tokens: int, tool):
        self.backend, self.tokens, self.tool = backend, tokens, tool
        self.finished = False
        self.result = None

    async def __aiter__(self):
        first, sent = None, time.perf_counter()
        if self.tokens:
            loop = asyncio.get_running_loop()
            start = loop.time() + self.backend.overhead
            for k in range(1, self.tokens + 1):
                await asyncio.sleep(max(0.0, start + k * self.backend.per_token - loop.time()))
                first = first or time.perf_counter()
                yield Chunk(" x", 1, time.perf_counter())
        self.finished = True
        args = self.backend.arguments if self.tool else None
        self.result = SimpleNamespace(tokens=self.tokens, arguments=lambda: args,
                                      sent_at=sent, first_at=first, end_at=time.perf_counter(),
                                      prompt_tokens=None, ttft=self.backend.overhead,
                                      timings=None)
