"""Random draws for one episode of one replication, shared by every policy.

Each component (speech, ASR, turn detection, network, model, tools, TTS, user, speculation,
hesitations, the detector's verdicts, interruptions)
draws from its own stream (rtsim.engine.seeds): any process of a sweep can rebuild any
episode's streams, and every policy sees the same speech, tool latencies and server speed
(common random numbers), so policy differences are not sampling noise.
"""

from dataclasses import dataclass

import numpy as np

from rtsim.engine.seeds import (
    ASR,
    DETECTOR,
    ENDPOINT,
    HESITATION,
    INTERRUPTION,
    MODEL,
    NETWORK,
    SPEECH,
    TOOLS,
    TTS,
    USER,
    LazyStream,
    episode_stream,
)
from rtsim.engine.turn_taking import Moment, Pause, detect
from rtsim.policies.base import CallPlan, TurnPlan
from rtsim.scenario.schema import SILENCE, Scenario
from rtsim.traces.schema import Episode, Turn

PAUSE_MARKS = (",", ".", ";", "?", "!", ":")
TOKENS_PER_WORD = 4 / 3  # English: about 0.75 words per token


@dataclass(frozen=True, slots=True)
class TurnDraws:
    """Everything random about one turn."""

    plan: TurnPlan
    names: dict[str, str]
    word_ends: tuple[float, ...]
    pauses: tuple[Pause, ...]
    moments: tuple[Moment, ...]
    asr_lag: float
    final_lag: float
    rtt: float
    request_overhead: float
    prefill_rate: float
    decode_rate: float
    tool_latency: dict[str, float]
    tts_first_audio: float
    playback: float
    think: float
    barge_in: float | None
    backchannel: bool

    @property
    def speech_end(self) -> float:
        return self.word_ends[-1]


@dataclass(frozen=True, slots=True)
class EpisodeDraws:
    """The draws of every turn, and the address of the streams drawn from while it runs."""

    episode: Episode
    turns: tuple[TurnDraws, ...]
    root: int
    replication: int
    index: int

    def live_stream(self, component: int) -> LazyStream:
        """A fresh stream for draws made during a run (each policy run starts it anew),
        built on its first draw."""
        return LazyStream(self.root, self.replication, self.index, component)


def realize(scenario: Scenario, episode: Episode, index: int, replication: int) -> EpisodeDraws:
    """Draw every random quantity of `episode` (position `index` in its trace set)."""
    def rng(component):
        return episode_stream(scenario.seed, replication, index, component)

    n = len(episode.turns)
    speech, asr, net, model, tts, user = (rng(c) for c in (SPEECH, ASR, NETWORK, MODEL, TTS, USER))

    def draw(dist, stream) -> list[float]:
        return dist.sample(stream, n).tolist()

    wpm = draw(scenario.speech.words_per_minute, speech)
    lags, final_lags = draw(scenario.asr.lag, asr), draw(scenario.asr.final_lag, asr)
    silences = draw(scenario.turn_detection.silence, rng(ENDPOINT))
    rtts = draw(scenario.network.rtt, net)
    overheads = draw(scenario.model.request_overhead, model)
    prefill = draw(scenario.model.prefill_rate, model)
    decode = draw(scenario.model.decode_rate, model)
    first_audio, think = draw(scenario.tts.first_audio, tts), draw(scenario.user.think_time, user)
    tools = rng(TOOLS)
    # streams only a feature in use draws from (a stream's draws never depend on another's)
    hesitation = rng(HESITATION) if scenario.speech.hesitation.rate > 0 else None
    detector = rng(DETECTOR) if scenario.turn_detection.mode != SILENCE else None
    interruptions = (rng(INTERRUPTION).random((n, 3)) if scenario.interruption.barge_in > 0
                     else np.ones((n, 3))).tolist()
    turns = []
    for i, turn in enumerate(episode.turns):
        ends, pauses = _speak(turn, wpm[i], scenario, speech, hesitation)
        moments = detect(pauses, len(ends), ends[-1], final_lags[i], silences[i],
                         scenario.turn_detection, detector)
        barge, kind, at = interruptions[i]
        turns.append(TurnDraws(
            plan=plan_turn(turn, _safety(scenario, turn)),
            names={c.id: c.name for c in turn.calls},
            word_ends=ends, pauses=pauses, moments=moments,
            asr_lag=lags[i], final_lag=final_lags[i],
            rtt=rtts[i], request_overhead=overheads[i],
            prefill_rate=prefill[i], decode_rate=decode[i],
            tool_latency=tool_latencies(scenario, turn, tools),
            tts_first_audio=first_audio[i],
            playback=turn.answer_tokens / TOKENS_PER_WORD * 60 / scenario.tts.words_per_minute,
            think=think[i],
            barge_in=at if barge < scenario.interruption.barge_in else None,
            backchannel=kind < scenario.interruption.backchannel,
        ))
    return EpisodeDraws(episode, tuple(turns), scenario.seed, replication, index)


