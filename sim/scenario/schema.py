"""Scenarios: frozen dataclasses parsed from YAML in one place, with `--set` overrides.

Every leaf is either a number, a bool, or a distribution (rtsim.scenario.distributions).
Unknown keys and out-of-range values are rejected with the file and the dotted key named.
"""

import dataclasses
import math
from dataclasses import dataclass, field
from typing import get_type_hints

from rtsim.errors import InputError
from rtsim.policies.base import AccuracyCurve
from rtsim.scenario.accuracy_curve import parse_curve
from rtsim.scenario.batch_steps import parse_steps
from rtsim.scenario.distributions import Dist, Fixed, LogNormal, parse_dist

POSITIVE, NONNEG, UNIT = "positive", "non-negative", "within [0, 1]"
SECONDS = (0, 1e5)  # sane limits of a duration
TOKEN_RATE = (1e-2, 1e15)  # tokens/s (1e12 in tests: reading takes no time)


def _spec(check: str | tuple[str, ...], doc: str = "",
          limits: tuple[float, float] | None = None, **kw):
    """A dataclass field carrying its range check, the sane limits of its values (a typo's
    guard: an hour-long round trip or a token a day is no one's setup) and a description."""
    return field(metadata={"check": check, "doc": doc, "limits": limits}, **kw)


@dataclass(frozen=True)
class Hesitation:
    """Silent pauses at any word boundary, beyond those after punctuation."""

    rate: float = _spec(UNIT, "chance of a hesitation at each boundary between two words",
                        default=0.0)
    duration: Dist = _spec(NONNEG, "length of a hesitation's silence, s", default=Fixed(0.0),
                           limits=SECONDS)
    filler: float = _spec(UNIT, "chance a hesitation opens with a filler word (\"um\": voiced, "
                          "one word long, dropped by the transcript)", default=0.0)


@dataclass(frozen=True)
class Speech:
    """The user's speaking: rate, pauses after punctuation, hesitations."""

    words_per_minute: Dist = _spec(POSITIVE, "speaking rate, words/min",
                                   default=Fixed(150.0), limits=(1, 1e4))
    pause: Dist = _spec(NONNEG, "pause after a word ending in , . ; ? !, s",
                        default=Fixed(0.0), limits=SECONDS)
    hesitation: Hesitation = field(default_factory=Hesitation)


@dataclass(frozen=True)
class Asr:
    """Streaming speech recognition."""

    interval: float = _spec(POSITIVE, "seconds of audio between partial transcripts",
                            default=0.25, limits=(1e-3, 1e4))
    lag: Dist = _spec(NONNEG, "delay of a partial behind the audio, s",
                      default=Fixed(0.0), limits=SECONDS)
    final_lag: Dist = _spec(NONNEG, "delay of the final transcript after speech end, s",
                            default=Fixed(0.0), limits=SECONDS)


SILENCE, MODEL = "silence", "model"
SCHEDULERS = ("prefill-first", "token-budget", "llama-cpp")
RENAMED = {"endpointing": "turn_detection"}  # old section name: the section it is read as


@dataclass(frozen=True)
class TurnDetection:
    """When the agent takes the user's turn as ended (the commit point), at each pause.

    `silence`: after `silence` seconds of silence (a VAD). `model`: a turn detector scores
    each pause; the turn commits after `min_delay` when it says done, after `max_delay`
    otherwise. A commit during a pause the user then speaks on is a false endpoint. Either
    way a commit also waits for the final transcript (`asr.final_lag`).
    """

    mode: str = _spec((SILENCE, MODEL), "silence or model", default=SILENCE)
    silence: Dist = _spec(NONNEG, "silence mode: seconds of silence", default=Fixed(0.0),
                          limits=SECONDS)
    min_delay: float = _spec(NONNEG, "model mode: silence before a commit the detector "
                             "scores as done, s", default=0.5, limits=SECONDS)
    max_delay: float = _spec(NONNEG, "model mode: silence before a commit otherwise, s",
                             default=3.0, limits=SECONDS)
    done_at_pause: float = _spec(UNIT, "model mode: chance the detector says done at a "
                                 "pause inside the turn", default=0.0)
    done_at_end: float = _spec(UNIT, "model mode: chance it says done at the true end",
                               default=1.0)
    tentative: float = _spec(NONNEG, "silence after which a pause is a tentative end, the "
                             "early signal policies may act on, s", default=0.2,
                             limits=SECONDS)


