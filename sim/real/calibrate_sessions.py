"""Measure a batching server under concurrent streams and fit the `llama-cpp` scheduler.

Points, each repeated and reduced to medians. Every stream has a context of its own of
`context_words` words (a conversation's system prompt and history), read once beforehand so
that the server's prompt cache holds it:
- steps: k = 1..N streams started together, each writing `decode_tokens` tokens after its
  context; a stream's time per token (between its first and last chunk) is the server's
  step time with k sequences in the batch;
- interference: N - 1 streams decoding (one when N is 1) and, in the middle, a request that
  appends P words to another cached context (as a policy's read of new input does); the
  longest gap between a decoder's chunks while it is read, less the step time, is what its
  prompt tokens (the server's count of tokens read, else the prompt's) added to that step;
- queueing: N + 1 requests at once on N slots; the last one waits for a slot until the
  first of the others ends (reported, not fitted).
Fits (docs/server.md): the measured table batch_steps[k - 1] = step(k) / step(1) (made
non-decreasing), step_base = step(1), the line step(k) = step_base x (1 + batch_slowdown x
(k - 1)) with its R^2 (how far a constant growth per stream is off), and step with c prompt
tokens = step(k) + per_prefill_token x c with its R^2.
"""

import asyncio
import statistics
from dataclasses import dataclass, replace

import numpy as np
import yaml

from rtsim.errors import InputError, option
from rtsim.real import calibrate as measure
from rtsim.real.backend.errors import BackendError
from rtsim.real.calibrate import Plan, Words
from rtsim.real.connect import BATCHING, Target, run_against
from rtsim.real.fit import Fit, least_squares
from rtsim.text import count

N_BATCH = 2048
"""llama-server's logical batch (--batch-size default), the llama-cpp scheduler's n_batch."""


@dataclass(frozen=True)
class SessionPlan:
    """What to measure with up to `sessions` concurrent streams."""

    sessions: int
    decode_tokens: int = 48
    prompt_words: tuple[int, ...] = (10, 50, 200)
    repeats: int = 3
    context_words: int = 800


def quick_plan(sessions: int) -> SessionPlan:
    """The fewest points: a smoke test."""
    return SessionPlan(sessions, decode_tokens=24, prompt_words=(10, 100), repeats=1,
                       context_words=100)


@dataclass(frozen=True)
class StepFit:
    """The step time against the streams in the batch: the measured factors `table` (step(k)
    over step(1), k = 1..N), step_base = step(1) in s, and the straight line step_base x
    (1 + batch_slowdown x (k - 1)) fit to the points, with its R^2."""

    step_base: float
    batch_slowdown: float
    fit: Fit
    streams: tuple[int, ...]
    step: tuple[float, ...]
    table: tuple[float, ...]

    def at(self, k: int) -> float:
        """The measured step time with k streams (k within the table)."""
        return self.step_base * self.table[k - 1]


@dataclass(frozen=True)
class PrefillStepFit:
    """A step's extra time = per_prefill_token x prompt tokens read in it."""

    per_prefill_token: float
    fit: Fit
    tokens: tuple[float, ...]
    extra: tuple[float, ...]


@dataclass(frozen=True)
class SessionCalibration:
    """The fits, the queueing point (measured and predicted slot wait, s) and the plan."""

    plan: SessionPlan
    steps: StepFit
    prefill: PrefillStepFit
    queue_wait: float
    queue_predicted: float
    seconds: float
    outside: float | None = None
    """Median time to first token beyond the server's own prompt time (llama-server's
    timings.prompt_ms) of reads alone on a cached context, s; None without timings."""
    step_context: float | None = None
    """The mean context (tokens) the decode steps were timed at: a context's prompt tokens
    and half the tokens written after it; None if the server counts no prompt tokens."""


def fit_steps(streams, step) -> StepFit:
    """The medians per number of streams as a non-decreasing table of factors over one
    stream, and the least-squares line; ValueError if a step is not positive or a number of
    streams from 1 to the largest is missing."""
    k = np.asarray(streams, int)
    y = np.asarray(step, float)
    if not (y > 0).all():
        raise ValueError("a step time is not positive; measure again")
    if set(k) != set(range(1, k.max() + 1)):
        raise ValueError("the steps must be measured at every number of streams from 1 up")
    medians = [float(np.median(y[k == n])) for n in range(1, k.max() + 1)]
    table = tuple(float(f) for f in np.maximum.accumulate(np.asarray(medians) / medians[0]))
    fit = least_squares([np.ones_like(y), k - 1.0], y, keep_nonneg=(1,))
    base, growth = fit.coef
    slowdown = growth / base if base > 0 else 0.0
    return StepFit(medians[0], slowdown, fit, tuple(map(int, k)), tuple(map(float, y)), table)


