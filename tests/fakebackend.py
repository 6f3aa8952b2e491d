"""A backend that streams on the latency model's schedule, for testing the real driver.

A request with `exact=True` waits `overhead`, then streams `max_tokens` one-token chunks
`1 / decode_rate` apart; a prefill-only request (`exact=False`) returns at once. Prompt
reading is instantaneous, as in the tests' FAST_PREFILL scenarios. `fail_after` makes the
n-th request fail, to test how an episode reports a backend failure.
"""

import asyncio
import contextlib
import time

from sim.backend.errors import BackendError
from sim.backend.stream import Chunk


class TimedBackend:
    """Streams tokens on a fixed schedule; records the prompts it was sent."""

    def __init__(self, overhead: float, decode_rate: float, fail_after: int | None = None):
        self.overhead, self.per_token = overhead, 1.0 / decode_rate
        self.fail_after = fail_after
        self.prompts: list[list[dict]] = []
        self.closed_early = 0

    async def prefill(self, messages):
        self.prompts.append(messages)

    @contextlib.asynccontextmanager
    async def stream(self, messages, max_tokens, *, tool=None, exact=True):
        self.prompts.append(messages)
        if self.fail_after is not None and len(self.prompts) > self.fail_after:
            raise BackendError("http://fake/v1: HTTP 500 Internal Server Error (after 3 tries)")
        finished = []
        try:
            yield self._chunks(max_tokens if exact else 0, finished)
        finally:
            if not finished:
                self.closed_early += 1

    async def _chunks(self, tokens, finished):
        if tokens:
            start = asyncio.get_running_loop().time() + self.overhead
            for k in range(1, tokens + 1):
                delay = start + k * self.per_token - asyncio.get_running_loop().time()
                await asyncio.sleep(max(0.0, delay))
                yield Chunk(" x", 1, time.perf_counter())
        finished.append(True)
