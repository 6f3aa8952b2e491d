"""The speculative policy (docs/architecture.md): async, plus calls guessed from partial input.

At each partial transcript, a call whose dependencies have returned is guessed:
- once all its argument values are heard (`known_at`), right with probability `accuracy`,
  or, with an accuracy curve, with the curve's chance at the words heard past `known_at`;
- before that, with probability `premature_rate` per partial transcript, early: wrong,
  unless the curve gives a chance to guesses before `known_at`.
Safe calls run at once; unsafe ones are held until the commit point (the endpoint). A wrong
early guess is revised as soon as the arguments are heard. At the commit point each live
speculative attempt is confirmed (a hit) or, if wrong, withdrawn (never ran) or revised
(ran); calls built on a discarded result are discarded too (cascade), and every discarded
call is written again after the commit, now from the final transcript. With commit errors
the judgment may err, once per attempt: a wrong guess is kept with `confirm_error` (a wrong
action: a held unsafe call then runs with wrong arguments), a right one is revised needlessly
with `revise_error` (a redo that costs time).
A CallWritten event (a real model's guess, judged) replaces the drawn rightness of the
speculative attempt it names: a right one is no longer premature; a wrong one that was
confirmed because its verdict came after the commit is revised (or withdrawn) then.
"""

import math

from rtsim.policies.asynchronous import GENERATING, HELD, RUNNING, AsyncPolicy
from rtsim.policies.events import CallTool, CallWritten, ConfirmCall


class SpeculativePolicy(AsyncPolicy):
    """Issues expected calls before the user has finished speaking."""

    name = "speculative"

    def __init__(self, plan, **kw):
        super().__init__(plan, **kw)
        self.early: list[str] = []
        # words heard once each call's argument values are all heard (never: infinity)
        self.known_from = {c.id: math.inf if c.known_at is None else max(c.known_at, 1)
                           for c in plan.calls}
        self.heard_at_pause: int | None = None
        self.listens_to_pauses = self.settings.at_pause
        self.judged: set[tuple[str, int]] = set()  # attempts judged at a commit point
        self.kept_wrong: set[tuple[str, int]] = set()  # wrong attempts the model keeps
        self.tainted: set[tuple[str, int]] = set()  # guesses written from a kept wrong result

    def on_event(self, event) -> list:
        if type(event) is CallWritten:
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
        return self.heard >= self.known_from[call.id]

    def known_word(self, call) -> int:
        """The word after which `call`'s argument values are all heard (the last if never)."""
        return self.plan.words if call.known_at is None else call.known_at

    def accuracy(self, call, words: int) -> float:
        """The chance a guess at `call` from the first `words` words is right."""
        curve = self.settings.accuracy_curve
        if curve is None:
            return self.settings.accuracy
        return curve.at(words - self.known_word(call))

    def on_words(self) -> list:
        actions = []
        heard, known_from, current = self.heard, self.known_from, self.current
        rate = self.settings.premature_rate
        for call in self.plan.calls:
            attempt = current[call.id]
            known = heard >= known_from[call.id]
            if attempt is not None:
                if attempt.premature and known:
                    actions += self.discard(call.id, "revised")
            elif (rate > 0 and not known and call.id not in self.early
                  and self.deps_returned(call) and self.rng.random() < rate):
                self.early.append(call.id)
        return actions

    def next_call(self):
        if self.ended:
            return super().next_call()
        heard, known_from, current = self.heard, self.known_from, self.current
        for call in self.plan.calls:
            if (current[call.id] is None and heard >= known_from[call.id]
                    and self.deps_returned(call)):
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
                return self.rng.random() < self.accuracy(call, self.heard_at_pause), False
            curve = self.settings.accuracy_curve
            if curve is None or not curve.guesses_early:
                return False, True
            right = self.rng.random() < self.accuracy(call, self.heard)
            return right, not right
        return self.rng.random() < self.accuracy(call, self.heard), False

    def _issue(self, call) -> list:
        """Write `call`; built on a result the model wrongly kept, it is wrong too."""
        actions = super()._issue(call)
        attempt = self.current[call.id]
        if attempt.right and any((d, self.current[d].number) in self.kept_wrong
                                 for d in call.depends_on):
            self.tainted.add((call.id, attempt.number))
            if self.ended:
                actions += self._keep_wrong(call, attempt)
        return actions

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
            key = (call.id, attempt.number)
            if key in self.kept_wrong:
                continue
            if key in self.tainted:
                actions += self._keep_wrong(call, attempt)
            elif attempt.right and self._errs(key, self.settings.revise_error):
                actions += self.discard(call.id, "needless")
            elif attempt.right:
                actions += self._confirm(call, attempt)
            elif self._errs(key, self.settings.confirm_error):
                actions += self._keep_wrong(call, attempt)
            else:
                ran = attempt.status not in (GENERATING, HELD)
                actions += self.discard(call.id, "revised" if ran else "withdrawn")
        return actions

    def _errs(self, key: tuple[str, int], chance: float) -> bool:
        """Whether the commit point's judgment of attempt `key` errs: drawn once per
        attempt, from the commit stream, only when commit errors are modelled."""
        if not self.settings.commit_errors or key in self.judged:
            return False
        self.judged.add(key)
        return self.commit_rng.random() < chance

    def _confirm(self, call, attempt, wrong: bool = False) -> list:
        """Keep `attempt`: confirm it and run it if it was held."""
        actions = [ConfirmCall(call.id, attempt.number, wrong, wrong and not call.safe)]
        if attempt.status == HELD:
            attempt.status = RUNNING
            actions.append(CallTool(call.id, attempt.number, True))
        return actions

    def _keep_wrong(self, call, attempt) -> list:
        """The model takes a wrong attempt as right: it acts on it and builds on it."""
        attempt.right = True
        self.kept_wrong.add((call.id, attempt.number))
        return self._confirm(call, attempt, wrong=True)