def fit_prefill_steps(tokens, extra) -> PrefillStepFit:
    """Least squares (through the origin) of a step's extra time on its prompt tokens."""
    fit = least_squares([np.asarray(tokens, float)], extra)
    if fit.coef[0] <= 0:
        raise ValueError("prompts added no time to the decoders' steps; measure longer ones")
    if np.ptp(np.asarray(extra, float)) == 0:
        fit = Fit(fit.coef, 1.0, fit.fitted, fit.residuals)
    return PrefillStepFit(fit.coef[0], fit, tuple(map(float, tokens)), tuple(map(float, extra)))


def _unique_prompt(words: Words, size: int) -> list[dict]:
    return [{"role": "system", "content": words.text(size)},
            {"role": "user", "content": "Continue."}]


def _extended(messages: list[dict], text: str) -> list[dict]:
    """The messages with `text` appended to the last one: new input to read."""
    last = messages[-1]
    return [*messages[:-1], {**last, "content": f"{last['content']} {text}"}]


async def _contexts(backend, words: Words, count_: int, size: int):
    """`count_` unique contexts of `size` words, each read once so the server keeps it, and
    the median of their prompt tokens (None if the server counts none)."""
    contexts = [_unique_prompt(words, size) for _ in range(count_)]
    tokens = [(await backend.prefill(messages)).prompt_tokens for messages in contexts]
    counted = [t for t in tokens if isinstance(t, int)]
    return contexts, statistics.median(counted) if counted else None


async def _timed_stream(backend, messages, tokens: int) -> tuple[list[float], object]:
    """The arrival times of a reply's chunks, and its result."""
    times = []
    async with backend.stream(messages, tokens) as s:
        async for chunk in s:
            times.append(chunk.at)
    if len(times) < 2:
        raise BackendError(f"a concurrent stream had {count(len(times), 'chunk')}; cannot "
                           "time it")
    return times, s.result


def _per_token(times: list[float]) -> float:
    return (times[-1] - times[0]) / (len(times) - 1)


async def step_time(backend, contexts: list[list[dict]], k: int, tokens: int) -> float:
    """Median time per token of k streams started together, on the first k contexts."""
    replies = await asyncio.gather(*(_timed_stream(backend, contexts[i], tokens)
                                     for i in range(k)))
    return statistics.median(_per_token(times) for times, _ in replies)


async def prefill_extra(backend, words: Words, contexts: list[list[dict]], prompt_words: int,
                        tokens: int, step: float) -> tuple[float, float]:
    """(prompt tokens read, extra seconds they added to a decoding step): streams decode on
    all contexts but the last; once all have written a quarter of their tokens, a request
    appends `prompt_words` new words to the last context."""
    decoders = len(contexts) - 1
    started = [asyncio.Event() for _ in range(decoders)]

    async def decoder(i):
        times = []
        async with backend.stream(contexts[i], tokens) as s:
            async for chunk in s:
                times.append(chunk.at)
                if len(times) == tokens // 4:
                    started[i].set()
        return times

    tasks = [asyncio.create_task(decoder(i)) for i in range(decoders)]
    await asyncio.gather(*(e.wait() for e in started))
    prompt = await backend.generate(_extended(contexts[-1], words.text(prompt_words)), 2)
    runs = await asyncio.gather(*tasks)
    window = [(b - a) for times in runs for a, b in zip(times, times[1:], strict=False)
              if b > prompt.sent_at and a < prompt.first_at]
    read = _tokens_read(prompt)
    if not window or read is None:
        raise BackendError("the prompt was not read while the others decoded; cannot time "
                           "their interference")
    return float(read), max(0.0, max(window) - step)


async def outside_time(backend, words: Words, context: list[dict], repeats: int):
    """Median of (TTFT - the server's prompt_ms) over reads alone of a few new words on a
    cached context: the part of a request's overhead spent outside the server (network,
    HTTP, queues); None if the server sends no timings."""
    spans = []
    for _ in range(repeats):
        r = await backend.generate(_extended(context, words.text(4)), 1, exact=False)
        prompt_ms = (getattr(r, "timings", None) or {}).get("prompt_ms")
        if r.ttft is not None and isinstance(prompt_ms, (int, float)):
            spans.append(max(0.0, r.ttft - prompt_ms / 1000))
    return statistics.median(spans) if spans else None


