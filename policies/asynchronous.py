"""The asynchronous policy (docs/architecture.md).

The utterance is prefilled as partial transcripts arrive. After the endpoint the model
writes each call whose dependencies have returned, issues it at once and keeps writing;
each result is injected when it arrives, interrupting the running decode (a restart that
costs the result's prefill and a new request). The answer starts when every call returned.
The model runs one request at a time; work that arrives meanwhile waits for it. If the user
resumes after a commit, what was read stays read; the answer and every call written from
words that did not yet hold its arguments are thrown away, and reading goes on.
"""

from rtsim.policies.base import CallPlan, Policy
from rtsim.policies.events import (
    CallTool,
    CancelGeneration,
    DiscardCall,
    EndTurn,
    GenerationFinished,
    GenerationStopped,
    StartGeneration,
    ToolReturned,
    TranscriptUpdated,
    UserPaused,
    UserResumed,
    UtteranceEnded,
)

GENERATING, HELD, RUNNING, RETURNED = "generating", "held", "running", "returned"
_new = tuple.__new__  # builds a named tuple without its Python-level constructor


class Attempt:
    """One try at a call: its status and the result tokens the model has read."""

    __slots__ = ("number", "right", "speculative", "premature", "status", "gen", "injected")

    def __init__(self, number: int, right: bool, speculative: bool, premature: bool):
        self.number = number
        self.right = right
        self.speculative = speculative
        self.premature = premature
        self.status = GENERATING
        self.gen = 0
        self.injected = 0