def plan_turn(turn: Turn, safe: dict[str, bool]) -> TurnPlan:
    """The policy's view of a trace turn, with each call's resolved safety."""
    calls = tuple(CallPlan(c.id, c.step, c.depends_on, safe[c.id], c.tokens, c.reasoning_tokens,
                           c.output_tokens, c.known_at) for c in turn.calls)
    return TurnPlan(turn.word_tokens, calls, turn.steps, turn.answer_tokens,
                    turn.answer_reasoning_tokens)


def _safety(scenario: Scenario, turn: Turn) -> dict[str, bool]:
    """Each call's safety: the scenario's tool entry when it sets one, else the trace's."""
    out = {}
    for call in turn.calls:
        tool = scenario.tool(call.name)
        out[call.id] = call.safe if tool.safe is None else tool.safe
    return out


def _speak(turn: Turn, wpm: float, scenario: Scenario, rng,
           hesitation_rng) -> tuple[tuple[float, ...], tuple[Pause, ...]]:
    """When each word ends, and the silences between words: from the trace's word times,
    or from the speaking rate, the pauses after punctuation and the hesitations."""
    if turn.word_times is not None:
        start = turn.word_times[0][0]
        ends = tuple(end - start for _, end in turn.word_times)
        pairs = zip(turn.word_times[:-1], turn.word_times[1:], strict=True)
        gaps = [(k + 1, end - start, nxt - end) for k, ((_, end), (nxt, _)) in enumerate(pairs)]
        return ends, tuple(Pause(k, at, gap) for k, at, gap in gaps if gap > 0)
    marks = [w.endswith(PAUSE_MARKS) for w in turn.words[:-1]]
    pauses = iter(scenario.speech.pause.sample(rng, sum(marks)).tolist())
    hesitations = _hesitations(len(marks), scenario, hesitation_rng)
    per_word, t, ends, silences = 60.0 / wpm, 0.0, [], []
    for i, mark in enumerate(marks):  # every word but the last, and the silence after it
        t += per_word
        ends.append(t)
        silence = next(pauses) if mark else 0.0
        if hesitations and i in hesitations:
            length, filler = hesitations[i]
            t += per_word * filler
            silence += length
        if silence > 0:
            silences.append(Pause(i + 1, t, silence))
            t += silence
    ends.append(t + per_word)
    return tuple(ends), tuple(silences)


def _hesitations(boundaries: int, scenario: Scenario, rng) -> dict[int, tuple[float, bool]]:
    """The boundaries with a hesitation: its silence and whether a filler word opens it."""
    spec = scenario.speech.hesitation
    if spec.rate == 0 or boundaries == 0:
        return {}
    where = [b for b, u in enumerate(rng.random(boundaries).tolist()) if u < spec.rate]
    if not where:
        return {}  # no lengths or fillers to draw (drawing none would leave the stream as is)
    lengths = spec.duration.sample(rng, len(where)).tolist()
    fillers = (rng.random(len(where)) < spec.filler).tolist()
    return dict(zip(where, zip(lengths, fillers, strict=True), strict=True))


def tool_latencies(scenario: Scenario, turn: Turn, rng) -> dict[str, float]:
    """First-attempt latency of each call, drawn in trace order; a measured one replaces
    its draw (the draw is still made, so the other calls keep theirs)."""
    out = {}
    for c in turn.calls:
        drawn = float(scenario.tool(c.name).latency.sample(rng, 1)[0])
        out[c.id] = drawn if c.latency is None else c.latency
    return out
