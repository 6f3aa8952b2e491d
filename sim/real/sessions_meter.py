"""A backend that records when each of its streams decoded, for server load figures."""

import contextlib


class MeteredBackend:
    """Passes every call to `backend`; `spans` (shared by the pinned copies) gets (first
    chunk, end, tokens) of each stream that wrote something (perf_counter seconds). With a
    `slot`, every request asks llama-server for that slot (`id_slot`), so a conversation
    keeps its prompt cache."""

    def __init__(self, backend, spans: list | None = None, slot: int | None = None):
        self.backend, self.slot = backend, slot
        self.spans = [] if spans is None else spans

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def pinned(self, slot: int) -> "MeteredBackend":
        """The same backend and spans, every request on `slot`."""
        return MeteredBackend(self.backend, self.spans, slot)

    async def prefill(self, messages: list[dict]):
        async with self.stream(messages, 1, exact=False) as s:
            async for _ in s:
                pass
        return s.result

    @contextlib.asynccontextmanager
    async def stream(self, *args, **kwargs):
        if self.slot is not None:
            kwargs["extra"] = {"id_slot": self.slot}
        async with self.backend.stream(*args, **kwargs) as s:
            try:
                yield s
            finally:
                r = s.result
                if r is not None and r.first_at is not None:
                    self.spans.append((r.first_at, r.end_at, r.tokens))


def load_figures(spans: list, start: float, end: float) -> dict:
    """Tokens per second over [start, end] and the mean batch: streams decoding at once,
    averaged over the time any was (as the simulated server counts them)."""
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
