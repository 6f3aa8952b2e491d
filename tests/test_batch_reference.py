"""The batch server's implicit progress (a virtual clock and a heap) against a
straightforward reference that moves every job on at every event: the same completion
times, marks, cancels and statistics up to rounding."""

import math
from collections import deque

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsim.engine.batch_server import EPS, BatchServer, Job, TokenBudget, prefill_first

REL = 1e-9


class RefJob:
    def __init__(self, prefill_s, tokens, per_token, on_done, mark=None):
        self.prefill_s, self.tokens, self.per_token = prefill_s, tokens, per_token
        self.mark, self.on_done = mark, on_done
        self.progress, self.left = 0.0, prefill_s
        self.arrived = self.mark_time = None
        self.state = "new"

    def target(self):
        if self.mark is not None and self.mark_time is None and self.mark < self.tokens:
            return self.mark
        return self.tokens


class RefServer:
    """O(batch) per event: every decoder's progress moved on, the next event a min()."""

    def __init__(self, env, max_batch, slowdown, share=lambda n, prefill_s: 1.0):
        self.env, self.max_batch, self.slowdown, self.share = env, max_batch, slowdown, share
        self.waiting, self.prefilling, self.decoding = deque(), deque(), []
        self.together = getattr(share, "together", False)
        self.cohort = []  # the prompts being read, each moving on by its part of the share
        self.gather_end = None  # prompts read together wait for the step in flight
        self.epoch, self.last = 0, 0.0
        self.stats = dict.fromkeys(("arrivals", "departures", "time_in_system",
                                    "area_in_system", "area_batch", "busy", "decoding",
                                    "tokens", "queue_wait", "admitted"), 0.0)

    def rates(self):
        n = len(self.decoding)
        self.total = sum(j.left for j in self.cohort)  # left to read
        share = self.share(n, sum(j.prefill_s for j in self.cohort)) if self.cohort else 0.0
        return share, (1 - share) / (1 + self.slowdown * (n - 1)) if n else 0.0

    def submit(self, job):
        self.advance()
        job.arrived, job.state = self.env.now, "waiting"
        self.stats["arrivals"] += 1
        self.waiting.append(job)
        self.admit()
        self.schedule()

    def cancel(self, job):
        if job.state not in ("waiting", "prefill", "decode"):
            return 0
        self.advance()
        done = 0
        if job.state == "waiting":
            self.waiting.remove(job)
        elif job.state == "prefill":
            self.prefilling.remove(job)
            if job in self.cohort:
                self.cohort.remove(job)
        else:
            self.decoding.remove(job)
            done = min(job.tokens, math.floor(job.progress + EPS))
        self.leave(job)
        self.admit()
        self.schedule()
        return done

    def advance(self, dt=None):
        now = self.env.now
        dt = now - self.last if dt is None else dt
        if dt <= 0:
            return
        s = self.stats
        s["area_in_system"] += dt * (len(self.waiting) + len(self.prefilling)
                                     + len(self.decoding))
        if self.prefilling or self.decoding:
            s["busy"] += dt
        p, v = self.rates()
        if p:
            total = self.total
            for job in self.cohort:
                job.left -= dt * p * job.left / total
        if v:
            for job in self.decoding:
                step = dt * v / job.per_token
                job.progress += step
                s["tokens"] += step
            s["decoding"] += dt
            s["area_batch"] += dt * len(self.decoding)
        self.last = now

    def admit(self):
        while self.waiting and len(self.prefilling) + len(self.decoding) < self.max_batch:
            job = self.waiting.popleft()
            job.state = "prefill"
            self.stats["queue_wait"] += self.env.now - job.arrived
            self.stats["admitted"] += 1
            self.prefilling.append(job)

    def start(self):
        """Prompts waiting and none read: gather them for half a step beside decoders (read
        together), else read them now."""
        if not self.prefilling or self.cohort or self.gather_end is not None:
            return
        if self.together and self.decoding:
            self.gather_end = self.env.now + self.share.step(len(self.decoding)) / 2
        else:
            self.cohort = list(self.prefilling) if self.together else [self.prefilling[0]]

    def schedule(self):
        self.epoch += 1
        self.start()
        p, v = self.rates()
        delays = [max(0.0, self.total) / p] if p else []
        if self.gather_end is not None:
            delays.append(max(0.0, self.gather_end - self.env.now))
        if v:
            delays += [max(0.0, (j.target() - j.progress) * j.per_token / v)
                       for j in self.decoding]
        if not delays:
            return
        epoch, delay = self.epoch, min(delays)
        self.env.timeout(delay).callbacks.append(lambda _e: self.wake(epoch, delay))

    def wake(self, epoch, delay):
        if epoch != self.epoch:
            return
        self.advance(delay)
        finished = []
        if self.gather_end is not None and self.env.now >= self.gather_end - 1e-12:
            self.gather_end = None
            self.cohort = list(self.prefilling)
        for job in list(self.decoding):
            target = job.target()
            if job.progress + EPS >= target:
                job.progress = float(target)
                if target < job.tokens:
                    job.mark_time = self.env.now
                else:
                    self.decoding.remove(job)
                    finished.append(job)
        if self.cohort and sum(j.left for j in self.cohort) <= EPS:
            for job in self.cohort:
                self.prefilling.remove(job)
                if job.tokens:
                    job.state = "decode"
                    self.decoding.append(job)
                else:
                    finished.append(job)
            self.cohort = []
        for job in finished:
            self.leave(job)
        self.admit()
        self.schedule()
        for job in finished:
            job.on_done(job)

    def leave(self, job):
        job.state = "gone"
        self.stats["departures"] += 1
        self.stats["time_in_system"] += self.env.now - job.arrived


