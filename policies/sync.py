"""The synchronous baseline: a standard reason-and-act loop (docs/architecture.md).

Wait for the endpoint; prefill the whole utterance; per step, decode reasoning and the
step's calls, run them and block until all return, prefill their results; then answer.
"""

from rtsim.policies.base import Policy
from rtsim.policies.events import (
    CallTool,
    EndTurn,
    GenerationFinished,
    StartGeneration,
    ToolReturned,
    UtteranceEnded,
)


class SyncPolicy(Policy):
    """Blocks on every model call and every tool call."""

    name = "sync"
    listens_to_partials = False

    def __init__(self, plan, **kw):
        super().__init__(plan, **kw)
        self.steps = [[c for c in plan.calls if c.step == s] for s in range(plan.step_count)]
        self.step = -1
        self.waiting: set[str] = set()
        self.answer_gen = None

    def on_event(self, event) -> list:
        if isinstance(event, UtteranceEnded):
            return self._next(self.plan.word_tokens[-1])
        if isinstance(event, GenerationFinished):
            if event.gen == self.answer_gen:
                return [EndTurn()]
            calls = self.steps[self.step]
            self.waiting = {c.id for c in calls}
            return [CallTool(c.id, 0) for c in calls]
        if isinstance(event, ToolReturned):
            self.waiting.discard(event.call)
            if not self.waiting:
                return self._next(sum(c.output_tokens for c in self.steps[self.step]))
        return []

    def _next(self, prefill: int) -> list:
        """Request the next step's calls, or the answer after the last step."""
        self.step += 1
        gen = self.new_gen()
        if self.step < len(self.steps):
            calls = self.steps[self.step]
            decode = sum(c.tokens for c in calls) + calls[0].reasoning_tokens
            return [StartGeneration(gen, prefill, decode, "call")]
        self.answer_gen = gen
        reasoning = self.plan.answer_reasoning_tokens
        return [StartGeneration(gen, prefill, reasoning + self.plan.answer_tokens, "answer",
                                answer_from=reasoning)]
