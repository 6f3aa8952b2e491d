"""The speculative policy (docs/architecture.md): async, plus calls guessed from partial input.

At each partial transcript, a call whose dependencies have returned is guessed:
- once all its argument values are heard (`known_at`), right with probability `accuracy`;
- before that, with probability `premature_rate` per partial transcript, early and wrong.
Safe calls run at once; unsafe ones are held until the commit point (the endpoint). A
premature guess is revised as soon as the arguments are heard. At the commit point each
live speculative attempt is confirmed (a hit) or, if wrong, withdrawn (never ran) or
revised (ran); calls built on a discarded result are discarded too (cascade), and every
discarded call is written again after the commit, now from the final transcript.
A CallWritten event (a real model's guess, judged) replaces the drawn rightness of the
speculative attempt it names: a right one is no longer premature; a wrong one that was
confirmed because its verdict came after the commit is revised (or withdrawn) then.
"""

from rtsim.policies.asynchronous import GENERATING, HELD, RUNNING, AsyncPolicy
from rtsim.policies.events import CallTool, CallWritten, ConfirmCall


class SpeculativePolicy(AsyncPolicy):
    """Issues expected calls before the user has finished speaking."""

    name = "speculative"

    def __init__(self, plan, **kw):
        super().__init__(plan, **kw)
        self.early: list[str] = []
        self.heard_at_pause: int | None = None
        self.listens_to_pauses = self.settings.at_pause

    def on_event(self, event) -> list:
        if isinstance(event, CallWritten):
            return self.written(event)
        return super().on_event(event)

    def written(self, event: CallWritten) -> list:
        """The model's guess was judged: its attempt is right or wrong as judged."""
        attempt = self.current[event.call]
        if attempt is None or not attempt.speculative or attempt.number != event.attempt:
            return []
        confirmed = self.ended and attempt.right
        attempt.right = event.right and self.deps_right(self.calls[event.call])
        attempt.premature = attempt.premature and not attempt.right
        if not (confirmed and not attempt.right):
            return []
        ran = attempt.status not in (GENERATING, HELD)
        return self.discard(event.call, "revised" if ran else "withdrawn") + self._advance()

    def known(self, call) -> bool:
        """Every spoken argument value of `call` has been heard."""
        return call.known_at is not None and self.heard >= max(call.known_at, 1)

    def on_words(self) -> list:
        actions = []
        for call in self.plan.calls:
            attempt = self.current[call.id]
            if attempt is not None:
                if attempt.premature and self.known(call):
                    actions += self.discard(call.id, "revised")
            elif (not self.known(call) and call.id not in self.early
                  and self.settings.premature_rate > 0 and self.deps_returned(call)
                  and self.rng.random() < self.settings.premature_rate):
                self.early.append(call.id)
        return actions

    def next_call(self):
        if self.ended:
            return super().next_call()
        for call in self.plan.calls:
            if self.current[call.id] is None and self.deps_returned(call) and self.known(call):
                return call
        for call_id in self.early:
            call = self.calls[call_id]
            if self.current[call_id] is None and self.deps_returned(call):
                return call
        return None

    def guess(self, call) -> tuple[bool, bool]:
        if self.ended:
            return super().guess(call)
        if call.id in self.early and not self.known(call):
            self.early.remove(call.id)
            if self.heard_at_pause is not None and self.holds(call, self.heard_at_pause):
                return self.rng.random() < self.settings.accuracy, False
            return False, True
        return self.rng.random() < self.settings.accuracy, False

    def on_pause(self, words: int) -> list:
        """A tentative end: guess the safe calls not yet guessed as if the user were done."""
        self.heard_at_pause = words
        self.early += [c.id for c in self.plan.calls if c.safe and self.current[c.id] is None
                       and c.id not in self.early and self.deps_returned(c)]
        return []

    def on_commit(self) -> list:
        self.early = []
        actions = []
        for call in self.plan.calls:
            attempt = self.current[call.id]
            if attempt is None or not attempt.speculative:
                continue
            if attempt.right:
                actions.append(ConfirmCall(call.id, attempt.number))
                if attempt.status == HELD:
                    attempt.status = RUNNING
                    actions.append(CallTool(call.id, attempt.number, True))
            else:
                ran = attempt.status not in (GENERATING, HELD)
                actions += self.discard(call.id, "revised" if ran else "withdrawn")
        return actions
