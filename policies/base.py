"""What every policy gets: the turn it serves and a generation-id counter.

A policy object serves one turn. The driver calls `start()` once, then `on_event(event)`
for each event, and executes the returned actions in order. Policies never read a clock.
"""

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
class Settings:
    """What a scenario tells the policies: speculation and preemptive generation."""

    accuracy: float = 1.0
    premature_rate: float = 0.0
    at_pause: bool = False
    max_retries: int = 3
    max_speech_duration: float = 10.0


class Policy:
    """Base of the policies: names itself and hands out generation ids."""

    name = "base"
    listens_to_partials = True
    listens_to_pauses = False

    def __init__(self, plan: TurnPlan, rng=None, settings: Settings = Settings()):
        self.plan = plan
        self.rng = rng
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
