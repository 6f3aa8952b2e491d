"""The one vocabulary between drivers and policies.

Events are facts a driver tells a policy (past tense); actions are requests a policy
returns. Both drivers (SimPy and real-time) speak exactly this. Pure Python: no simpy,
asyncio or time. Each is an immutable named tuple (cheap to build: a turn makes dozens); a
driver tells them apart by type, never by comparing two of different kinds.
"""

from typing import NamedTuple

# ---- events (driver -> policy) ----------------------------------------------------------


class TranscriptUpdated(NamedTuple):
    """A (partial) transcript now covers the first `words` words of the utterance."""

    words: int


class UserPaused(NamedTuple):
    """A tentative end: the user has been silent a short while after `words` words (the
    transcript of them final), having spoken for `speech_seconds`. Sent only to policies
    that listen to pauses."""

    words: int
    speech_seconds: float


class UtteranceEnded(NamedTuple):
    """The turn detector committed the turn after `words` words: the commit point.

    It may be a false endpoint: the user may yet resume (UserResumed)."""

    words: int


class UserResumed(NamedTuple):
    """The user spoke on after a commit at `words` words: the turn is open again, and what
    the agent began on it no longer stands (its audio, if it had started, has cut the user
    off)."""

    words: int


class GenerationFinished(NamedTuple):
    """Generation `gen` decoded all its tokens."""

    gen: int


class GenerationStopped(NamedTuple):
    """Generation `gen` was cancelled after decoding `tokens_done` tokens."""

    gen: int
    tokens_done: int


class ToolReturned(NamedTuple):
    """Attempt `attempt` of call `call` returned its result."""

    call: str
    attempt: int


class CallWritten(NamedTuple):
    """Attempt `attempt` of call `call`, guessed before the commit point, was written by a
    real model; `right` if it equals the model's own call on the complete utterance. Sent
    right after its request's GenerationFinished by the real driver when it judges guesses;
    the simulator draws rightness instead and never sends it."""

    call: str
    attempt: int
    right: bool


Event = (TranscriptUpdated | UserPaused | UtteranceEnded | UserResumed | GenerationFinished
         | GenerationStopped | ToolReturned | CallWritten)

# ---- actions (policy -> driver) ---------------------------------------------------------

class StartGeneration(NamedTuple):
    """Queue a model request: prefill `prefill` new tokens, then decode `decode` tokens.

    `purpose` is input, result, call or answer; `call`/`attempt` name the call that a
    "call" generation writes; in an "answer" generation the answer text starts at
    decoded token `answer_from`.
    A request that decodes pays the network round trip and the request overhead, unless
    `continues`: the model goes on writing in the response that just finished (nothing new
    to read), as when it writes one call after another.
    """

    gen: int
    prefill: int
    decode: int
    purpose: str
    call: str | None = None
    attempt: int = 0
    answer_from: int = 0
    continues: bool = False


class CancelGeneration(NamedTuple):
    """Stop generation `gen` (queued or running); what it decoded stays in the context."""

    gen: int


class CallTool(NamedTuple):
    """Run attempt `attempt` of call `call`; `speculative` if issued before the commit point."""

    call: str
    attempt: int
    speculative: bool = False


class DiscardCall(NamedTuple):
    """Throw away attempt `attempt` of `call` (cancel the tool if it runs).

    `reason` is "revised", "withdrawn", "cascade" or "false_start" (begun on a commit the
    user then spoke past); `wasted_prefill` counts the result
    tokens of this attempt the model had already read. The tokens of the generations that
    wrote the attempt are wasted too; metrics find them through the attempt's id.
    """

    call: str
    attempt: int
    reason: str
    wasted_prefill: int


class ConfirmCall(NamedTuple):
    """A speculative attempt turned out right at the commit point (a speculation hit).

    `wrong`: the model keeps an attempt whose arguments are wrong: a wrong guess it
    confirmed at the commit point, or a call it wrote from such a call's result; `unsafe`
    if that call changes state.
    """

    call: str
    attempt: int
    wrong: bool = False
    unsafe: bool = False


class EndTurn(NamedTuple):
    """The answer is complete; the turn is over."""


Action = StartGeneration | CancelGeneration | CallTool | DiscardCall | ConfirmCall | EndTurn
