"""Preemptive generation: the voice frameworks' default (docs/architecture.md).

The synchronous loop, begun at each tentative end instead of at the commit: the reply is
generated while the turn detector still waits, but nothing is played and no tool runs
until the commit. A commit on the same transcript reuses the reply; when the user speaks
on, the reply is cancelled and begun again at the next tentative end, at most
`max_retries` times a turn and not once the user has spoken `max_speech_duration`.
"""

from rtsim.policies.events import EndTurn, UserPaused
from rtsim.policies.sync import SyncPolicy


class PreemptivePolicy(SyncPolicy):
    """Replies before the commit; plays and acts only after it."""

    name = "preemptive"
    listens_to_pauses = True

    def __init__(self, plan, **kw):
        super().__init__(plan, **kw)
        self.replies = 0
        self.committed = False
        self.pending: str | None = None  # "calls" or "answer", done before the commit

    def on_event(self, event) -> list:
        if type(event) is UserPaused:
            return self.on_pause(event.words, event.speech_seconds)
        return super().on_event(event)

    def on_pause(self, words: int, spoken: float) -> list:
        """A tentative end: begin the reply if allowed and none is under way."""
        if (self.step >= 0 or self.replies >= self.settings.max_retries
                or spoken > self.settings.max_speech_duration):
            return []
        self.replies += 1
        return super().on_commit(words)

    def on_commit(self, words: int) -> list:
        self.committed = True
        if self.step < 0:
            return super().on_commit(words)
        pending, self.pending = self.pending, None
        if pending == "answer":
            return [EndTurn()]
        return self.run_calls() if pending == "calls" else []

    def answered(self) -> list:
        if self.committed:
            return [EndTurn()]
        self.pending = "answer"
        return []

    def wrote_calls(self) -> list:
        if self.committed:
            return self.run_calls()
        self.pending = "calls"
        return []

    def abandon(self) -> list:
        self.committed, self.pending = False, None
        return super().abandon()