class AsyncPolicy(Policy):
    """Never blocks: tools run while the model writes; results interrupt and are injected."""

    name = "async"

    def __init__(self, plan, **kw):
        super().__init__(plan, **kw)
        self.calls: dict[str, CallPlan] = {c.id: c for c in plan.calls}
        self.current: dict[str, Attempt | None] = dict.fromkeys(self.calls)
        self.tries: dict[str, int] = dict.fromkeys(self.calls, 0)
        self.dependants = {c.id: [d.id for d in plan.calls if c.id in d.depends_on]
                           for c in plan.calls}
        self.heard = self.prefilled = 0
        self.ended = False
        self.inflight: StartGeneration | None = None
        self.interrupting = False
        self.resume: StartGeneration | None = None
        self.pending: list[tuple[str, Attempt]] = []
        self.answer_gen = 0
        self.just_finished = False

    # ---- events ---------------------------------------------------------------------

    def on_event(self, event) -> list:
        kind = type(event)
        self.just_finished = kind is GenerationFinished
        handler = self._handlers.get(kind)
        actions = handler(self, event) if handler is not None else []
        if self.inflight is not None:  # the model is busy: nothing new to start
            return actions
        return actions + self._advance()

    def _heard(self, event: TranscriptUpdated) -> list:
        if event.words > self.heard:
            self.heard = event.words
        return self.on_words()

    def _committed(self, event: UtteranceEnded) -> list:
        self.heard, self.ended = event.words, True
        actions = self.on_commit()
        return actions + self._release_held()

    def _paused(self, event: UserPaused) -> list:
        return self.on_pause(event.words)

    def on_words(self) -> list:
        """Hook: a partial transcript arrived (the speculative policy guesses here)."""
        return []

    def on_commit(self) -> list:
        """Hook: the turn was committed."""
        return []

    def on_pause(self, words: int) -> list:
        """Hook: a tentative end after `words` words (only with `listens_to_pauses`)."""
        return []

    def _release_held(self) -> list:
        """At a commit, run the unsafe calls held back while the turn was open."""
        actions = []
        for call_id, attempt in self.current.items():
            if attempt is not None and attempt.status == HELD:
                attempt.status = RUNNING
                actions.append(CallTool(call_id, attempt.number, attempt.speculative))
        return actions

    def _resumed(self, event: UserResumed) -> list:
        """The user spoke on after a commit: drop the answer and the calls that do not hold."""
        self.ended = False
        self.heard = max(self.heard, event.words)
        actions = self._drop_answer()
        for call in self.plan.calls:
            attempt = self.current[call.id]
            if attempt is not None and not attempt.speculative and not attempt.right:
                actions += self.discard(call.id, "false_start")
        return actions

    def _drop_answer(self) -> list:
        gen, self.answer_gen = self.answer_gen, 0
        if gen and self.inflight is not None and self.inflight.gen == gen:
            return [CancelGeneration(gen)]
        return []

    def _finished(self, event: GenerationFinished) -> list:
        gen = event.gen
        done, self.inflight = self.inflight, None
        if gen == self.answer_gen:
            return [EndTurn()]
        if done.purpose != "call":
            return []
        attempt = self.current[done.call]
        if not self.ended and not self.calls[done.call].safe:
            attempt.status = HELD
            return []
        attempt.status = RUNNING
        return [CallTool(done.call, attempt.number, attempt.speculative)]

    def _stopped(self, event: GenerationStopped) -> list:
        gen, tokens_done = event
        stopped, self.inflight = self.inflight, None
        if not self.interrupting:
            return []
        self.interrupting = False
        attempt = self.current.get(stopped.call) if stopped.call else None
        if stopped.purpose == "call" and (attempt is None or attempt.gen != gen):
            return []  # its call was discarded while the interruption was under way
        self.resume = StartGeneration(self.new_gen(), 0, stopped.decode - tokens_done,
                                      stopped.purpose, stopped.call, stopped.attempt,
                                      max(0, stopped.answer_from - tokens_done))
        if attempt is not None:
            attempt.gen = self.resume.gen
        return []

    def _returned(self, event: ToolReturned) -> list:
        call, number = event
        attempt = self.current[call]
        if attempt is None or attempt.number != number or attempt.status != RUNNING:
            return []
        attempt.status = RETURNED
        self.pending.append((call, attempt))
        if self.inflight is not None and self.inflight.decode > 0 and not self.interrupting:
            self.interrupting = True
            return [CancelGeneration(self.inflight.gen)]
        return []

    # ---- choosing the next request ----------------------------------------------------

    def _advance(self) -> list:
        if self.inflight is not None:
            return []
        if self.resume is not None:
            start, self.resume = self.resume, None
            return self._send(start.gen, self._take_pending(), start.decode, start.purpose,
                              start.call, start.attempt, start.answer_from)
        call = self.next_call()
        if call is not None:
            return self._issue(call)
        if self.ended and self.answer_gen == 0 and self._all_returned():
            self.answer_gen = self.new_gen()
            reasoning = self.plan.answer_reasoning_tokens
            return self._send(self.answer_gen, self._take_pending(),
                              reasoning + self.plan.answer_tokens, "answer", answer_from=reasoning)
        purpose = "result" if self.pending else "input"
        prefill = self._take_pending()
        if prefill:
            return self._send(self.new_gen(), prefill, 0, purpose)
        return []

    def next_call(self) -> CallPlan | None:
        """The first call, in trace order, that can be written now."""
        if not self.ended:
            return None
        for call in self.plan.calls:
            if self.current[call.id] is None and self.deps_returned(call):
                return call
        return None

    def deps_returned(self, call: CallPlan) -> bool:
        current = self.current
        for d in call.depends_on:
            attempt = current[d]
            if attempt is None or attempt.status != RETURNED:
                return False
        return True

    def deps_right(self, call: CallPlan) -> bool:
        return all(self.current[d].right for d in call.depends_on)

    def guess(self, call: CallPlan) -> tuple[bool, bool]:
        """(right, premature) for a new attempt at `call`; after a commit it is right if
        the words heard hold its arguments (always, unless the commit was false)."""
        return self.holds(call, self.heard), False

    def _issue(self, call: CallPlan) -> list:
        right, premature = self.guess(call)
        attempt = Attempt(self.tries[call.id], right and self.deps_right(call),
                          not self.ended, premature)
        self.tries[call.id] += 1
        attempt.gen = self.new_gen()
        self.current[call.id] = attempt
        return self._send(attempt.gen, self._take_pending(), call.decode, "call", call.id,
                          attempt.number)

    def _send(self, gen: int, prefill: int, decode: int, purpose: str, call: str | None = None,
              attempt: int = 0, answer_from: int = 0) -> list:
        """Start a request; it continues the response that just ended if it reads nothing
        new."""
        continues = bool(self.just_finished and decode and prefill == 0)
        self.inflight = _new(StartGeneration, (gen, prefill, decode, purpose, call, attempt,
                                               answer_from, continues))
        return [self.inflight]

    def _take_pending(self) -> int:
        """Tokens heard or returned but not yet read by the model; marks them read."""
        word_tokens, heard = self.plan.word_tokens, self.heard
        tokens = word_tokens[heard] - word_tokens[self.prefilled]
        self.prefilled = heard
        if self.pending:
            for call, attempt in self.pending:
                attempt.injected = self.calls[call].output_tokens
                tokens += attempt.injected
            self.pending = []
        return tokens

    def _all_returned(self) -> bool:
        return all(a is not None and a.status == RETURNED and a.right
                   for a in self.current.values())

    # ---- throwing work away (used by the speculative policy) -----------------------------

    def discard(self, call_id: str, reason: str) -> list:
        """Discard the live attempt at `call_id` and, by cascade, those built on its result."""
        attempt = self.current[call_id]
        self.current[call_id] = None
        actions = []
        for dependant in self.dependants[call_id]:
            if self.current[dependant] is not None:
                actions += self.discard(dependant, "cascade")
        if self.inflight is not None and self.inflight.gen == attempt.gen:
            if self.interrupting:  # already being stopped: just do not resume it
                self.interrupting = False
            else:
                actions.append(CancelGeneration(attempt.gen))
        if self.resume is not None and self.resume.gen == attempt.gen:
            self.resume = None
        self.pending = [(c, a) for c, a in self.pending if a is not attempt]
        actions.append(DiscardCall(call_id, attempt.number, reason, attempt.injected))
        return actions

    # each event type's handler (a function of the policy and the event)
    _handlers = {TranscriptUpdated: _heard, UtteranceEnded: _committed, UserPaused: _paused,
                 UserResumed: _resumed, GenerationFinished: _finished,
                 GenerationStopped: _stopped, ToolReturned: _returned}