def overhead_share(outside: float | None, rtt: float, overhead: float) -> float:
    """The part of `model.request_overhead` the server spends: what is not outside it
    (beyond the round trip); 0 when unknown or there is no overhead."""
    if outside is None or overhead <= 0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - max(0.0, outside - rtt) / overhead))


def _tokens_read(result) -> int | None:
    """The prompt tokens the server read: its own count (llama-server's timings.prompt_n),
    else the whole prompt's."""
    timings = getattr(result, "timings", None) or {}
    read = timings.get("prompt_n")
    if isinstance(read, int) and not isinstance(read, bool) and read > 0:
        return read
    return result.prompt_tokens


async def queue_wait(backend, words: Words, slots: int, tokens: int) -> float:
    """How much longer the last of slots + 1 requests (short unique prompts) sent at once
    waited for its first token than the median of the others."""
    replies = await asyncio.gather(*(_timed_stream(backend, _unique_prompt(words, 8), tokens)
                                     for _ in range(slots + 1)))
    ttfts = sorted(r.ttft for _, r in replies)
    return ttfts[-1] - statistics.median(ttfts[:-1])


async def calibrate_sessions(backend, plan: SessionPlan, echo=print) -> SessionCalibration:
    """Measure `backend` (a batching server with `plan.sessions` slots) and fit."""
    loop = asyncio.get_running_loop()
    start, words = loop.time(), Words(seed=7)
    n, tokens = plan.sessions, plan.decode_tokens
    echo(f"  decode steps with 1..{n} concurrent streams, each after a cached context of "
         f"{plan.context_words} words x{plan.repeats}")
    contexts, context_tokens = await _contexts(backend, words, max(2, n), plan.context_words)
    outside = await outside_time(backend, words, contexts[0], plan.repeats)
    ks, steps = [], []
    for _ in range(plan.repeats):
        for k in range(1, n + 1):
            ks.append(k)
            steps.append(await step_time(backend, contexts, k, tokens))
    try:
        step_fit = fit_steps(ks, steps)
    except ValueError as exc:
        raise BackendError(f"the concurrent streams do not fit the step model: {exc}") from None
    decoders = max(1, n - 1)
    echo(f"  {plan.prompt_words} new words on a cached context read while "
         f"{count(decoders, 'stream')} decode x{plan.repeats}")
    points = []
    for _ in range(plan.repeats):
        for size in plan.prompt_words:
            points.append(await prefill_extra(backend, words, contexts[:decoders + 1], size,
                                              tokens * 2, step_fit.at(decoders)))
    try:
        prefill_fit = fit_prefill_steps(*zip(*points, strict=True))
    except ValueError as exc:
        raise BackendError(f"the interference points do not fit: {exc}") from None
    echo(f"  {n + 1} requests at once on {count(n, 'slot')}")
    wait = statistics.median([await queue_wait(backend, words, n, tokens)
                              for _ in range(plan.repeats)])
    predicted = tokens * step_fit.at(n)
    step_context = None if context_tokens is None else context_tokens + tokens / 2
    return SessionCalibration(plan, step_fit, prefill_fit, wait, predicted,
                              loop.time() - start, outside, step_context)


def server_values(cal: SessionCalibration) -> dict:
    """The `server:` section of the profile (the llama-cpp scheduler on N slots)."""
    return {"scheduler": "llama-cpp", "max_batch": cal.plan.sessions, "n_batch": N_BATCH,
            "step_base": round(cal.steps.step_base, 5),
            "batch_slowdown": round(max(0.0, cal.steps.batch_slowdown), 4),
            "batch_steps": [round(f, 4) for f in cal.steps.table],
            "per_prefill_token": round(cal.prefill.per_prefill_token, 7)}


def fit_lines(cal: SessionCalibration) -> list[str]:
    """One line per fit with R^2, and the queueing point."""
    s, p = cal.steps, cal.prefill
    table = ", ".join(f"{f:.2f}" for f in s.table)
    return [
        f"decode step        step(k) = {s.step_base * 1000:.2f} ms x [{table}] (k = 1.."
        f"{len(s.table)}, measured)",
        f"  as a line        step(k) = {s.step_base * 1000:.2f} ms x (1 + "
        f"{s.batch_slowdown:.3f} x (k - 1))   R^2 {s.fit.r2:.3f}",
        f"prefill in a step  + {p.per_prefill_token * 1e6:.1f} us x prompt tokens   "
        f"R^2 {p.fit.r2:.3f}",
        "outside the server " + ("no timings from the server" if cal.outside is None else
                                 f"{cal.outside * 1000:.1f} ms of a read's TTFT (the rest of "
                                 "the request overhead is the server's)"),
        f"slot queueing      the request beyond {count(cal.plan.sessions, 'slot')} waited "
        f"{cal.queue_wait:.2f} s (model: {cal.queue_predicted:.2f} s, one reply's decode)",
    ]


