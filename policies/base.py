"""What every policy gets: the turn it serves and a generation-id counter.

A policy object serves one turn. The driver calls `start()` once, then `on_event(event)`
for each event, and executes the returned actions in order. Policies never read a clock.
"""

from bisect import bisect_right
from dataclasses import dataclass

from rtsim.policies.events import Event


@dataclass(frozen=True, slots=True)
class CallPlan:
    """One call of the turn as a policy sees it."""

    id: str
    step: int
    depends_on: tuple[str, ...]
    safe: bool
    tokens: int
    reasoning_tokens: int
    output_tokens: int
    known_at: int | None

    @property
    def decode(self) -> int:
        """Tokens the model writes for this call: its share of reasoning plus the call."""
        return self.reasoning_tokens + self.tokens


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """The work of one turn: the utterance's token prefix sums, the calls, the answer."""

    word_tokens: tuple[int, ...]
    calls: tuple[CallPlan, ...]
    step_count: int
    answer_tokens: int
    answer_reasoning_tokens: int

    @property
    def words(self) -> int:
        return len(self.word_tokens) - 1


@dataclass(frozen=True, slots=True)
class AccuracyCurve:
    """The chance a guess is right against the words heard minus the call's `known_at`:
    linear between the points (`words` ascending), flat beyond the ends."""

    words: tuple[int, ...]
    accuracy: tuple[float, ...]

    @property
    def guesses_early(self) -> bool:
        """Whether a guess made before `known_at` (a negative offset) may be right."""
        return self.words[0] < 0

    def at(self, offset: int) -> float:
        """The chance of a right guess `offset` words after `known_at`."""
        i = bisect_right(self.words, offset)
        if i == 0:
            return self.accuracy[0]
        if i == len(self.words):
            return self.accuracy[-1]
        w0, w1, a0, a1 = self.words[i - 1], self.words[i], self.accuracy[i - 1], self.accuracy[i]
        return a0 + (a1 - a0) * (offset - w0) / (w1 - w0)

    def to_yaml(self) -> dict:
        return {"words": list(self.words), "accuracy": list(self.accuracy)}


@dataclass(frozen=True, slots=True)
class Settings:
    """What a scenario tells the policies: speculation and preemptive generation."""

    accuracy: float = 1.0
    premature_rate: float = 0.0
    at_pause: bool = False
    max_retries: int = 3
    max_speech_duration: float = 10.0
    accuracy_curve: AccuracyCurve | None = None
    confirm_error: float = 0.0
    revise_error: float = 0.0

    @property
    def commit_errors(self) -> bool:
        """Whether the commit point may confirm a wrong guess or revise a right one."""
        return self.confirm_error > 0 or self.revise_error > 0


class Policy:
    """Base of the policies: names itself and hands out generation ids."""

    name = "base"
    listens_to_partials = True
    listens_to_pauses = False

    def __init__(self, plan: TurnPlan, rng=None, settings: Settings = Settings(),
                 commit_rng=None):
        self.plan = plan
        self.rng = rng
        self.commit_rng = commit_rng
        self.settings = settings
        self._gens = 0

    def new_gen(self) -> int:
        self._gens += 1
        return self._gens

    def holds(self, call: CallPlan, words: int) -> bool:
        """A call written from the first `words` words is the one the whole utterance asks
        for: every spoken argument value is among them, or the utterance is complete."""
        if words >= self.plan.words:
            return True
        return call.known_at is not None and words >= max(call.known_at, 1)

    def start(self) -> list:
        """Actions at the start of the user's utterance."""
        return []

    def on_event(self, event: Event) -> list:
        raise NotImplementedError
