"""The synchronous baseline: a standard reason-and-act loop (docs/architecture.md).

Wait for the commit point; prefill the utterance; per step, decode reasoning and the
step's calls, run them and block until all return, prefill their results; then answer. If
the user resumes after a commit, everything begun on it is abandoned and the loop starts
again at the next commit (what the model read stays read).
"""

from rtsim.policies.base import Policy
from rtsim.policies.events import (
    CallTool,
    CancelGeneration,
    DiscardCall,
    EndTurn,
    GenerationFinished,
    StartGeneration,
    ToolReturned,
    UserResumed,
    UtteranceEnded,
)


class SyncPolicy(Policy):
    """Blocks on every model call and every tool call."""

    name = "sync"
    listens_to_partials = False

    def __init__(self, plan, **kw):
        super().__init__(plan, **kw)
        self.steps = [[c for c in plan.calls if c.step == s] for s in range(plan.step_count)]
        self.tries = dict.fromkeys((c.id for c in plan.calls), 0)
        self.outputs = {c.id: c.output_tokens for c in plan.calls}
        self.read = 0
        self._reset()

    def _reset(self) -> None:
        self.step = -1
        self.running: int | None = None
        self.waiting: set[str] = set()
        self.started: list[tuple[str, int, int]] = []  # (call, attempt, result tokens read)
        self.answer_gen = None

    def on_event(self, event) -> list:
        kind = type(event)
        if kind is GenerationFinished:
            if event.gen != self.running:
                return []
            self.running = None
            if event.gen == self.answer_gen:
                return self.answered()
            return self.wrote_calls()
        if kind is ToolReturned and (event.call, event.attempt) in self.waiting:
            self.waiting.discard((event.call, event.attempt))
            if not self.waiting:
                return self.results_read()
        if kind is UtteranceEnded:
            return self.on_commit(event.words)
        if kind is UserResumed:
            return self.abandon()
        return []

    def on_commit(self, words: int) -> list:
        """The turn is committed after `words` words: read them and begin."""
        prefill = self.plan.word_tokens[words] - self.plan.word_tokens[self.read]
        self.read = words
        return self._next(prefill)

    def answered(self) -> list:
        return [EndTurn()]

    def wrote_calls(self) -> list:
        """The step's calls are written: run them all."""
        return self.run_calls()

    def run_calls(self) -> list:
        calls = self.steps[self.step]
        self.waiting = {(c.id, self.tries[c.id]) for c in calls}
        self.started += [(c.id, self.tries[c.id], 0) for c in calls]
        return [CallTool(c.id, self.tries[c.id]) for c in calls]

    def results_read(self) -> list:
        calls = self.steps[self.step]
        self.started = [(c, a, self.outputs[c]) for c, a, _ in self.started]
        return self._next(sum(c.output_tokens for c in calls))

    def abandon(self) -> list:
        """The user spoke on: cancel the running request, throw away every call begun."""
        actions = [] if self.running is None else [CancelGeneration(self.running)]
        for call, attempt, read in self.started:
            actions.append(DiscardCall(call, attempt, "false_start", read))
            self.tries[call] = attempt + 1
        self._reset()
        return actions

    def _next(self, prefill: int) -> list:
        """Request the next step's calls, or the answer after the last step."""
        self.step += 1
        gen = self.running = self.new_gen()
        if self.step < len(self.steps):
            calls = self.steps[self.step]
            decode = sum(c.tokens for c in calls) + calls[0].reasoning_tokens
            return [StartGeneration(gen, prefill, decode, "call")]
        self.answer_gen = gen
        reasoning = self.plan.answer_reasoning_tokens
        return [StartGeneration(gen, prefill, reasoning + self.plan.answer_tokens, "answer",
                                answer_from=reasoning)]