def report(cal: SessionCalibration) -> str:
    """Every step point with the table's and the line's values, then the fits."""
    rows = [f"{'streams':>7}{'ms/step':>9}{'table':>8}{'line':>8}{'resid':>8}"]
    for k, y, fitted in zip(cal.steps.streams, cal.steps.step, cal.steps.fit.fitted,
                            strict=True):
        rows.append(f"{k:>7}{y * 1000:>9.2f}{cal.steps.at(k) * 1000:>8.2f}"
                    f"{fitted * 1000:>8.2f}{(y - fitted) * 1000:>+8.2f}")
    rows.append(f"{'prompt tok':>10}{'extra ms':>9}{'fit':>8}")
    for c, e, fitted in zip(cal.prefill.tokens, cal.prefill.extra, cal.prefill.fit.fitted,
                            strict=True):
        rows.append(f"{c:>10.0f}{e * 1000:>9.2f}{fitted * 1000:>8.2f}")
    return "\n".join(rows + [""] + fit_lines(cal))


def with_server(profile_text: str, cal: SessionCalibration) -> str:
    """A profile (comment header + YAML) with the server section and its fit lines added."""
    lines = profile_text.splitlines()
    head = [line for line in lines if line.startswith("#")]
    raw = yaml.safe_load(profile_text)
    model, network = raw.get("model") or {}, raw.get("network") or {}
    share = overhead_share(cal.outside, _number(network.get("rtt")),
                           _number(model.get("request_overhead")))
    raw["server"] = {**(raw.get("server") or {}), **server_values(cal),
                     "overhead_on_server": round(share, 3)}
    head += [f"# server: {cal.plan.sessions} concurrent streams, medians of "
             f"{cal.plan.repeats} repeats; llama-cpp scheduler fits:",
             *(f"#   {line}" for line in fit_lines(cal))]
    rate = step_decode_rate(cal, _number(model.get("decode_slowdown_per_1k")))
    if rate is not None and isinstance(raw.get("model"), dict):
        head.append(f"#   model.decode_rate {rate} tok/s from the step of one stream (the "
                    f"single-stream decode fit said {model.get('decode_rate')})")
        raw["model"]["decode_rate"] = rate

    return "\n".join(head) + "\n" + yaml.safe_dump(raw, sort_keys=False)


def step_decode_rate(cal: SessionCalibration, slowdown_per_1k: float) -> float | None:
    """The decode rate (tokens/s at no context) under which a stream alone writes a token
    per `step_base` at the steps' context: the batch factors are relative to that step, so
    the decoders' own speed comes from the same measurement (None without the context)."""
    if cal.step_context is None or cal.steps.step_base <= 0:
        return None
    return round((1 + slowdown_per_1k * cal.step_context / 1000) / cal.steps.step_base, 2)


def _number(value) -> float:
    """A fixed number from a profile's key, else 0 (a distribution or nothing)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else 0.0


def sessions_target(target: Target, sessions: int, flag: str = "sessions") -> Target:
    """The target to measure `sessions` concurrent streams on: `-b batching` gets that many
    slots; `-b batching:N` must have at least that many; the embedded server has one
    (InputError)."""
    if target.embedded:
        raise InputError(f"{option(flag)} {sessions}: the embedded server reads one request "
                         "at a time; use -b batching:N or the URL of a batching server")
    if target.backend == BATCHING:
        return replace(target, backend=f"{BATCHING}:{sessions}")
    if target.slots is not None and target.slots < sessions:
        raise InputError(f"{option(flag)} {sessions}: more than the {target.slots} slots of "
                         f"-b {target.backend}")
    return target


def run(target: Target, plan: Plan, sessions: SessionPlan, echo=print):
    """(single-stream Calibration, SessionCalibration) of a server started here or a URL."""
    async def work(backend):
        echo(f"calibrating {backend.base_url} (model {backend.model})")
        single = await measure.calibrate(backend, plan, echo)
        echo(f"calibrating {count(sessions.sessions, 'concurrent stream')}")
        return single, await calibrate_sessions(backend, sessions, echo)

    return run_against(target, work, echo)
