"""What both drivers share: turns, speech and transcripts, tools, and the policy's I/O.

A driver plays one episode under one policy class into an EventLog. It turns the policy's
actions into timed work and the ends of that work into events. Subclasses give the clock
(`now`), the scheduler (`_at`) and the model lane (`_on_start`, `_on_cancel`): the SimPy
driver (rtsim.engine.simpy_driver) computes phase times from the latency model; the real driver
(rtsim.real.driver) streams from a model server. Everything else here runs unchanged in
both, so a measured run exercises the very turn-taking, tool and policy code simulated.
"""

import math
from bisect import bisect_right
from collections import deque

from rtsim.engine.draws import EpisodeDraws
from rtsim.engine.eventlog import EventLog
from rtsim.engine.seeds import COMMIT, RETRIES, SPECULATION
from rtsim.policies.base import Settings
from rtsim.policies.events import (
    CallTool,
    CancelGeneration,
    ConfirmCall,
    DiscardCall,
    EndTurn,
    GenerationStopped,
    StartGeneration,
    ToolReturned,
    TranscriptUpdated,
    UserPaused,
    UserResumed,
    UtteranceEnded,
)
from rtsim.scenario.schema import Scenario

EPS = 1e-9
_new = tuple.__new__  # builds a named tuple without its Python-level constructor


class ToolRun:
    """A running or finished tool call attempt."""

    __slots__ = ("begin", "latency", "live")

    def __init__(self, begin: float, latency: float):
        self.begin, self.latency, self.live = begin, latency, True


