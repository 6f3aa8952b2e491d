"""Turn-taking from the user's side: where an utterance pauses, and what the turn detector
makes of each pause.

Pure functions of a turn's draws, so the SimPy and the real driver play the same moments.
Times are seconds since the utterance began.
"""

import math
from dataclasses import dataclass

import numpy as np

from rtsim.scenario.schema import SILENCE, TurnDetection


@dataclass(frozen=True, slots=True)
class Pause:
    """A silence inside an utterance, after `words` words."""

    words: int
    start: float
    length: float


@dataclass(frozen=True, slots=True)
class Moment:
    """What the detector does at one pause (or at the end, where `resume` is None).

    `tentative`: when the pause became a tentative end (None: too short, or the commit
    comes first); `commit`: when the detector committed the turn (None: the user spoke
    first); `delay`: the silence the detector waited for; `resume`: when the user spoke on.
    """

    words: int
    start: float
    delay: float
    tentative: float | None
    commit: float | None
    resume: float | None

    @property
    def false_endpoint(self) -> bool:
        return self.commit is not None and self.resume is not None


def detect(pauses: tuple[Pause, ...], words: int, speech_end: float, final_lag: float,
           silence: float, detection: TurnDetection, rng: np.random.Generator,
           ) -> tuple[Moment, ...]:
    """The detector's moments of one turn, in time order, the end of the turn last. Every
    commit also waits for the final transcript (`final_lag` after the pause begins)."""
    moments = []
    for pause in pauses:
        delay = _delay(detection, silence, detection.done_at_pause, rng)
        moment = _moment(pause, delay, final_lag, detection.tentative)
        if moment.tentative is not None or moment.commit is not None:
            moments.append(moment)
    end = Pause(words, speech_end, math.inf)
    delay = _delay(detection, silence, detection.done_at_end, rng)
    moments.append(_moment(end, delay, final_lag, detection.tentative))
    return tuple(moments)


def _delay(detection: TurnDetection, silence: float, done: float, rng) -> float:
    """The silence the detector waits for at a pause: fixed, or by its verdict."""
    if detection.mode == SILENCE:
        return silence
    return detection.min_delay if rng.random() < done else detection.max_delay


def _moment(pause: Pause, delay: float, final_lag: float, tentative: float) -> Moment:
    wait, early = max(delay, final_lag), max(tentative, final_lag)
    commit = pause.start + wait if pause.length > wait else None
    shown = pause.start + early if pause.length > early and early < wait else None
    resume = None if math.isinf(pause.length) else pause.start + pause.length
    return Moment(pause.words, pause.start, delay, shown, commit, resume)
