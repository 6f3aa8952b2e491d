"""How late the client's event loop runs: a check's harness must not be its bottleneck.

    async with LoopLag() as lag:
        ...                      # the measured work
    lag.figures()                # {"mean_ms", "p99_ms", "max_ms", "samples"}

A task sleeps `interval` seconds again and again; each wake-up's delay beyond the sleep is
the time the loop was busy with other work (policies, streams, JSON) when it was due.
With N conversations on one loop, a lag near a model step means the measured latencies
include the client's own queueing.
"""

import asyncio
import contextlib
import time

import numpy as np


class LoopLag:
    """Samples the running loop's lateness every `interval` s while the block runs."""

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "LoopLag":
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _sample(self) -> None:
        while True:
            due = time.perf_counter() + self.interval
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, time.perf_counter() - due))

    def figures(self) -> dict:
        """Mean, 99th percentile and largest lag (ms) and the number of samples."""
        if not self.lags:
            return {"mean_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "samples": 0}
        ms = np.asarray(self.lags) * 1000
        return {"mean_ms": round(float(ms.mean()), 3),
                "p99_ms": round(float(np.percentile(ms, 99)), 3),
                "max_ms": round(float(ms.max()), 3), "samples": len(ms)}
