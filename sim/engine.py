"""The SimPy driver: turns policy actions into timed phases and their ends into events.

One episode runs in one `simpy.Environment`. Each phase (a model request, a tool run, a
transcript update) is a single timeout whose callback reports the fact; a cancelled phase's
callback finds itself stale and does nothing, which is how decode and tools are cut short
without per-token events. The model serves one request at a time, first come first served.
"""

import math
from bisect import bisect_right
from collections import deque

import simpy

from sim.events import (
    CallTool,
    CancelGeneration,
    ConfirmCall,
    DiscardCall,
    EndTurn,
    GenerationFinished,
    GenerationStopped,
    StartGeneration,
    ToolReturned,
    TranscriptUpdated,
    UtteranceEnded,
)
from sim.realize import RETRIES, SPECULATION, EpisodeDraws
from sim.recorder import Recorder
from sim.scenario import Scenario

EPS = 1e-9


class Request:
    """A model request in the lane: its action and, once running, its timing."""

    __slots__ = ("spec", "turn", "begin", "overhead", "prefill_s", "per_token")

    def __init__(self, spec: StartGeneration, turn: int):
        self.spec, self.turn = spec, turn
        self.begin = self.overhead = self.prefill_s = self.per_token = 0.0

    def tokens_by(self, now: float) -> int:
        """Tokens decoded by time `now` (a token half written is not kept)."""
        elapsed = now - self.begin - self.overhead - self.prefill_s
        return min(self.spec.decode, max(0, math.floor(elapsed / self.per_token + EPS)))


class ToolRun:
    """A running or finished tool call attempt."""

    __slots__ = ("begin", "latency", "live")

    def __init__(self, begin: float, latency: float):
        self.begin, self.latency, self.live = begin, latency, True


