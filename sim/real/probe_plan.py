"""What `rtsim probe` asks: the sampled calls, the partial transcripts of their turns, and
the chat of each request.

A probed call is one a model can guess from the user's words alone: a call of the turn
that depends on no other call's result. For each, the model is asked at every partial
transcript (the scenario's ASR cadence over the episode's drawn speech), on the complete
utterance (the reference), and at the commit point: with its guess from a partial written
as its own reply, then the rest of the utterance, it writes the call again (the same
guess: confirmed; another: revised).
"""

import json
import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from rtsim.engine.draws import realize
from rtsim.real.forced_calls import tool_schema
from rtsim.scenario.schema import Scenario
from rtsim.traces.schema import Call, Episode

EPS = 1e-9
SYSTEM = ("You are a voice assistant. The user speaks; you act by calling the tool you are "
          "given, with the argument values the user means.")


@dataclass(frozen=True)
class ProbedCall:
    """One call to probe: where it is, the words of its turn and the partials' word counts."""

    episode: str
    turn: int
    call: Call
    words: tuple[str, ...]
    partials: tuple[int, ...]
    history: tuple[dict, ...]

    @property
    def key(self) -> str:
        return f"{self.episode}/{self.turn}/{self.call.id}"

    @property
    def tool(self) -> dict:
        return tool_schema(self.call)

    def heard(self, words: int) -> list[dict]:
        """The chat after `words` words of the utterance."""
        return [*self.history, {"role": "user", "content": " ".join(self.words[:words])}]

    def commit(self, words: int, guess: dict) -> list[dict]:
        """The chat at the commit point after guessing `guess` from `words` words."""
        guessed = {"role": "assistant", "content": call_text(self.call.name, guess)}
        return [*self.heard(words), guessed,
                {"role": "user", "content": " ".join(self.words[words:])}]


def call_text(name: str, arguments: dict) -> str:
    """A call written as text: name(JSON arguments)."""
    return f"{name}({json.dumps(arguments, sort_keys=True)})"


def partial_words(word_ends: tuple[float, ...], interval: float) -> tuple[int, ...]:
    """Word counts of the partial transcripts before the last word (one every `interval`
    of audio that covers more words than the one before)."""
    counts, last, k = [], 0, 1
    while k * interval < word_ends[-1]:
        words = bisect_right(word_ends, k * interval + EPS)
        if words > last:
            last = words
            if words < len(word_ends):
                counts.append(words)
        if last == len(word_ends):
            break
        k = max(k + 1, math.floor((word_ends[last] - EPS) / interval))
    return tuple(counts)


def _history(episode: Episode, turn: int) -> tuple[dict, ...]:
    """The system prompt, and each earlier turn's words and calls."""
    chat = [{"role": "system", "content": SYSTEM}]
    for t in episode.turns[:turn]:
        chat.append({"role": "user", "content": t.user})
        if t.calls:
            chat.append({"role": "assistant",
                         "content": "\n".join(call_text(c.name, c.arguments) for c in t.calls)})
    return tuple(chat)


def turn_calls(scenario: Scenario, episode: Episode, index: int, turn: int
               ) -> tuple[list[ProbedCall], int]:
    """The calls of turn `turn` of `episode` (at `index` in its set) that depend on no
    other call, and how many do (those are left out)."""
    ends = realize(scenario, episode, index, 0).turns[turn].word_ends
    partials = partial_words(ends, scenario.asr.interval)
    history = _history(episode, turn)
    words = episode.turns[turn].words
    calls = [ProbedCall(episode.id, turn, c, words, partials, history)
             for c in episode.turns[turn].calls if not c.depends_on]
    return calls, len(episode.turns[turn].calls) - len(calls)


def probed_calls(scenario: Scenario, episodes: list[Episode], turns: int, seed: int
                 ) -> tuple[list[ProbedCall], int]:
    """The calls of `turns` turns sampled (with `seed`) among the turns with calls, in trace
    order; and how many calls of those turns were left out (they depend on results)."""
    with_calls = [(i, t) for i, ep in enumerate(episodes) for t, turn in enumerate(ep.turns)
                  if turn.calls]
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(with_calls), min(turns, len(with_calls)), replace=False))
    calls, dependent = [], 0
    for k in picked:
        i, t = with_calls[k]
        found, left_out = turn_calls(scenario, episodes[i], i, t)
        calls += found
        dependent += left_out
    return calls, dependent
