"""Scenarios: frozen dataclasses parsed from YAML in one place, with `--set` overrides.

Every leaf is either a number, a bool, or a distribution (rtsim.scenario.distributions).
Unknown keys and out-of-range values are rejected with the file and the dotted key named.
"""

import dataclasses
import math
from dataclasses import dataclass, field
from typing import get_type_hints

from rtsim.errors import InputError
from rtsim.scenario.distributions import Dist, Fixed, LogNormal, parse_dist

POSITIVE, NONNEG, UNIT = "positive", "non-negative", "within [0, 1]"
SECONDS = (0, 1e5)  # sane limits of a duration
TOKEN_RATE = (1e-2, 1e15)  # tokens/s (1e12 in tests: reading takes no time)


def _spec(check: str, doc: str = "", limits: tuple[float, float] | None = None, **kw):
    """A dataclass field carrying its range check, the sane limits of its values (a typo's
    guard: an hour-long round trip or a token a day is no one's setup) and a description."""
    return field(metadata={"check": check, "doc": doc, "limits": limits}, **kw)


@dataclass(frozen=True)
class Speech:
    """The user's speaking: rate and pauses after punctuation."""

    words_per_minute: Dist = _spec(POSITIVE, "speaking rate, words/min",
                                   default=Fixed(150.0), limits=(1, 1e4))
    pause: Dist = _spec(NONNEG, "pause after a word ending in , . ; ? !, s",
                        default=Fixed(0.0), limits=SECONDS)


@dataclass(frozen=True)
class Asr:
    """Streaming speech recognition."""

    interval: float = _spec(POSITIVE, "seconds of audio between partial transcripts",
                            default=0.25, limits=(1e-3, 1e4))
    lag: Dist = _spec(NONNEG, "delay of a partial behind the audio, s",
                      default=Fixed(0.0), limits=SECONDS)
    final_lag: Dist = _spec(NONNEG, "delay of the final transcript after speech end, s",
                            default=Fixed(0.0), limits=SECONDS)


@dataclass(frozen=True)
class Endpointing:
    """Silence the turn detector waits for before the turn counts as ended."""

    silence: Dist = _spec(NONNEG, "seconds of silence", default=Fixed(0.0), limits=SECONDS)


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
                                  "are spoken (always wrong)", default=0.0)


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
    endpointing: Endpointing = field(default_factory=Endpointing)
    network: Network = field(default_factory=Network)
    model: Model = field(default_factory=Model)
    tools: dict[str, Tool] = field(default_factory=lambda: {"default": Tool()})
    tts: Tts = field(default_factory=Tts)
    user: User = field(default_factory=User)
    speculation: Speculation = field(default_factory=Speculation)
    server: Server = field(default_factory=Server)

    def tool(self, name: str) -> Tool:
        """The tool entry for `name`, else the `default` entry."""
        return self.tools.get(name) or self.tools["default"]


def _check_range(value, check: str, where: str) -> None:
    if check == POSITIVE:
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
    if raw is None:
        raw = {}
    try:
        return _parse_section(Scenario, raw, "")
    except InputError as exc:
        raise InputError(f"{source}: {exc.template}") from None
