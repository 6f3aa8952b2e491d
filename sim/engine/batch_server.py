"""A model server shared by many conversations: continuous batching as a fluid model.

Requests (jobs) arrive, wait first come first served for one of `max_batch` slots, have
their prompt read (prefill), then decode one token per step alongside every other admitted
job. A job decoding alone writes a token every `per_token` seconds (its own speed, from the
latency model); in a batch of b every decoder slows by 1 + batch_slowdown * (b - 1), or by
a measured factor per batch size (`server.batch_steps`). The
scheduler decides the share of the server the prompts being read get while others decode
(`prefill_first`: all of it, the decoders stall, prompts one at a time, first come first
served; `TokenBudget`: what is left of each step's token budget, every prompt waiting when
a step starts read in it together). Between changes of
the batch all rates are constant, so the server needs an event only when a job arrives,
leaves or reaches a token it must report, never per token or per step. Alone, a job takes
exactly prefill + tokens x per_token: the single-conversation model.

Progress is implicit, as in processor-sharing schedulers: every decoder moves at the same
rate relative to its own `per_token`, so one virtual clock V (seconds of decoding alone)
serves them all. A job that starts decoding at V0 has written (V - V0) / per_token tokens;
a heap keyed by the V of each job's next report gives the next event. No event touches
more than the jobs it reports on.
"""

import heapq
import itertools
import math
from collections import deque

EPS = 1e-9


def step_factor(table: tuple[float, ...], n: int) -> float:
    """A measured step of n sequences over a step of one: `table[n - 1]`; past the table's
    end its last growth per sequence goes on."""
    if n <= len(table):
        return table[n - 1]
    growth = table[-1] - table[-2] if len(table) > 1 else 0.0
    return table[-1] + growth * (n - len(table))


def prefill_first(_decoders: int, _prefill_s: float = math.inf) -> float:
    """vLLM V0's default: the prompt being read takes the whole server; the decoders stall."""
    return 1.0


class TokenBudget:
    """Engine steps of at most `budget` tokens (vLLM V1's scheduler, llama.cpp's server):
    every decoder's next token first, the rest of the budget for the prompt being read
    (chunked prefill). A step with n decoders and c prompt tokens takes
    step_base x factor(n) + per_prefill_token x c, with factor(n) = 1 + slowdown x (n - 1)
    or the measured `steps` table (step_factor); the prompt's share of the server is the
    second term's part of that. A prompt of `prefill_s` seconds alone that fits in what the
    decoders leave (c = budget - n) is read in one step: its chunk is those seconds, so it
    takes prefill_s + one decode step and the decoders each write a token meanwhile.
    Alone, a prompt has the whole server."""

    def __init__(self, budget: int, step_base: float, per_prefill_token: float,
                 slowdown: float, steps: tuple[float, ...] | None = None,
                 together: bool = True):
        self.budget, self.step_base = budget, step_base
        self.per_prefill_token, self.slowdown, self.steps = per_prefill_token, slowdown, steps
        self.together = together  # the prompts waiting when a step starts are read together

    def __call__(self, decoders: int, prefill_s: float = math.inf) -> float:
        if not decoders:
            return 1.0
        room = max(0, self.budget - decoders) * self.per_prefill_token
        if room <= 0:
            return 0.0
        if prefill_s <= 0:
            return 1.0  # nothing to read: the prompt is done at once
        chunk = prefill_s if prefill_s < room else room
        return chunk / (chunk + self.step(decoders))

    def step(self, decoders: int) -> float:
        """A step of `decoders` sequences with no prompt, s."""
        factor = (1.0 + self.slowdown * (decoders - 1) if self.steps is None
                  else step_factor(self.steps, decoders))
        return self.step_base * factor


def scheduler(server):
    """The prefill share (a function of the number of decoders) of a scenario's `server`."""
    if server.scheduler == "prefill-first":
        return prefill_first
    budget = server.max_num_batched_tokens if server.scheduler == "token-budget" \
        else server.n_batch
    return TokenBudget(budget, server.step_base, server.per_prefill_token,
                       server.batch_slowdown, server.batch_steps)