class EpisodeSim:
    """Plays one episode under one policy class into a Recorder."""

    def __init__(self, env: simpy.Environment, draws: EpisodeDraws, policy_cls,
                 scenario: Scenario, recorder: Recorder):
        self.env, self.draws, self.policy_cls = env, draws, policy_cls
        self.scenario, self.rec = scenario, recorder
        system = draws.episode.system_tokens
        self.context = scenario.model.system_tokens if system is None else system
        self.queue: deque[Request] = deque()
        self.active: Request | None = None
        self.tools: dict[tuple[str, int], ToolRun] = {}
        self.inbox: deque = deque()
        self.turn = -1
        self.policy = None
        self.first_token = None
        self._dispatching = False
        self.retry_rng = draws.live_stream(RETRIES)
        self.speculation_rng = draws.live_stream(SPECULATION)

    # ---- turns ----------------------------------------------------------------------

    def start(self) -> None:
        """Schedule the first utterance at time 0."""
        self._begin_turn(0)

    def _at(self, delay: float, fn, *args) -> None:
        self.env.timeout(delay).callbacks.append(lambda _ev: fn(*args))

    def _begin_turn(self, i: int) -> None:
        self.turn, self.first_token = i, None
        d = self.draws.turns[i]
        self.policy = self.policy_cls(d.plan, rng=self.speculation_rng,
                                      accuracy=self.scenario.speculation.accuracy,
                                      premature_rate=self.scenario.speculation.premature_rate)
        self.rec.add(self.env.now, i, "speech_start")
        words = d.plan.words
        if self.policy.listens_to_partials:
            self._schedule_partials(i, d)
            if d.final_lag < d.silence:
                self._at(d.speech_end + d.final_lag, self._hear, i, words)
        self._at(d.speech_end, self._mark, i, "speech_end")
        self._at(d.speech_end + max(d.silence, d.final_lag), self._endpoint, i, words)
        self._dispatch(self.policy.start())

    def _schedule_partials(self, i: int, d) -> None:
        interval, last, k = self.scenario.asr.interval, 0, 1
        while k * interval < d.speech_end:
            words = bisect_right(d.word_ends, k * interval + EPS)
            if words > last:
                self._at(k * interval + d.asr_lag, self._hear, i, words)
                last = words
            k += 1

    def _mark(self, i: int, event: str) -> None:
        self.rec.add(self.env.now, i, event)

    def _hear(self, i: int, words: int) -> None:
        if i == self.turn:
            self.rec.add(self.env.now, i, "transcript", tokens=words)
            self._deliver(TranscriptUpdated(words))

    def _endpoint(self, i: int, words: int) -> None:
        self.rec.add(self.env.now, i, "endpoint", tokens=words)
        self._deliver(UtteranceEnded(words))

    def _end_turn(self) -> None:
        i, now = self.turn, self.env.now
        d = self.draws.turns[i]
        self.rec.add(now, i, "turn_end")
        audio = self.first_token + d.tts_first_audio
        self.rec.add(audio, i, "first_audio")
        done = max(audio + d.playback, now + d.tts_first_audio)
        self._at(done - now, self._after_playback, i, d.think)

    def _after_playback(self, i: int, think: float) -> None:
        self.rec.add(self.env.now, i, "playback_end")
        if i + 1 < len(self.draws.turns):
            self._at(think, self._begin_turn, i + 1)

    # ---- policy I/O -------------------------------------------------------------------

    def _deliver(self, event) -> None:
        self.inbox.append(event)
        if self._dispatching:
            return
        self._dispatching = True
        while self.inbox:
            self._dispatch(self.policy.on_event(self.inbox.popleft()))
        self._dispatching = False

    def _dispatch(self, actions: list) -> None:
        for action in actions:
            self._HANDLERS[type(action)](self, action)

    def _on_start(self, a: StartGeneration) -> None:
        self.queue.append(Request(a, self.turn))
        if self.active is None:
            self._run_next()

    def _on_end_turn(self, _a: EndTurn) -> None:
        self._end_turn()

    # ---- the model lane ---------------------------------------------------------------

    def _run_next(self) -> None:
        req = self.queue.popleft()
        spec, d, m = req.spec, self.draws.turns[req.turn], self.scenario.model
        ctx = self.context
        req.begin = self.env.now
        req.overhead = d.rtt + d.request_overhead if spec.decode and not spec.continues else 0.0
        cost = spec.prefill if m.prompt_cache or not spec.decode else ctx + spec.prefill
        req.prefill_s = cost / d.prefill_rate * (1 + m.prefill_slowdown_per_1k * ctx / 1000)
        req.per_token = (1 + m.decode_slowdown_per_1k * ctx / 1000) / d.decode_rate
        self.context += spec.prefill
        self.active = req
        self.rec.add(req.begin, req.turn, "gen_start", spec.gen, spec.call or "", spec.attempt,
                     spec.prefill, req.overhead, spec.purpose)
        total = req.overhead + req.prefill_s + spec.decode * req.per_token
        self.env.timeout(total).callbacks.append(lambda _ev: self._finish(req))

    def _finish(self, req: Request) -> None:
        if self.active is not req:
            return
        self._close(req, req.spec.decode, "gen_end")
        self._deliver(GenerationFinished(req.spec.gen))

    def _on_cancel(self, a: CancelGeneration) -> None:
        req = self.active
        if req is not None and req.spec.gen == a.gen:
            done = req.tokens_by(self.env.now)
            self._close(req, done, "gen_stop")
        else:
            req = next((r for r in self.queue if r.spec.gen == a.gen), None)
            if req is None:
                return
            self.queue.remove(req)
            done = 0
            self.rec.add(self.env.now, req.turn, "gen_stop", a.gen, req.spec.call or "",
                         req.spec.attempt, 0, 0.0, req.spec.purpose)
        self._deliver(GenerationStopped(a.gen, done))

    def _close(self, req: Request, tokens: int, event: str) -> None:
        """End the running request with `tokens` decoded; start the next queued one."""
        spec, now = req.spec, self.env.now
        prefill_spent = min(req.prefill_s, max(0.0, now - req.begin - req.overhead))
        self.context += tokens
        self.rec.add(now, req.turn, event, spec.gen, spec.call or "", spec.attempt, tokens,
                     prefill_spent, spec.purpose)
        if spec.purpose == "answer" and self.first_token is None and tokens > spec.answer_from:
            self.first_token = (req.begin + req.overhead + req.prefill_s
                                + (spec.answer_from + 1) * req.per_token)
            self.rec.add(self.first_token, req.turn, "first_token", spec.gen)
        self.active = None
        if self.queue:
            self._run_next()

    # ---- tools ------------------------------------------------------------------------

    def _on_call(self, a: CallTool) -> None:
        d = self.draws.turns[self.turn]
        name = d.names[a.call]
        if a.attempt == 0:
            latency = d.tool_latency[a.call]
        else:
            latency = float(self.scenario.tool(name).latency.sample(self.retry_rng, 1)[0])
        run = self.tools[(a.call, a.attempt)] = ToolRun(self.env.now, latency)
        self.rec.add(self.env.now, self.turn, "tool_start", call=a.call, attempt=a.attempt,
                     tokens=int(a.speculative), label=name)
        self._at(latency, self._tool_done, self.turn, a.call, a.attempt, run)

    def _tool_done(self, turn: int, call: str, attempt: int, run: ToolRun) -> None:
        if not run.live:
            return
        run.live = False
        self.rec.add(self.env.now, turn, "tool_end", call=call, attempt=attempt,
                     seconds=run.latency)
        self._deliver(ToolReturned(call, attempt))

    def _on_discard(self, a: DiscardCall) -> None:
        run, now = self.tools.get((a.call, a.attempt)), self.env.now
        wasted = 0.0
        if run is not None and run.live:
            run.live = False
            wasted = now - run.begin
            self.rec.add(now, self.turn, "tool_cancel", call=a.call, attempt=a.attempt,
                         seconds=wasted)
        elif run is not None:
            wasted = run.latency
        self.rec.add(now, self.turn, "discard", call=a.call, attempt=a.attempt,
                     tokens=a.wasted_prefill, seconds=wasted, label=a.reason)

    def _on_confirm(self, a: ConfirmCall) -> None:
        self.rec.add(self.env.now, self.turn, "confirm", call=a.call, attempt=a.attempt)

    _HANDLERS = {
        StartGeneration: _on_start,
        CancelGeneration: _on_cancel,
        CallTool: _on_call,
        DiscardCall: _on_discard,
        ConfirmCall: _on_confirm,
        EndTurn: _on_end_turn,
    }


def simulate_episode(draws: EpisodeDraws, policy_cls, scenario: Scenario) -> list[tuple]:
    """Run one episode under one policy; return its event rows."""
    env, rec = simpy.Environment(), Recorder()
    EpisodeSim(env, draws, policy_cls, scenario, rec).start()
    env.run()
    return rec.rows