@dataclass(frozen=True)
class Interruption:
    """The user talking over the agent's answer, and how the agent reacts."""

    barge_in: float = _spec(UNIT, "chance the user talks over an answer while it plays",
                            default=0.0)
    backchannel: float = _spec(UNIT, "share of those that are a backchannel (\"mm-hmm\"): the "
                               "agent pauses, then resumes", default=0.0)
    min_duration: float = _spec(NONNEG, "user speech before the agent stops talking, s",
                                default=0.5, limits=SECONDS)
    false_interruption_timeout: float = _spec(NONNEG, "after a backchannel, silence before "
                                              "the agent resumes its answer, s",
                                              default=2.0, limits=SECONDS)


@dataclass(frozen=True)
class Preemptive:
    """Preemptive generation (the preemptive policy): a reply begun at each tentative end."""

    max_retries: int = _spec(NONNEG, "replies begun per turn at most", default=3,
                             limits=(0, 1000))
    max_speech_duration: float = _spec(NONNEG, "no preemptive reply once the user has spoken "
                                       "this long, s", default=10.0, limits=SECONDS)
    tts: bool = _spec("", "speech synthesis runs preemptively too (audio ready at the "
                      "commit)", default=False)


@dataclass(frozen=True)
class Network:
    """Round trip between the agent and the model server, paid by each request."""

    rtt: Dist = _spec(NONNEG, "round trip, s", default=Fixed(0.0), limits=SECONDS)


@dataclass(frozen=True)
class Model:
    """Model server: request overhead, prefill and decode speed, prompt cache."""

    request_overhead: Dist = _spec(NONNEG, "time to first token beyond rtt and prefill, s",
                                   default=Fixed(0.0), limits=SECONDS)
    prefill_rate: Dist = _spec(POSITIVE, "tokens/s read", default=Fixed(1000.0), limits=TOKEN_RATE)
    decode_rate: Dist = _spec(POSITIVE, "tokens/s generated",
                              default=Fixed(50.0), limits=TOKEN_RATE)
    prefill_slowdown_per_1k: float = _spec(NONNEG, "extra prefill time per 1k context tokens, "
                                           "as a fraction", default=0.0, limits=(0, 1e3))
    decode_slowdown_per_1k: float = _spec(NONNEG, "extra decode time per 1k context tokens, "
                                          "as a fraction", default=0.0, limits=(0, 1e3))
    prompt_cache: bool = _spec("", "only new tokens are prefilled (KV cache kept)", default=True)
    incremental: bool = _spec("", "a session API: reading more input or writing on needs no "
                              "new request (false: every request pays round trip and "
                              "overhead, and a read writes one token)", default=True)
    system_tokens: int = _spec(NONNEG, "system prompt and tool schema tokens",
                               default=0, limits=(0, 10**7))
    template_tokens: int = _spec(NONNEG, "chat-template tokens read again by every request "
                                 "whose prompt grew: the end of the last message and the "
                                 "reply's header", default=0, limits=(0, 10**4))
    message_tokens: int = _spec(NONNEG, "chat-template tokens of a new message (its start and "
                                "end), read by a request whose input follows the model's own "
                                "output", default=0, limits=(0, 10**4))


@dataclass(frozen=True)
class Tool:
    """One tool's latency and, when set, its safety (overrides the trace)."""

    latency: Dist = _spec(NONNEG, "execution time, s", default=Fixed(0.0), limits=SECONDS)
    safe: bool | None = _spec("", "read-only; null keeps the trace's flag", default=None)


@dataclass(frozen=True)
class Tts:
    """Speech output."""

    first_audio: Dist = _spec(NONNEG, "first answer text to first audio, s",
                              default=Fixed(0.0), limits=SECONDS)
    words_per_minute: float = _spec(POSITIVE, "playback rate of the answer",
                                    default=165.0, limits=(1, 1e9))


@dataclass(frozen=True)
class User:
    """The user between turns."""

    think_time: Dist = _spec(NONNEG, "end of the answer's playback to the next utterance, s",
                             default=Fixed(0.0), limits=SECONDS)


@dataclass(frozen=True)
class Speculation:
    """How well the model guesses calls from partial input (speculative policy)."""

    accuracy: float = _spec(UNIT, "chance a call guessed once its arguments are spoken is right",
                            default=1.0)
    premature_rate: float = _spec(UNIT, "chance a call is guessed early, before its arguments "
                                  "are spoken (wrong, unless accuracy_curve says otherwise)",
                                  default=0.0)
    at_pause: bool = _spec("", "at a tentative end, also guess the safe calls whose arguments "
                           "are not yet all heard (right if the user is done)", default=False)
    accuracy_curve: AccuracyCurve | None = _spec(
        "", "replaces accuracy: {words: [...], accuracy: [...]}, the chance a guess is right "
        "against the words heard minus the call's known_at (ascending whole numbers; linear "
        "between points, flat beyond the ends; negative points give early guesses a chance)",
        default=None)
    confirm_error: float = _spec(UNIT, "chance the commit point keeps a wrong guess (a wrong "
                                 "action)", default=0.0)
    revise_error: float = _spec(UNIT, "chance the commit point revises a right guess (a "
                                "needless redo)", default=0.0)