def play(make_server, job_cls, jobs, cancels):
    """Run `jobs` (arrival, prefill_s, tokens, per_token, mark) with `cancels` (time, index);
    return end times, mark times, cancel results and stats."""
    env = simpy.Environment()
    server = make_server(env)
    ends, kept, made = {}, {}, []
    for i, (arrival, prefill, tokens, per_token, mark) in enumerate(jobs):
        job = job_cls(prefill, tokens, per_token, lambda j, i=i: ends.__setitem__(i, env.now),
                      mark)
        made.append(job)
        env.timeout(arrival).callbacks.append(lambda _e, job=job: server.submit(job))
    for t, i in cancels:
        env.timeout(t).callbacks.append(
            lambda _e, i=i: kept.__setitem__(i, server.cancel(made[i % len(made)])))
    env.run()
    return ends, [j.mark_time for j in made], kept, server.stats


def close(a, b):
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


def same_outcome(new, ref):
    (ends, marks, kept, stats), (r_ends, r_marks, r_kept, r_stats) = new, ref
    assert ends.keys() == r_ends.keys() and kept == r_kept
    assert all(close(ends[i], r_ends[i]) for i in ends)
    assert all((a is None) == (b is None) and (a is None or close(a, b))
               for a, b in zip(marks, r_marks, strict=True))
    assert all(close(stats[k], r_stats[k]) for k in r_stats), (stats, r_stats)


workload = st.lists(st.tuples(st.floats(0, 5), st.floats(0, 0.5), st.integers(0, 40),
                              st.floats(0.005, 0.05), st.none() | st.integers(1, 40)),
                    min_size=1, max_size=30)
cancels = st.lists(st.tuples(st.floats(0, 8), st.integers(0, 29)), max_size=8)


budgets = st.builds(TokenBudget, st.integers(1, 12), st.floats(0.005, 0.05),
                    st.floats(1e-4, 0.01), st.just(0.0))


@settings(max_examples=200, deadline=None)
@given(workload, cancels, st.integers(1, 6), st.floats(0, 0.2), st.none() | budgets)
def test_the_server_matches_the_reference(jobs, cuts, max_batch, slowdown, budget):
    """Prefill-first (no budget) and the token-budget steps."""
    share = prefill_first
    if budget is not None:
        share = TokenBudget(budget.budget, budget.step_base, budget.per_prefill_token,
                            slowdown)
    new = play(lambda env: BatchServer(env, max_batch, slowdown, share), Job, jobs, cuts)
    ref = play(lambda env: RefServer(env, max_batch, slowdown, share), RefJob, jobs, cuts)
    same_outcome(new, ref)
