"""Latency distributions named in scenarios: fixed, uniform, truncated normal, lognormal, empirical.

Each has `.mean` (for analytic checks), `.support` and `.sample(rng, size)`, and parses
from YAML: a bare number is fixed; otherwise a mapping with `dist` and its parameters.
"""

import math
from dataclasses import dataclass

import numpy as np

from rtsim.errors import InputError

Z95 = 1.6448536269514722  # standard normal quantile of 0.95
MIN_KEPT = 0.01  # a truncated normal keeps at least this share of its mass
MAX_RESAMPLES = 100_000  # rounds of resampling: P(not done) < 0.99 ** 100_000


@dataclass(frozen=True)
class Fixed:
    """Always `value`."""

    value: float

    @property
    def mean(self) -> float:
        return self.value

    @property
    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def to_yaml(self):
        return self.value


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high]."""

    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    def to_yaml(self):
        return {"dist": "uniform", "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Normal:
    """Normal(mean, sd) truncated to [low, high] by resampling."""

    mu: float
    sd: float
    low: float = -math.inf
    high: float = math.inf

    @property
    def mean(self) -> float:
        if self.sd == 0 or (self.low == -math.inf and self.high == math.inf):
            return self.mu
        a, b = (self.low - self.mu) / self.sd, (self.high - self.mu) / self.sd
        mass = _phi_cdf(b) - _phi_cdf(a)
        return self.mu + self.sd * (_phi_pdf(a) - _phi_pdf(b)) / mass

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def kept(self) -> float:
        """The share of the untruncated normal inside [low, high]."""
        if self.sd == 0:
            return 1.0
        return (_phi_cdf((self.high - self.mu) / self.sd)
                - _phi_cdf((self.low - self.mu) / self.sd))

    def sample(self, rng, size):
        out = rng.normal(self.mu, self.sd, size)
        bad = (out < self.low) | (out > self.high)
        for _ in range(MAX_RESAMPLES):  # at least MIN_KEPT is kept: never reached
            if not bad.any():
                return out
            out[bad] = rng.normal(self.mu, self.sd, int(bad.sum()))
            bad = (out < self.low) | (out > self.high)
        raise RuntimeError(f"{self}: truncated normal not sampled in {MAX_RESAMPLES} rounds")

    def to_yaml(self):
        out = {"dist": "normal", "mean": self.mu, "sd": self.sd}
        out.update({k: v for k, v in (("low", self.low), ("high", self.high))
                    if math.isfinite(v)})
        return out


@dataclass(frozen=True)
class LogNormal:
    """`shift` plus a lognormal with the given median and log-space sigma (YAML may give
    p95 instead); `median` and `p95` are of the lognormal part."""

    median: float
    sigma: float
    shift: float = 0.0

    @property
    def mean(self) -> float:
        return self.shift + self.median * math.exp(self.sigma**2 / 2)

    @property
    def support(self) -> tuple[float, float]:
        return (self.shift, math.inf)

    def sample(self, rng, size):
        draws = rng.lognormal(math.log(self.median), self.sigma, size)
        return draws + self.shift if self.shift else draws

    def to_yaml(self):
        out = {"dist": "lognormal", "median": self.median, "sigma": self.sigma}
        return {**out, "shift": self.shift} if self.shift else out


@dataclass(frozen=True)
class Empirical:
    """Resamples the given observations with equal weight."""

    samples: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples))

    @property
    def support(self) -> tuple[float, float]:
        return (min(self.samples), max(self.samples))

    def sample(self, rng, size):
        return rng.choice(np.asarray(self.samples, dtype=float), size)

    def to_yaml(self):
        return {"dist": "empirical", "samples": list(self.samples)}


Dist = Fixed | Uniform | Normal | LogNormal | Empirical

_PARAMS = {
    "fixed": {"value"},
    "uniform": {"low", "high"},
    "normal": {"mean", "sd", "low", "high"},
    "lognormal": {"median", "sigma", "p95", "shift"},
    "empirical": {"samples"},
}


def _phi_pdf(x: float) -> float:
    return 0.0 if math.isinf(x) else math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _phi_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _number(raw, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise InputError(f"{where}: must be a number, got {raw!r}")
    return float(raw)


def parse_dist(raw, where: str) -> Dist:
    """A distribution from its YAML form; `where` names the file and key in errors."""
    if not isinstance(raw, dict):
        return Fixed(_number(raw, where))
    kind = raw.get("dist")
    if not isinstance(kind, str) or kind not in _PARAMS:
        raise InputError(f"{where}.dist: must be one of {', '.join(_PARAMS)}, got {kind!r}")
    for key in raw:
        if key != "dist" and key not in _PARAMS[kind]:
            raise InputError(f"{where}.{key}: unknown parameter for a {kind} distribution")
    return _BUILD[kind](raw, where)


def _need(raw, key, where):
    if key not in raw:
        raise InputError(f"{where}.{key}: missing")
    return _number(raw[key], f"{where}.{key}")


def _build_uniform(raw, where):
    low, high = _need(raw, "low", where), _need(raw, "high", where)
    if high < low:
        raise InputError(f"{where}.high: must be >= low ({low}), got {high}")
    return Uniform(low, high)


def _build_normal(raw, where):
    sd = _need(raw, "sd", where)
    if sd < 0:
        raise InputError(f"{where}.sd: must be >= 0, got {sd}")
    low = _number(raw.get("low", -math.inf), f"{where}.low") if "low" in raw else -math.inf
    high = _number(raw["high"], f"{where}.high") if "high" in raw else math.inf
    mu = _need(raw, "mean", where)
    if not low <= mu <= high:
        raise InputError(f"{where}.mean: must lie within [low, high], got {mu}")
    dist = Normal(mu, sd, low, high)
    if dist.kept < MIN_KEPT:
        raise InputError(f"{where}: [low, high] keeps {dist.kept:.2%} of the normal, less than "
                         f"{MIN_KEPT:.0%} (widen it, or use a fixed or uniform distribution)")
    return dist


MAX_SIGMA = 5.0  # a lognormal's log-space sigma: p95 then is 3,700 x the median


def _build_lognormal(raw, where):
    median = _need(raw, "median", where)
    if median <= 0:
        raise InputError(f"{where}.median: must be > 0, got {median}")
    if ("sigma" in raw) == ("p95" in raw):
        raise InputError(f"{where}: give exactly one of sigma or p95")
    shift = _need(raw, "shift", where) if "shift" in raw else 0.0
    if "p95" in raw:
        p95 = _need(raw, "p95", where)
        if p95 <= median:
            raise InputError(f"{where}.p95: must be > median ({median}), got {p95}")
        sigma = math.log(p95 / median) / Z95
        if sigma > MAX_SIGMA:
            raise InputError(f"{where}.p95: at most {math.exp(MAX_SIGMA * Z95):,.0f} x the "
                             f"median ({median}), got {p95}")
        return LogNormal(median, sigma, shift)
    sigma = _need(raw, "sigma", where)
    if not 0 <= sigma <= MAX_SIGMA:
        raise InputError(f"{where}.sigma: must be in [0, {MAX_SIGMA}], got {sigma}")
    return LogNormal(median, sigma, shift)


def _build_empirical(raw, where):
    samples = raw.get("samples")
    if not isinstance(samples, list) or not samples:
        raise InputError(f"{where}.samples: must be a non-empty list of numbers")
    return Empirical(tuple(_number(x, f"{where}.samples[{i}]") for i, x in enumerate(samples)))


_BUILD = {
    "fixed": lambda raw, where: Fixed(_need(raw, "value", where)),
    "uniform": _build_uniform,
    "normal": _build_normal,
    "lognormal": _build_lognormal,
    "empirical": _build_empirical,
}