@dataclass(frozen=True)
class Server:
    """The model server when many conversations share it (continuous batching)."""

    sessions: int = _spec(POSITIVE, "conversations at once (closed population); 1 is the "
                          "single-user model", default=1, limits=(1, 10**6))
    arrival_rate: float = _spec(NONNEG, "new conversations per second (open arrivals, each "
                                "plays one episode); 0 uses `sessions`", default=0.0,
                                limits=(0, 1e6))
    episodes: int = _spec(NONNEG, "episodes per replication under load; 0 plays the trace "
                          "set once", default=0, limits=(0, 10**7))
    max_batch: int = _spec(POSITIVE, "sequences the server decodes at once; more wait",
                           default=64, limits=(1, 10**6))
    batch_slowdown: float = _spec(NONNEG, "extra time per token for each further sequence "
                                  "in the batch, as a fraction", default=0.03, limits=(0, 1e3))
    scheduler: str = _spec(SCHEDULERS, "how prompts and decoding share the server: "
                           "prefill-first (a prompt being read stalls the decoders: vLLM V0), "
                           "token-budget (steps of max_num_batched_tokens, decoders first, "
                           "chunked prefill in the rest: vLLM V1) or llama-cpp (the same steps "
                           "of n_batch tokens over max_batch slots)", default="prefill-first")
    max_num_batched_tokens: int = _spec(POSITIVE, "token-budget: tokens in one step "
                                        "(vLLM's --max-num-batched-tokens)", default=2048,
                                        limits=(1, 10**7))
    n_batch: int = _spec(POSITIVE, "llama-cpp: tokens in one batch (llama.cpp's "
                         "--batch-size)", default=2048, limits=(1, 10**7))
    step_base: float = _spec(POSITIVE, "token-budget, llama-cpp: a decode step of one "
                             "sequence, s (a step of n sequences takes step_base x (1 + "
                             "batch_slowdown x (n - 1)) + per_prefill_token x its prompt "
                             "tokens)", default=0.02, limits=(1e-6, 60))
    batch_steps: tuple[float, ...] | None = _spec(
        "", "a measured step of n = 1, 2, ... sequences over a step of one (first 1, none "
        "smaller; past the end the last growth per sequence goes on); replaces "
        "batch_slowdown", default=None)
    per_prefill_token: float = _spec(POSITIVE, "token-budget, llama-cpp: a step's extra time "
                                     "per prompt token in it, s", default=0.001,
                                     limits=(1e-9, 60))
    overhead_on_server: float = _spec(UNIT, "the part of model.request_overhead the server "
                                      "spends (it holds the batch as a prompt does); the "
                                      "rest passes before the request reaches it",
                                      default=0.0)
    startup: float = _spec(NONNEG, "closed population: conversations start spread evenly "
                           "over this many seconds", default=10.0, limits=(0, 1e6))

    @property
    def shared(self) -> bool:
        """True when conversations share the server (more than one, or open arrivals)."""
        return self.sessions > 1 or self.arrival_rate > 0


@dataclass(frozen=True)
class Scenario:
    """A complete simulation setup."""

    name: str = _spec("", "scenario name", default="custom")
    description: str = _spec("", "one line", default="")
    traces: str = _spec("", "built-in trace set name or path", default="assistant")
    seed: int = _spec(NONNEG, "root seed", default=0, limits=(0, 2**63))
    seeds: int = _spec(POSITIVE, "replications", default=1, limits=(1, 10**5))
    speech: Speech = field(default_factory=Speech)
    asr: Asr = field(default_factory=Asr)
    turn_detection: TurnDetection = field(default_factory=TurnDetection)
    interruption: Interruption = field(default_factory=Interruption)
    network: Network = field(default_factory=Network)
    model: Model = field(default_factory=Model)
    tools: dict[str, Tool] = field(default_factory=lambda: {"default": Tool()})
    tts: Tts = field(default_factory=Tts)
    user: User = field(default_factory=User)
    speculation: Speculation = field(default_factory=Speculation)
    preemptive: Preemptive = field(default_factory=Preemptive)
    server: Server = field(default_factory=Server)

    def tool(self, name: str) -> Tool:
        """The tool entry for `name`, else the `default` entry."""
        return self.tools.get(name) or self.tools["default"]


