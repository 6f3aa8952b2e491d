"""A model server shared by many conversations: continuous batching as a fluid model.

Requests (jobs) arrive, wait first come first served for one of `max_batch` slots, have
their prompt read (prefill), then decode one token per step alongside every other admitted
job. Prefill has priority, as in vLLM's default scheduler: while a prompt is read, the
decoders stall. A job decoding alone writes a token every `per_token` seconds (its own
speed, from the latency model); in a batch of b every decoder slows by
1 + batch_slowdown * (b - 1). Between changes of the batch all decoders progress at
constant rates, so the server needs an event only when a job arrives, leaves or reaches a
token it must report, never per token. Alone, a job takes exactly prefill + tokens x
per_token: the single-conversation model.
"""

import math
from collections import deque

EPS = 1e-9


class Job:
    """One request on the server: its work, progress, and what to call when it is done."""

    __slots__ = ("prefill_s", "tokens", "per_token", "mark", "on_done", "progress",
                 "left", "arrived", "mark_time", "state")

    def __init__(self, prefill_s: float, tokens: int, per_token: float, on_done,
                 mark: int | None = None):
        self.prefill_s, self.tokens, self.per_token = prefill_s, tokens, per_token
        self.mark, self.on_done = mark, on_done
        self.progress, self.left = 0.0, prefill_s
        self.arrived = self.mark_time = None
        self.state = "new"

    def target(self) -> int:
        """The next token count at which the server must stop and report."""
        if self.mark is not None and self.mark_time is None and self.mark < self.tokens:
            return self.mark
        return self.tokens


class BatchServer:
    """The shared server: admission queue, prefill queue, decoding batch, and statistics."""

    def __init__(self, env, max_batch: int, batch_slowdown: float):
        self.env, self.max_batch, self.slowdown = env, max_batch, batch_slowdown
        self.waiting: deque[Job] = deque()
        self.prefilling: deque[Job] = deque()
        self.decoding: list[Job] = []
        self._epoch, self._last = 0, 0.0
        self.stats = {"arrivals": 0, "departures": 0, "time_in_system": 0.0,
                      "area_in_system": 0.0, "area_batch": 0.0, "busy": 0.0, "decoding": 0.0,
                      "tokens": 0.0,
                      "queue_wait": 0.0, "admitted": 0}

    # ---- requests -----------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """A job reaches the server now."""
        self._advance()
        job.arrived, job.state = self.env.now, "waiting"
        self.stats["arrivals"] += 1
        self.waiting.append(job)
        self._admit()
        self._schedule()

    def cancel(self, job: Job) -> int:
        """Stop `job` now; return the whole tokens it wrote."""
        self._advance()
        done = 0
        if job.state == "waiting":
            self.waiting.remove(job)
        elif job.state == "prefill":
            self.prefilling.remove(job)
        elif job.state == "decode":
            self.decoding.remove(job)
            done = min(job.tokens, math.floor(job.progress + EPS))
        else:
            return 0
        self._leave(job)
        self._admit()
        self._schedule()
        return done

    @property
    def in_system(self) -> int:
        return len(self.waiting) + len(self.prefilling) + len(self.decoding)

    def slowdown_factor(self, batch: int) -> float:
        return 1.0 + self.slowdown * (batch - 1)

    # ---- the fluid dynamics -------------------------------------------------------------

    def _advance(self, dt: float | None = None) -> None:
        """Move every job's progress on by `dt` seconds (default: to now); accumulate the
        statistics."""
        now = self.env.now
        dt = now - self._last if dt is None else dt
        if dt <= 0:
            return
        s = self.stats
        s["area_in_system"] += dt * self.in_system
        if self.prefilling:
            self.prefilling[0].left -= dt
            s["busy"] += dt
        elif self.decoding:
            factor = self.slowdown_factor(len(self.decoding))
            for job in self.decoding:
                step = dt / (job.per_token * factor)
                job.progress += step
                s["tokens"] += step
            s["busy"] += dt
            s["decoding"] += dt
            s["area_batch"] += dt * len(self.decoding)
        self._last = now

    def _admit(self) -> None:
        while self.waiting and len(self.prefilling) + len(self.decoding) < self.max_batch:
            job = self.waiting.popleft()
            job.state = "prefill"
            self.stats["queue_wait"] += self.env.now - job.arrived
            self.stats["admitted"] += 1
            self.prefilling.append(job)

    def _schedule(self) -> None:
        """Set a wake-up at the next moment something must happen."""
        self._epoch += 1
        if self.prefilling:
            delay = max(0.0, self.prefilling[0].left)
        elif self.decoding:
            factor = self.slowdown_factor(len(self.decoding))
            delay = min((j.target() - j.progress) * j.per_token * factor for j in self.decoding)
            delay = max(0.0, delay)
        else:
            return
        epoch = self._epoch
        self.env.timeout(delay).callbacks.append(lambda _ev: self._wake(epoch, delay))

    def _wake(self, epoch: int, delay: float) -> None:
        """The wake-up `delay` seconds after the last change; the jobs move on by exactly
        `delay`, even where the clock is too coarse to show it (a delay below the
        resolution of a late time leaves `now` unchanged), so every wake-up makes progress."""
        if epoch != self._epoch:
            return
        self._advance(delay)
        finished = []
        if self.prefilling and self.prefilling[0].left <= EPS:
            job = self.prefilling.popleft()
            if job.tokens:
                job.state = "decode"
                self.decoding.append(job)
            else:
                finished.append(job)
        elif not self.prefilling:
            for job in list(self.decoding):
                self._reach(job, finished)
        for job in finished:
            self._leave(job)
        self._admit()
        self._schedule()
        for job in finished:
            job.on_done(job)

    def _reach(self, job: Job, finished: list) -> None:
        """Report a job's mark or end if its progress has reached it."""
        target = job.target()
        if job.progress + EPS < target:
            return
        job.progress = float(target)
        if target == job.mark and job.mark_time is None and target < job.tokens:
            job.mark_time = self.env.now
            return
        self.decoding.remove(job)
        finished.append(job)

    def _leave(self, job: Job) -> None:
        job.state = "gone"
        self.stats["departures"] += 1
        self.stats["time_in_system"] += self.env.now - job.arrived
