"""The SimPy driver: the model lane and the clock of rtsim.engine.driver, from the latency model.

One episode runs in one `simpy.Environment`. Each phase (a model request, a tool run, a
transcript update) is a single timeout whose callback reports the fact; a cancelled phase's
callback finds itself stale and does nothing, which is how decode and tools are cut short
without per-token events. The model serves one request at a time, first come first served.

A request's timeout is scheduled when the callback that started it schedules anything else
or ends, so its place among the timeouts is the same. When the callback ends and nothing is
due before the request would end (as for most reads of a partial transcript), the request
ends at once, stamped with its end time, and its timeout is left out: nothing could observe
the difference. Only actions the policy takes on that end wait for a timeout at that time.
"""

import math

import simpy
from simpy.events import NORMAL

from rtsim.engine.draws import EpisodeDraws
from rtsim.engine.driver import EPS, EpisodeDriver
from rtsim.engine.eventlog import EventLog, EventRow
from rtsim.policies.events import GenerationFinished, StartGeneration
from rtsim.scenario.schema import Model, Scenario

_new = tuple.__new__  # builds a named tuple without its Python-level constructor


def template_tokens(model: Model, prefill: int, wrote: bool) -> tuple[int, int]:
    """Chat-template tokens a request reads beyond its `prefill` input, and those of them
    that stay in the context. Read: the end of the last message and the reply's header when
    the prompt grew (new input, or the model `wrote` since the last request), and a new
    message's framing when new input follows the model's output. Kept: the framing of the
    model's own message (as long as the reply's header and the end) and of the new one."""
    if not (prefill or wrote):
        return 0, 0
    message = model.message_tokens if prefill and wrote else 0
    return model.template_tokens + message, message + (model.template_tokens if wrote else 0)


class Phase(simpy.Event):
    """A timeout that calls `callback(event)` `delay` seconds from now, the event carrying
    the work `fn(*args)` that callback does: a Timeout without its value and description,
    scheduled the same way (so in the same order)."""

    _ok, _value = True, None  # triggered and successful from the start, like a Timeout

    def __init__(self, env: simpy.Environment, delay: float, callback, fn, args: tuple):
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        self.callbacks = [callback]
        self.fn, self.args = fn, args
        env.schedule(self, NORMAL, delay)


class Request:
    """A model request in the lane: its action and, once running, its timing."""

    __slots__ = ("spec", "turn", "begin", "overhead", "prefill_s", "per_token", "job")

    def __init__(self, spec: StartGeneration, turn: int):
        self.spec, self.turn = spec, turn
        self.begin = self.overhead = self.prefill_s = self.per_token = 0.0
        self.job = None  # on a shared server: the server's job running it

    def tokens_by(self, now: float) -> int:
        """Tokens decoded by time `now` (a token half written is not kept)."""
        elapsed = now - self.begin - self.overhead - self.prefill_s
        return min(self.spec.decode, max(0, math.floor(elapsed / self.per_token + EPS)))


