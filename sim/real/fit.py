"""Least-squares fits of the simulator's model timing (rtsim.engine.simpy_driver) to measurements.

The simulator charges a request `rtt + request_overhead`, then `new / prefill_rate *
(1 + prefill_slowdown_per_1k * ctx / 1000)` to read `new` tokens on top of `ctx` tokens
of context, then `(1 + decode_slowdown_per_1k * ctx / 1000) / decode_rate` per generated
token. Its first token therefore arrives after overhead + prefill + one token time.
Overheads and slowdowns cannot be negative: a fit that would make one so fixes it at 0.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fit:
    """Coefficients of y = X @ coef, with the fit's R^2 and per-point residuals."""

    coef: tuple[float, ...]
    r2: float
    fitted: tuple[float, ...]
    residuals: tuple[float, ...]


@dataclass(frozen=True)
class DecodeFit:
    """per_token(ctx) = (1 + slowdown_per_1k * ctx / 1000) / rate."""

    rate: float
    slowdown_per_1k: float
    fit: Fit

    def per_token(self, ctx) -> np.ndarray:
        """Seconds per generated token at context `ctx` (tokens)."""
        return (1 + self.slowdown_per_1k * np.asarray(ctx, float) / 1000) / self.rate


@dataclass(frozen=True)
class PrefillFit:
    """TTFT - one token time = overhead + new / rate * (1 + slowdown_per_1k * ctx / 1000)."""

    overhead: float
    rate: float
    slowdown_per_1k: float
    fit: Fit


def least_squares(columns: list, y, keep_nonneg: tuple[int, ...] = ()) -> Fit:
    """Least squares of `y` on the regressor columns.

    A coefficient listed in `keep_nonneg` that comes out negative is fixed at 0 and the
    others are refit.
    """
    x = np.column_stack([np.asarray(c, float) for c in columns])
    y = np.asarray(y, float)
    active = list(range(x.shape[1]))
    while True:
        coef = np.zeros(x.shape[1])
        coef[active], *_ = np.linalg.lstsq(x[:, active], y, rcond=None)
        negative = [i for i in keep_nonneg if i in active and coef[i] < 0]
        if not negative:
            break
        active.remove(min(negative, key=lambda i: coef[i]))
    fitted = x @ coef
    residuals = y - fitted
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residuals ** 2)) / total if total > 0 else float("nan")
    return Fit(tuple(map(float, coef)), r2, tuple(map(float, fitted)),
               tuple(map(float, residuals)))


def fit_decode(ctx, per_token) -> DecodeFit:
    """Fit seconds per token against the context it was generated at.

    When noise tilts the best line so far that it gives no positive time per token at no
    context, the slowdown cannot be measured: it is fixed at 0 (the mean time per token,
    with R^2 0, which the calibration warns of).
    """
    ctx = np.asarray(ctx, float)
    fit = least_squares([np.ones_like(ctx), ctx / 1000], per_token, keep_nonneg=(1,))
    if fit.coef[0] <= 0:
        fit = least_squares([np.ones_like(ctx)], per_token)
    base, growth = (*fit.coef, 0.0)[:2]
    if base <= 0:
        raise ValueError("decode fit has no positive time per token; measure more points")
    return DecodeFit(1 / base, growth / base, fit)


def fit_prefill(new, ctx, ttft, decode: DecodeFit) -> PrefillFit:
    """Fit time to first token against new tokens read on top of `ctx` context tokens."""
    new, ctx = np.asarray(new, float), np.asarray(ctx, float)
    y = np.asarray(ttft, float) - decode.per_token(ctx + new)
    fit = least_squares([np.ones_like(new), new, new * ctx / 1000], y, keep_nonneg=(0, 2))
    overhead, per_new, growth = fit.coef
    if per_new <= 0:
        raise ValueError("prefill fit has no positive time per token; measure more points")
    return PrefillFit(overhead, 1 / per_new, growth / per_new, fit)


def fit_cold(new, ttft, decode: DecodeFit) -> PrefillFit:
    """Fit time to first token against the length of a prompt read from scratch."""
    new = np.asarray(new, float)
    y = np.asarray(ttft, float) - decode.per_token(new)
    fit = least_squares([np.ones_like(new), new], y, keep_nonneg=(0,))
    overhead, per_new = fit.coef
    if per_new <= 0:
        raise ValueError("cold prefill fit has no positive time per token")
    return PrefillFit(overhead, 1 / per_new, 0.0, fit)