def _check_range(value, check, where: str) -> None:
    if isinstance(check, tuple):
        if value not in check:
            raise InputError(f"{where}: must be one of {', '.join(check)}, got {value!r}")
    elif check == POSITIVE:
        lo = value.support[0] if hasattr(value, "support") else value
        if not lo > 0:
            raise InputError(f"{where}: must be {POSITIVE}, got {_show(value)}")
    elif check == NONNEG:
        lo = value.support[0] if hasattr(value, "support") else value
        if not lo >= 0:
            raise InputError(f"{where}: must be {NONNEG} (a duration or count), got {_show(value)}")
    elif check == UNIT and not 0 <= value <= 1:
        raise InputError(f"{where}: must be {UNIT}, got {value}")


def _check_limits(value, limits: tuple[float, float] | None, where: str) -> None:
    """The value, or a distribution's mean and finite bounds, within `limits`."""
    if limits is None:
        return
    lo, hi = limits
    points = [value]
    if hasattr(value, "support"):
        natural_zero = isinstance(value, LogNormal)  # its support starts at 0, its mass not
        points = [value.mean] + [b for b in value.support
                                 if math.isfinite(b) and not (natural_zero and b == 0)]
    if not all(lo <= p <= hi for p in points):
        raise InputError(f"{where}: must stay within [{lo:g}, {hi:g}], got {_show(value)}")


def _show(value) -> str:
    return repr(value.to_yaml()) if hasattr(value, "to_yaml") else repr(value)


def _parse_leaf(kind, raw, where: str):
    if kind is Dist:
        return parse_dist(raw, where)
    if kind is bool or kind == (bool | None):
        if raw is None and kind is not bool:
            return None
        if not isinstance(raw, bool):
            raise InputError(f"{where}: must be true or false, got {raw!r}")
        return raw
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InputError(f"{where}: must be an integer, got {raw!r}")
        return raw
    if kind is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise InputError(f"{where}: must be a number, got {raw!r}")
        return float(raw)
    if kind is str:
        if not isinstance(raw, str):
            raise InputError(f"{where}: must be a string, got {raw!r}")
        return raw
    raise TypeError(kind)


def _parse_section(cls, raw, where: str):
    """Build dataclass `cls` from mapping `raw`, defaults for missing keys."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be a mapping, got {raw!r}")
    hints = get_type_hints(cls)
    names = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in names:
            raise InputError(f"{where}.{key}".lstrip(".")
                             + f": unknown key (known: {', '.join(names)})")
    values = {}
    for name, f in names.items():
        if name not in raw:
            continue
        key = f"{where}.{name}".lstrip(".")
        kind = hints[name]
        if dataclasses.is_dataclass(kind):
            values[name] = _parse_section(kind, raw[name], key)
        elif name == "tools":
            values[name] = _parse_tools(raw[name], key)
        elif name == "accuracy_curve":
            values[name] = parse_curve(raw[name], key)
        elif name == "batch_steps":
            values[name] = parse_steps(raw[name], key)
        else:
            values[name] = _parse_leaf(kind, raw[name], key)
            _check_range(values[name], f.metadata.get("check", ""), key)
            _check_limits(values[name], f.metadata.get("limits"), key)
    return cls(**values)


def _parse_tools(raw, where: str) -> dict[str, Tool]:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be a mapping of tool name to settings")
    tools = {"default": Tool()}
    for name, spec in raw.items():
        tools[str(name)] = _parse_section(Tool, spec if spec is not None else {},
                                          f"{where}.{name}")
    return tools


def parse_scenario(raw, source: str) -> Scenario:
    """A Scenario from a decoded YAML mapping; errors start with `source`."""
    try:
        scenario = _parse_section(Scenario, _renamed(raw or {}), "")
        _check_delays(scenario.turn_detection)
        return scenario
    except InputError as exc:
        raise InputError(f"{source}: {exc.template}") from None


def _renamed(raw):
    """The mapping with the old `endpointing` section merged into `turn_detection`
    (its keys win: they are how a `--set endpointing.silence=...` arrives)."""
    if not isinstance(raw, dict) or "endpointing" not in raw:
        return raw
    raw = dict(raw)
    old, new = raw.pop("endpointing"), raw.get("turn_detection", {})
    if not isinstance(old, dict):
        raise InputError(f"endpointing: must be a mapping, got {old!r}")
    if not isinstance(new, dict):
        raise InputError(f"turn_detection: must be a mapping, got {new!r}")
    unknown = set(old) - {"silence"}
    if unknown:
        raise InputError(f"endpointing.{sorted(map(str, unknown))[0]}: unknown key (the old "
                         "endpointing section knows only silence; see turn_detection)")
    raw["turn_detection"] = {**new, **old}
    return raw


def _check_delays(detection: TurnDetection) -> None:
    if detection.min_delay > detection.max_delay:
        raise InputError(f"turn_detection.max_delay: must be >= min_delay "
                         f"({detection.min_delay:g}), got {detection.max_delay:g}")