class EpisodeSim(EpisodeDriver):
    """Plays one episode under one policy class in a SimPy environment."""

    def __init__(self, env: simpy.Environment, draws: EpisodeDraws, policy_cls,
                 scenario: Scenario, log: EventLog):
        super().__init__(draws, policy_cls, scenario, log)
        self.env, self.model = env, scenario.model
        self.templated = bool(self.model.template_tokens or self.model.message_tokens)
        self.wrote = False  # the model wrote since the last request began
        self.launched: Request | None = None  # started; its timeout not yet scheduled

    def now(self) -> float:
        return self.env.now

    def start(self) -> None:
        super().start()
        if self.launched is not None:
            self._settle()

    def _at(self, delay: float, fn, *args) -> None:
        if self.launched is not None:
            self._schedule_end()
        Phase(self.env, delay, self._fire, fn, args)

    def _fire(self, phase: Phase) -> None:
        """Do a timeout's work, then settle the request it launched last."""
        phase.fn(*phase.args)
        if self.launched is not None:
            self._settle()

    def _on_start(self, a: StartGeneration) -> None:
        req = Request(a, self.turn)
        if self.active is None:
            self._run(req)
        else:
            self.queue.append(req)

    def _run(self, req: Request) -> None:
        """Start `req` on the idle model: its phases' times, its row, its timeout."""
        gen, prefill, decode, purpose, call, attempt, _, continues = req.spec
        d, m, ctx = self.draws.turns[req.turn], self.model, self.context
        req.begin = now = self.env.now
        new_request = not m.incremental or (decode and not continues)
        req.overhead = overhead = d.rtt + d.request_overhead if new_request else 0.0
        template, kept = (template_tokens(m, prefill, self.wrote) if self.templated
                          else (0, 0))
        cost = (prefill if m.prompt_cache or not decode else ctx + prefill) + template
        req.prefill_s = cost / d.prefill_rate * (1 + m.prefill_slowdown_per_1k * ctx / 1000)
        req.per_token = (1 + m.decode_slowdown_per_1k * ctx / 1000) / d.decode_rate
        if not (m.incremental or decode):
            req.prefill_s += req.per_token  # a request-per-call API writes at least a token
        self.context = ctx + prefill + kept
        self.wrote = False
        self.active = req
        self.rec.put(now, req.turn, "gen_start", gen, call or "", attempt, prefill, overhead,
                     purpose)
        self._launch(req)

    def _launch(self, req: Request) -> None:
        """Run the request on this conversation's own model: one timeout, scheduled once the
        callback schedules anything else or ends (`_settle`)."""
        if self.launched is not None:
            self._schedule_end()
        self.launched = req

    def _schedule_end(self) -> None:
        req, self.launched = self.launched, None
        if self.active is req:  # else stopped already: its timeout would find itself stale
            Phase(self.env, _duration(req), self._fire, self._finish, (req,))

    def _settle(self) -> None:
        """At the end of a callback: end the request launched last at once if nothing is due
        before its end and nothing waits for the model, else schedule its timeout."""
        req, env = self.launched, self.env
        spec = req.spec
        duration = _duration(req)
        end = env.now + duration
        if self.active is not req or self.queue or env.peek() <= end:
            self._schedule_end()
            return
        self.launched = None
        self._close(req, spec.decode, "gen_end", end)
        actions = self.policy.on_event(_new(GenerationFinished, (spec.gen,)))
        if actions:
            Phase(self.env, duration, self._fire, self._carry_out, (actions,))

    def _finish(self, req: Request) -> None:
        if self.active is not req:
            return
        self._close(req, req.spec.decode, "gen_end", self.env.now)
        self._deliver(_new(GenerationFinished, (req.spec.gen,)))

    def _stop_active(self, req: Request) -> int:
        done = self._stop(req)
        self._close(req, done, "gen_stop", self.env.now)
        return done

    def _close(self, req: Request, tokens: int, event: str, now: float) -> None:
        """End the running request at `now` with `tokens` decoded; start the next queued
        one."""
        gen, _, _, purpose, call, attempt, answer_from, _ = req.spec
        prefill_s = req.prefill_s
        spent = now - req.begin - req.overhead
        spent = spent if spent > 0.0 else 0.0
        prefill_spent = spent if spent < prefill_s else prefill_s
        self.context += tokens
        self.wrote = self.wrote or tokens > 0
        self.rec.put(now, req.turn, event, gen, call or "", attempt, tokens, prefill_spent,
                     purpose)
        if purpose == "answer" and self.first_token is None and tokens > answer_from:
            self._first_token_at(self._first_token_time(req), req.turn, gen)
        self.active = None
        if self.queue:
            self._run(self.queue.popleft())

    def _stop(self, req: Request) -> int:
        """Cut the running request now; the whole tokens it wrote."""
        return req.tokens_by(self.env.now)

    def _first_token_time(self, req: Request) -> float:
        """When the request wrote its first answer token."""
        return (req.begin + req.overhead + req.prefill_s
                + (req.spec.answer_from + 1) * req.per_token)


def _duration(req: Request) -> float:
    """How long the request runs to its end: overhead, prefill and decode."""
    return req.overhead + req.prefill_s + req.spec.decode * req.per_token


def simulate_episode(draws: EpisodeDraws, policy_cls, scenario: Scenario) -> list[EventRow]:
    """Run one episode under one policy; return its event rows."""
    env, rec = simpy.Environment(), EventLog()
    EpisodeSim(env, draws, policy_cls, scenario, rec).start()
    env.run()
    return rec.rows