class EpisodeDriver:
    """Plays one episode under one policy class into an EventLog; see the module docstring."""

    def __init__(self, draws: EpisodeDraws, policy_cls, scenario: Scenario, log: EventLog):
        self.draws, self.policy_cls = draws, policy_cls
        self.scenario, self.rec = scenario, log
        system = draws.episode.system_tokens
        self.context = scenario.model.system_tokens if system is None else system
        self.tools: dict[tuple[str, int], ToolRun] = {}
        self.queue: deque = deque()
        self.active = None
        self.inbox: deque = deque()
        self.turn = -1
        self.policy = None
        self.first_token = None
        self.commit_at: float | None = None
        self.false_commit = False
        self._dispatching = False
        self.retry_rng = draws.live_stream(RETRIES)
        self.speculation_rng = draws.live_stream(SPECULATION)
        spec, pre = scenario.speculation, scenario.preemptive
        self.settings = Settings(spec.accuracy, spec.premature_rate, spec.at_pause,
                                 pre.max_retries, pre.max_speech_duration, spec.accuracy_curve,
                                 spec.confirm_error, spec.revise_error)
        self.commit_rng = draws.live_stream(COMMIT) if self.settings.commit_errors else None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._handlers = _handler_table(cls)

    def now(self) -> float:
        """Seconds since the episode began, on the driver's clock."""
        raise NotImplementedError

    def _at(self, delay: float, fn, *args) -> None:
        """Call `fn(*args)` after `delay` seconds."""
        raise NotImplementedError

    def _on_start(self, a: StartGeneration) -> None:
        raise NotImplementedError

    def _stop_active(self, req) -> int:
        """Cut the running request `req` now and close it; the tokens it kept."""
        raise NotImplementedError

    def _on_cancel(self, a: CancelGeneration) -> None:
        req = self.active
        if req is not None and req.spec.gen == a.gen:
            done = self._stop_active(req)
        else:
            req = next((r for r in self.queue if r.spec.gen == a.gen), None)
            if req is None:
                return
            self.queue.remove(req)
            done = 0
            self.rec.add(self.now(), req.turn, "gen_stop", gen=a.gen, call=req.spec.call or "",
                         attempt=req.spec.attempt, label=req.spec.purpose)
        self._deliver(GenerationStopped(a.gen, done))

    # ---- turns ----------------------------------------------------------------------

    def start(self) -> None:
        """Schedule the first utterance at time 0."""
        self._begin_turn(0)

    def _begin_turn(self, i: int) -> None:
        self.turn, self.first_token = i, None
        self.commit_at, self.false_commit = None, False
        d = self.draws.turns[i]
        self.policy = self.policy_cls(d.plan, rng=self.speculation_rng, settings=self.settings,
                                      commit_rng=self.commit_rng)
        self.rec.add(self.now(), i, "speech_start")
        words, end = d.plan.words, d.moments[-1]
        if self.policy.listens_to_partials:
            self._schedule_partials(i, d)
            if d.final_lag < end.delay:
                self._at(d.speech_end + d.final_lag, self._hear, i, words)
        self._at(d.speech_end, self._mark, i, "speech_end")
        for moment in d.moments:
            self._schedule_moment(i, moment)
        self._dispatch(self.policy.start())

    def _schedule_moment(self, i: int, m) -> None:
        """A pause's tentative end (for policies that listen), its commit, and the user
        speaking on after either."""
        told = m.tentative is not None and self.policy.listens_to_pauses
        if told:
            self._at(m.tentative, self._pause, i, m.words, m.start)
        if m.commit is not None:
            self._at(m.commit, self._endpoint, i, m.words, m.resume is not None)
        if m.resume is not None and (told or m.commit is not None):
            self._at(m.resume, self._resume, i, m.words)

    def _schedule_partials(self, i: int, d) -> None:
        """A partial every `asr.interval` of audio that covers more words than the last one;
        the partials between two word ends are skipped, so the work is bounded by the words,
        however slow the speech or short the interval."""
        interval, ends, last, k = self.scenario.asr.interval, d.word_ends, 0, 1
        speech_end, lag, at, hear = d.speech_end, d.asr_lag, self._at, self._hear
        while k * interval < speech_end:
            words = bisect_right(ends, k * interval + EPS)
            if words > last:
                at(k * interval + lag, hear, i, words)
                last = words
            if last == len(ends):
                return
            k = max(k + 1, math.floor((ends[last] - EPS) / interval))

    def _mark(self, i: int, event: str) -> None:
        self.rec.add(self.now(), i, event)

    def _hear(self, i: int, words: int) -> None:
        if i == self.turn:
            self.rec.put(self.now(), i, "transcript", 0, "", 0, words, 0.0, "")
            self._deliver(_new(TranscriptUpdated, (words,)))

    def _pause(self, i: int, words: int, spoken: float) -> None:
        self.rec.add(self.now(), i, "pause", tokens=words)
        self._deliver(UserPaused(words, spoken))

    def _endpoint(self, i: int, words: int, false: bool) -> None:
        self.commit_at, self.false_commit = self.now(), false
        self.rec.add(self.commit_at, i, "endpoint", tokens=words, label="false" * false)
        self._deliver(UtteranceEnded(words))

    def _resume(self, i: int, words: int) -> None:
        """The user speaks on: the policy drops what it began (recording the first token of
        an answer it cuts); if that answer's audio had begun, the user was cut off."""
        self._deliver(UserResumed(words))
        now = self.now()
        audio = None
        if self.first_token is not None and self.commit_at is not None:
            audio = self._audio_start()
        self.rec.add(now, i, "resume", tokens=words)
        if audio is not None and audio < now:
            stop = now + self.scenario.interruption.min_duration
            played = min(stop, audio + self.draws.turns[i].playback) - audio
            self.rec.add(now, i, "cut_off", seconds=played)
        self.first_token, self.commit_at, self.false_commit = None, None, False

    def _audio_start(self) -> float:
        """When the answer's audio begins: its first text through speech synthesis, and
        never before the commit (with preemptive synthesis, ready at the commit)."""
        tts = self.draws.turns[self.turn].tts_first_audio
        if self.scenario.preemptive.tts:
            return max(self.first_token + tts, self.commit_at)
        return max(self.first_token, self.commit_at) + tts

    def _end_turn(self) -> None:
        i, now = self.turn, self.now()
        d = self.draws.turns[i]
        self.rec.add(now, i, "turn_end")
        audio = self._audio_start()
        self.rec.add(audio, i, "first_audio")
        if self.false_commit:
            return  # the user speaks on; the resume cuts this answer off
        done = max(audio + d.playback, now + d.tts_first_audio)
        at = max(now, audio + d.barge_in * d.playback) if d.barge_in is not None else None
        if at is None:
            self._at(done - now, self._after_playback, i, d.think)
        elif d.backchannel:
            self._backchannel(i, at, done)
        else:
            self._barge_in(i, at, done)

    def _backchannel(self, i: int, at: float, done: float) -> None:
        """A "mm-hmm" at `at`: the agent pauses and resumes after the timeout."""
        now, pause = self.now(), self.scenario.interruption.false_interruption_timeout
        self.rec.add(at, i, "backchannel", seconds=pause)
        self._at(done + pause - now, self._after_playback, i, self.draws.turns[i].think)

    def _barge_in(self, i: int, at: float, done: float) -> None:
        """The user's next utterance begins at `at`, over the answer; the agent stops
        talking once it has heard `min_duration` of it; the rest is not played."""
        now = self.now()
        stop = min(done, at + self.scenario.interruption.min_duration)
        self.rec.add(at, i, "barge_in", seconds=done - stop)
        self._at(stop - now, self._mark, i, "playback_end")
        if i + 1 < len(self.draws.turns):
            self._at(at - now, self._begin_turn, i + 1)
        else:
            self._at(stop - now, self._episode_done)

    def _after_playback(self, i: int, think: float) -> None:
        self.rec.add(self.now(), i, "playback_end")
        if i + 1 < len(self.draws.turns):
            self._at(think, self._begin_turn, i + 1)
        else:
            self._episode_done()

    def _episode_done(self) -> None:
        """Called once the last turn's playback has ended."""

    def _first_token_at(self, t: float, turn: int, gen: int) -> None:
        """Record the turn's first answer token, written at time `t`."""
        self.first_token = t
        self.rec.add(t, turn, "first_token", gen=gen)

    # ---- policy I/O -------------------------------------------------------------------

    def _deliver(self, event) -> None:
        """Tell the policy `event` and carry out its actions; an event those actions raise
        waits in the inbox until they are done."""
        if self._dispatching:
            self.inbox.append(event)
            return
        self._carry_out(self.policy.on_event(event))

    def _carry_out(self, actions: list) -> None:
        """Carry out the policy's actions, then tell it the events they raised, in turn."""
        if not actions:
            return
        self._dispatching = True
        handlers, inbox = self._handlers, self.inbox
        for action in actions:
            handlers[type(action)](self, action)
        while inbox:
            for action in self.policy.on_event(inbox.popleft()):
                handlers[type(action)](self, action)
        self._dispatching = False

    def _dispatch(self, actions: list) -> None:
        handlers = self._handlers
        for action in actions:
            handlers[type(action)](self, action)

    def _on_end_turn(self, _a: EndTurn) -> None:
        self._end_turn()

    # ---- tools ------------------------------------------------------------------------

    def _on_call(self, a: CallTool) -> None:
        d = self.draws.turns[self.turn]
        name = d.names[a.call]
        if a.attempt == 0:
            latency = d.tool_latency[a.call]
        else:
            latency = float(self.scenario.tool(name).latency.sample(self.retry_rng, 1)[0])
        run = self.tools[(a.call, a.attempt)] = ToolRun(self.now(), latency)
        self.rec.add(run.begin, self.turn, "tool_start", call=a.call, attempt=a.attempt,
                     tokens=int(a.speculative), label=name)
        self._at(latency, self._tool_done, self.turn, a.call, a.attempt, run)

    def _tool_done(self, turn: int, call: str, attempt: int, run: ToolRun) -> None:
        if not run.live:
            return
        run.live = False
        self.rec.add(self.now(), turn, "tool_end", call=call, attempt=attempt,
                     seconds=run.latency)
        self._deliver(ToolReturned(call, attempt))

    def _on_discard(self, a: DiscardCall) -> None:
        run, now = self.tools.get((a.call, a.attempt)), self.now()
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
        label = ("wrong_unsafe" if a.unsafe else "wrong") if a.wrong else ""
        self.rec.add(self.now(), self.turn, "confirm", call=a.call, attempt=a.attempt,
                     label=label)


_ACTIONS = {StartGeneration: "_on_start", CancelGeneration: "_on_cancel", CallTool: "_on_call",
            DiscardCall: "_on_discard", ConfirmCall: "_on_confirm", EndTurn: "_on_end_turn"}


def _handler_table(cls) -> dict:
    """Each action type's handler function in `cls`: a class attribute, so a driver holds
    no bound methods of itself (no reference cycle: a finished episode is freed at once)."""
    return {action: getattr(cls, name) for action, name in _ACTIONS.items()}


EpisodeDriver._handlers = _handler_table(EpisodeDriver)