class Job:
    """One request on the server: its work, progress, and what to call when it is done.

    `v_join`: the virtual time at which it would have written nothing (it has written
    (V - v_join) / per_token tokens); `ticket`: its live heap entry (-1: none); `read_at`:
    when its prompt was read."""

    __slots__ = ("prefill_s", "tokens", "per_token", "mark", "on_done", "v_join",
                 "ticket", "arrived", "mark_time", "state", "read_at")

    def __init__(self, prefill_s: float, tokens: int, per_token: float, on_done,
                 mark: int | None = None):
        self.prefill_s, self.tokens, self.per_token = prefill_s, tokens, per_token
        self.mark, self.on_done = mark, on_done
        self.v_join, self.ticket = 0.0, -1
        self.arrived = self.mark_time = self.read_at = None
        self.state = "new"

    def target(self) -> int:
        """The next token count at which the server must stop and report."""
        if self.mark is not None and self.mark_time is None and self.mark < self.tokens:
            return self.mark
        return self.tokens


class BatchServer:
    """The shared server: admission queue, prefill queue, decoding batch, and statistics."""

    def __init__(self, env, max_batch: int, batch_slowdown: float,
                 prefill_share=prefill_first, steps: tuple[float, ...] | None = None):
        self.env, self.max_batch, self.slowdown = env, max_batch, batch_slowdown
        self.steps = steps
        self.prefill_share = prefill_share
        self.waiting: deque[Job] = deque()
        self.prefilling: deque[Job] = deque()
        self.together = getattr(prefill_share, "together", False)
        self._cohort: list[Job] = []  # the prompts being read, the head of `prefilling`
        self._cohort_left = self._cohort_total = 0.0  # their prefill seconds: left, in all
        self._gather_end: float | None = None  # the step in flight ends: a cohort starts
        self.decoding: set[Job] = set()
        self._reports: list[tuple[float, int, Job]] = []  # (V of the report, ticket, job)
        self._tickets = itertools.count()
        self._v, self._rates = 0.0, (0.0, 0.0)  # virtual clock; (prefill, V) per second
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
        if job.state not in ("waiting", "prefill", "decode"):
            return 0
        self._advance()
        done = 0
        if job.state == "waiting":
            self.waiting.remove(job)
        elif job.state == "prefill":
            self.prefilling.remove(job)
            if job in self._cohort:
                self._leave_cohort(job)
        else:
            written = min(job.tokens, (self._v - job.v_join) / job.per_token)
            done = min(job.tokens, math.floor(written + EPS))
            self._stop_decoding(job, written)
        self._leave(job)
        self._admit()
        self._schedule()
        return done

    @property
    def in_system(self) -> int:
        return len(self.waiting) + len(self.prefilling) + len(self.decoding)

    def totals(self) -> tuple[float, float, float, float]:
        """(busy, decoding, batch area, tokens) so far, carried on to now without touching
        the state; tokens count when a request leaves."""
        s, dt = self.stats, self.env.now - self._last
        decoding = dt if self._rates[1] else 0.0
        return (s["busy"] + (dt if self.prefilling or self.decoding else 0.0),
                s["decoding"] + decoding, s["area_batch"] + decoding * len(self.decoding),
                s["tokens"])

    def slowdown_factor(self, batch: int) -> float:
        """Each decoder's time per token in a batch of `batch` over its time alone."""
        if self.steps is None:
            return 1.0 + self.slowdown * (batch - 1)
        return step_factor(self.steps, batch)

    # ---- the fluid dynamics -------------------------------------------------------------

    def _advance(self, dt: float | None = None) -> None:
        """Move the head prompt and the virtual clock on by `dt` seconds (default: to now);
        accumulate the statistics."""
        now = self.env.now
        dt = now - self._last if dt is None else dt
        if dt <= 0:
            return
        s = self.stats
        s["area_in_system"] += dt * self.in_system
        if self.prefilling or self.decoding:
            s["busy"] += dt
        prefill_rate, v_rate = self._rates
        if prefill_rate:
            self._cohort_left -= dt * prefill_rate
        if v_rate:
            self._v += dt * v_rate
            s["decoding"] += dt
            s["area_batch"] += dt * len(self.decoding)
        self._last = now

    def _current_rates(self) -> tuple[float, float]:
        """(seconds of prefill done per second on the head prompt, V per second)."""
        n = len(self.decoding)
        share = self.prefill_share(n, self._cohort_total) if self._cohort else 0.0
        return share, (1.0 - share) / self.slowdown_factor(n) if n else 0.0

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
        if self.prefilling and not self._cohort and self._gather_end is None:
            self._gather_or_start()
        self._rates = prefill_rate, v_rate = self._current_rates()
        to_prefill = (max(0.0, self._cohort_left) / prefill_rate if prefill_rate
                      else math.inf)
        to_report = max(0.0, self._next_report() - self._v) / v_rate if v_rate else math.inf
        to_gather = (math.inf if self._gather_end is None
                     else max(0.0, self._gather_end - self.env.now))
        delay = min(to_prefill, to_report, to_gather)
        if delay == math.inf:
            return
        epoch, due = self._epoch, (to_prefill <= delay, to_report <= delay, to_gather <= delay)
        self.env.timeout(delay).callbacks.append(lambda _ev: self._wake(epoch, delay, due))

    def _wake(self, epoch: int, delay: float, due: tuple[bool, bool]) -> None:
        """The wake-up `delay` seconds after the last change; the jobs move on by exactly
        `delay`, even where the clock is too coarse to show it (a delay below the
        resolution of a late time leaves `now` unchanged), and what the wake-up was set for
        counts as reached, so every wake-up makes progress. Every decoder within EPS of its
        report, and a prompt within EPS of its end, count as reached whatever the wake-up
        was for."""
        if epoch != self._epoch:
            return
        self._advance(delay)
        prefill_due, report_due, gather_due = due
        finished = []
        if gather_due:
            self._gather_end = None
            if self.prefilling:
                self._start_cohort()
        if report_due:
            self._v = max(self._v, self._next_report())
        self._reach(finished)
        if self._cohort and (prefill_due or self._cohort_left <= EPS):
            for _ in self._cohort:
                self._prefilled(self.prefilling.popleft(), finished)
            self._cohort = []
        for job in finished:
            self._leave(job)
        self._admit()
        self._schedule()
        for job in finished:
            job.on_done(job)

    def _gather_or_start(self) -> None:
        """Prompts to read: read together, they wait beside decoders for the step in flight
        to end (half a step, on average), and every prompt admitted by then is read with
        them; otherwise (or on an idle server) the next are read at once."""
        if self.together and self.decoding:
            self._gather_end = self.env.now + self.prefill_share.step(len(self.decoding)) / 2
        else:
            self._start_cohort()

    def _start_cohort(self) -> None:
        """The prompts read next: every one admitted (`together`, as in a step of a token
        budget, all of them ending with it), else the first."""
        self._cohort = list(self.prefilling) if self.together else [self.prefilling[0]]
        self._cohort_left = self._cohort_total = sum(job.prefill_s for job in self._cohort)

    def _leave_cohort(self, job: Job) -> None:
        """A prompt being read is cancelled: the rest read without its part."""
        self._cohort.remove(job)
        if not self._cohort:
            self._cohort_left = self._cohort_total = 0.0
            return
        self._cohort_left -= job.prefill_s * self._cohort_left / self._cohort_total
        self._cohort_total -= job.prefill_s

    def _prefilled(self, job: Job, finished: list) -> None:
        """The job's prompt is read: it decodes, or is done if it writes nothing."""
        job.read_at = self.env.now
        if not job.tokens:
            finished.append(job)
            return
        job.state, job.v_join = "decode", self._v
        self.decoding.add(job)
        self._push(job)

    def _push(self, job: Job) -> None:
        job.ticket = next(self._tickets)
        key = job.v_join + job.target() * job.per_token
        heapq.heappush(self._reports, (key, job.ticket, job))

    def _next_report(self) -> float:
        """V of the earliest report due (stale entries of cancelled jobs dropped)."""
        reports = self._reports
        while reports[0][1] != reports[0][2].ticket:
            heapq.heappop(reports)
        return reports[0][0]

    def _reach(self, finished: list) -> None:
        """Report every mark or end the virtual clock has reached."""
        reports = self._reports
        while reports:
            key, ticket, job = reports[0]
            if ticket != job.ticket:
                heapq.heappop(reports)
                continue
            if key > self._v + EPS * job.per_token:
                return
            heapq.heappop(reports)
            target = job.target()
            job.v_join = self._v - target * job.per_token  # progress exactly `target`
            if target < job.tokens:
                job.mark_time = self.env.now
                self._push(job)
            else:
                self._stop_decoding(job, job.tokens)
                finished.append(job)

    def _stop_decoding(self, job: Job, written: float) -> None:
        """The job leaves the batch having written `written` tokens; an empty batch
        restarts the virtual clock (keeping it small, and its heap free of stale jobs)."""
        job.ticket = -1
        self.decoding.discard(job)
        self.stats["tokens"] += written
        if not self.decoding:
            self._v = 0.0
            self._reports.clear()

    def _leave(self, job: Job) -> None:
        job.state = "gone"
        self.stats["departures"] += 1
        self.stats["time_in_system"] += self.env.now - job.arrived
