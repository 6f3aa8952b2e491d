"""Latency fits from OpenTelemetry spans, and the scenario profile they give
(`rtsim calibrate --from-traces`, docs/importers.md).

Per tool: the measured latencies (empirical) and a lognormal fitted by maximum likelihood
(median = exp(mean log), sigma = sd of log) with its Kolmogorov-Smirnov distance to the
data. Model: seconds per token after the first, fitted against the context (input
tokens), and time to first token against input tokens (rtsim.real.fit); endpointing,
transcription and speech-output delays as recorded.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from rtsim.errors import InputError
from rtsim.real.fit import DecodeFit, PrefillFit, fit_cold, fit_decode
from rtsim.scenario.schema import parse_scenario
from rtsim.traces.importers.otel import conversations
from rtsim.traces.importers.otel_sources import PARSERS, SOURCES, Parsed, detect
from rtsim.traces.importers.otlp import read_spans

MEASURE_KEYS = {"endpointing_delay": ("turn_detection", "silence"),
                "transcription_delay": ("asr", "final_lag"),
                "tts_ttfb": ("tts", "first_audio")}
"""Recorded delays and the scenario keys whose distributions they become."""


@dataclass(frozen=True)
class LogNormalFit:
    """A lognormal fitted to positive samples, with its KS distance to them."""

    median: float
    sigma: float
    ks: float

    @classmethod
    def of(cls, samples) -> "LogNormalFit | None":
        x = np.sort(np.asarray(samples, float))
        if len(x) == 0 or x[0] <= 0:
            return None
        logs = np.log(x)
        mu, sigma = float(logs.mean()), float(logs.std(ddof=1)) if len(x) > 1 else 0.0
        if sigma == 0:
            return cls(math.exp(mu), 0.0, 0.0)
        cdf = np.array([0.5 * (1 + math.erf((v - mu) / (sigma * math.sqrt(2)))) for v in logs])
        n = len(x)
        ks = float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))
        return cls(math.exp(mu), sigma, ks)


@dataclass
class SpanFits:
    """What the spans measured, and the fits."""

    source: str
    tools: dict = field(default_factory=dict)      # name -> sorted latencies
    measures: dict = field(default_factory=dict)   # MEASURE_KEYS key -> samples
    model_points: list = field(default_factory=list)  # (input tokens, ttft, s/token)
    decode: DecodeFit | None = None
    prefill: PrefillFit | None = None
    notes: list = field(default_factory=list)


def fit_spans(paths: list[str | Path], source: str | None = None) -> SpanFits:
    """Fits of the spans in the OTLP JSON files (`source`: as `rtsim traces import otel`)."""
    if source is not None and source not in SOURCES:
        raise InputError(f"unknown span source {source!r}; choose one of: {', '.join(SOURCES)}")
    spans = [s for path in paths for s in read_spans(path)[0]]
    fits = SpanFits(source or detect(spans))
    tools, measures = defaultdict(list), defaultdict(list)
    for members in conversations(spans).values():
        parsed = Parsed()
        PARSERS[fits.source](members, parsed)
        for t in parsed.tools:
            tools[t.name or "unnamed_tool"].append(t.latency)
        for _, key, value in parsed.measures:
            if key in MEASURE_KEYS:
                measures[key].append(value)
        fits.model_points += _model_points(parsed.models)
    fits.tools = {name: sorted(v) for name, v in sorted(tools.items())}
    fits.measures = {k: sorted(v) for k, v in sorted(measures.items())}
    if not fits.tools and not fits.model_points and not fits.measures:
        raise InputError(f"{paths[0]}: no tool, model or delay measurement in the spans")
    _fit_model(fits)
    return fits


def _model_points(models) -> list[tuple[float, float, float]]:
    """(input tokens, TTFT, seconds per token after the first) of each fully recorded
    request."""
    out = []
    for m in models:
        if m.ttft is None or m.input_tokens is None or not m.output_tokens \
                or m.output_tokens < 2 or m.end - m.start <= m.ttft:
            continue
        out.append((float(m.input_tokens), m.ttft,
                    (m.end - m.start - m.ttft) / (m.output_tokens - 1)))
    return out


def _fit_model(fits: SpanFits) -> None:
    points = fits.model_points
    if len(points) < 2:
        fits.notes.append("model: fewer than 2 requests with TTFT, input and output tokens; "
                          "the base scenario's model kept")
        return
    ctx, ttft, per_token = (np.array(c) for c in zip(*points, strict=True))
    try:
        fits.decode = fit_decode(ctx, per_token)
        fits.prefill = fit_cold(ctx, ttft, fits.decode)
    except ValueError as exc:
        fits.notes.append(f"model: {exc}; TTFT does not grow with input tokens, "
                          "so the median TTFT is the request overhead")


def fit_lines(fits: SpanFits) -> list[str]:
    """One line per fit."""
    lines = []
    for name, x in fits.tools.items():
        ln = LogNormalFit.of(x)
        fit = (f"lognormal median {ln.median:.3f} s sigma {ln.sigma:.3f} (KS D {ln.ks:.3f})"
               if ln else "lognormal: no fit (a latency of 0)")
        lines.append(f"tool {name:<20} n {len(x):>4}  empirical median "
                     f"{np.median(x):.3f} s p90 {np.quantile(x, 0.9):.3f} s  {fit}")
    if fits.decode is not None:
        d = fits.decode
        lines.append(f"decode    s/token = (1 + {d.slowdown_per_1k:.3f} * ctx/1k) / "
                     f"{d.rate:.1f} tok/s   R^2 {d.fit.r2:.3f} ({len(fits.model_points)} requests)")
    if fits.prefill is not None:
        p = fits.prefill
        lines.append(f"TTFT      {p.overhead:.4f} s + input / {p.rate:.1f} tok/s + 1 token   "
                     f"R^2 {p.fit.r2:.3f}")
    elif fits.model_points:
        lines.append(f"TTFT      median {np.median([p[1] for p in fits.model_points]):.4f} s")
    for key, x in fits.measures.items():
        lines.append(f"{key:<20} n {len(x):>4}  median {np.median(x):.3f} s  "
                     f"p90 {np.quantile(x, 0.9):.3f} s")
    return lines + fits.notes


def _latency_yaml(samples: list, kind: str):
    ln = LogNormalFit.of(samples) if kind == "lognormal" else None
    if ln is not None and ln.sigma > 0:
        return {"dist": "lognormal", "median": round(ln.median, 6), "sigma": round(ln.sigma, 6)}
    return {"dist": "empirical", "samples": [round(v, 6) for v in samples]}


def profile_raw(fits: SpanFits, base: dict, name: str, tool_fit: str) -> dict:
    """The base scenario with the fitted values."""
    raw = {**base, "name": name}
    tools = dict(raw.get("tools") or {})
    for tool, samples in fits.tools.items():
        tools[tool] = {**(tools.get(tool) or {}), "latency": _latency_yaml(samples, tool_fit)}
    raw["tools"] = tools
    for key, samples in fits.measures.items():
        section, leaf = MEASURE_KEYS[key]
        raw[section] = {**(raw.get(section) or {}), leaf: _latency_yaml(samples, "empirical")}
    model = dict(raw.get("model") or {})
    rtt = parse_scenario(base, name).network.rtt.mean
    if fits.decode is not None:
        model["decode_rate"] = round(fits.decode.rate, 1)
        model["decode_slowdown_per_1k"] = round(max(0.0, fits.decode.slowdown_per_1k), 4)
    if fits.prefill is not None:
        model["prefill_rate"] = round(fits.prefill.rate, 1)
        model["request_overhead"] = round(max(0.0, fits.prefill.overhead - rtt), 4)
    elif fits.model_points:
        ttft = float(np.median([p[1] for p in fits.model_points]))
        model["request_overhead"] = round(max(0.0, ttft - rtt), 4)
    raw["model"] = model
    parse_scenario(raw, name)  # the profile must load
    return raw


def profile_yaml(fits: SpanFits, base: dict, base_label: str, paths, tool_fit: str) -> str:
    """The profile as YAML, headed by where its values come from."""
    name = f"{base.get('name', 'custom')}-from-traces"
    raw = profile_raw(fits, base, name, tool_fit)
    header = [f"# Written by `rtsim calibrate --from-traces` from {fits.source} spans in "
              + ", ".join(str(p) for p in paths) + ";",
              *(f"#   {line}" for line in fit_lines(fits)),
              f"# tool latencies, delays and model timing are fitted; everything else is "
              f"{base_label}'s."]
    return "\n".join(header) + "\n" + yaml.safe_dump(raw, sort_keys=False)
