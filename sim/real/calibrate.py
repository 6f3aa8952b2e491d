"""Measure a backend's request overhead, prefill and decode timing, and fit the simulator's model.

Points, each repeated and reduced to medians:
- network round trip: GET /models;
- tiny: a two-word prompt already in the prompt cache but for its last token (the fixed
  cost; nothing may be counted between repeats: llama.cpp answers a prompt it holds
  exactly without reading anything);
- cold: a prompt with a prefix no earlier request shared, of several lengths;
- cached: a long prefix read once (prefill), then that prefix with a new suffix appended to
  its message, for several prefix and suffix lengths (new tokens read on top of cached
  context);
- decode: the time between the first and last chunk of every streamed reply, against the
  context it was generated at.
- chat template: the tokens a reply's message and a user message add beyond their content.
Token counts are the server's (usage.prompt_tokens); a cached request's new tokens are its
prompt count minus the prefix-only prompt's, plus the template tokens read again after the
appended suffix (the end of the message and the reply's header).
"""

import statistics
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from rtsim.errors import OptionMessage
from rtsim.real.backend.errors import BackendError
from rtsim.real.connect import Target, run_against
from rtsim.real.conversation import filler
from rtsim.real.fit import DecodeFit, PrefillFit, fit_cold, fit_decode, fit_prefill
from rtsim.text import count

VOCABULARY = ("time person year way day thing man world life hand part child eye woman place "
              "work week case point number group problem fact river stone garden window "
              "paper music table market letter island engine summer winter bread silver "
              "doctor forest train bridge camera coffee yellow quiet simple early happy "
              "strong little green open bright cold warm final round short long heavy").split()
TINY = [{"role": "user", "content": "Hi there"}]
TEMPLATE_PROBE = 8  # filler tokens of the messages that measure the chat template


@dataclass(frozen=True)
class Plan:
    """What to measure: prompt sizes in words, replies of `decode_tokens`, `repeats` each."""

    cold_words: tuple[int, ...] = (100, 400, 1000)
    prefix_words: tuple[int, ...] = (200, 1000, 2000)
    suffix_words: tuple[int, ...] = (24, 240)
    decode_tokens: int = 32
    repeats: int = 3
    tiny_repeats: int = 5


ROUNDS = 3
"""Most measuring rounds of one calibration (see `calibrate`)."""
MIN_R2 = 0.8
"""A fit below this R^2 gets a warning: noise, not the model, explains much of the times."""


class CalibrationWarning(OptionMessage, UserWarning):
    """A calibration whose fit is poor; the message says what to do, naming options."""


CHECK = Plan(cold_words=(100, 400), prefix_words=(200, 1000), repeats=2, tiny_repeats=3)
QUICK = Plan(cold_words=(50, 200), prefix_words=(100, 400), suffix_words=(12, 160),
             decode_tokens=12, repeats=1, tiny_repeats=3)
SHORT_SUFFIXES = (4, 24, 60)
"""Suffixes (words) of the many-session plans: the prompts conversations send a shared
server are a policy's reads and replies, a few to 70 tokens, and on a CPU a prompt's cost
per token falls past a few dozen tokens (llama-server, SmolLM2-135M, one thread: 10.7 ms a
token up to 36 tokens, 7.0 at 252), so a line through longer suffixes reads them too fast."""


def sessions_plan(plan: Plan) -> Plan:
    """`plan` with the many-session plans' short suffixes (QUICK's shortest kept)."""
    return replace(plan, suffix_words=(plan.suffix_words[0], 60) if plan is QUICK
                   else SHORT_SUFFIXES)


@dataclass(frozen=True)
class Measurement:
    """Medians over the repeats of one measured point."""

    label: str
    kind: str        # tiny, cold or cached
    repeats: int
    new: float       # tokens read by the request
    ctx: float       # tokens already in the (cached) context
    ttft: float      # seconds to the first chunk
    per_token: float  # seconds between chunks
    decode_ctx: float  # mean context while decoding


@dataclass(frozen=True)
class Calibration:
    """Measured points, the fits, and where they came from (`plan`: what was measured,
    repeats of every round counted)."""

    base_url: str
    model: str
    plan: Plan
    rtt: float
    points: tuple[Measurement, ...]
    decode: DecodeFit
    cached: PrefillFit | None  # None when the server keeps no prompt cache
    cold: PrefillFit
    seconds: float
    template_tokens: int = 0  # a reply's message beyond its content (see template_counts)
    message_tokens: int = 0   # a user message beyond its content

    @property
    def prompt_cache(self) -> bool:
        """The server reads only what follows a cached prefix (see `reuses_prefix`)."""
        return self.cached is not None


class Words:
    """Filler text from a seeded stream; every call starts with a fresh random prefix."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def text(self, words: int) -> str:
        picks = self.rng.choice(VOCABULARY, size=max(words - 1, 1))
        return f"{self.rng.integers(10**6, 10**7)} " + " ".join(picks)


async def _sample(backend, messages, plan: Plan, kind: str, label: str, ctx_prompt=0,
                  prompt=None, template=0):
    """One request's timing: (label, kind, new, ctx, ttft, per_token, decode_ctx)."""
    r = await backend.generate(messages, plan.decode_tokens if kind != "tiny" else 2)
    if r.ttft is None or r.tokens < 2:
        raise BackendError(f"{label}: the reply had {count(r.tokens, 'token')}; cannot time it")
    prompt = r.prompt_tokens or prompt or await backend.prompt_tokens(messages)
    per_token = (r.end_at - r.first_at) / (r.tokens - 1)
    if kind == "tiny":
        new, ctx = 1, prompt - 1
    elif kind == "cold":
        new, ctx = prompt, 0
    else:
        new, ctx = prompt - ctx_prompt + template, ctx_prompt - template
    return label, kind, new, ctx, r.ttft, per_token, prompt + r.tokens / 2


async def template_counts(backend) -> tuple[int, int]:
    """(template, message) tokens by the server's counts: what an assistant message adds
    beyond its content (its header, which is also the reply's, and its end: what a request
    reads again after appending to the last message), and what a user message adds. The
    assistant message is probed before a user message: llama-server reads a last assistant
    message as the start of the reply, without its end or a new header."""
    base = [{"role": "system", "content": "Hi"}]
    text = filler(TEMPLATE_PROBE)
    user = {"role": "user", "content": text}
    before = await backend.prompt_tokens(base)
    with_user = await backend.prompt_tokens(base + [user])
    with_reply = await backend.prompt_tokens(base + [{"role": "assistant", "content": text},
                                                     user])
    return (max(0, with_reply - with_user - TEMPLATE_PROBE),
            max(0, with_user - before - TEMPLATE_PROBE))


async def measure(backend, plan: Plan, echo=print, seed: int = 0,
                  template: int = 0) -> list[tuple]:
    """Every raw sample of `plan` (see the module doc), and the round trips first;
    `template`: the template tokens a cached request reads again after its suffix."""
    words = Words(seed)
    tiny = await backend.prompt_tokens(TINY)
    await backend.generate(TINY, 2)  # the first requests to a fresh server are slower
    rtts = []
    for _ in range(plan.tiny_repeats):
        start = time.perf_counter()
        await backend.models()
        rtts.append(time.perf_counter() - start)
    samples = [("rtt", "rtt", 0, 0, t, 0.0, 0.0) for t in rtts]
    echo(f"  tiny prompt x{plan.tiny_repeats}")
    for _ in range(plan.tiny_repeats):
        samples.append(await _sample(backend, TINY, plan, "tiny", "tiny (cached)", prompt=tiny))
    echo(f"  cold prompts of {plan.cold_words} words x{plan.repeats}")
    for _ in range(plan.repeats):  # repeats interleaved: a burst of load hits one of each
        for size in plan.cold_words:
            messages = [{"role": "system", "content": words.text(size)},
                        {"role": "user", "content": "Continue."}]
            samples.append(await _sample(backend, messages, plan, "cold", f"cold {size}w"))
    for prefix in plan.prefix_words:
        echo(f"  cached prefix of {prefix} words + suffixes of {plan.suffix_words} words "
             f"x{plan.repeats}")
        text = words.text(prefix)
        system = [{"role": "system", "content": text}]
        await backend.prefill(system)
        cached = await backend.prompt_tokens(system)
        for _ in range(plan.repeats):
            for suffix in plan.suffix_words:
                messages = [{"role": "system", "content": f"{text} {words.text(suffix)}"}]
                samples.append(await _sample(backend, messages, plan, "cached",
                                             f"cached {prefix}w+{suffix}w", cached,
                                             template=template))
    return samples


def medians(samples: list[tuple]) -> tuple[float, list[Measurement]]:
    """The median round trip and one Measurement of medians per label, in measuring order."""
    groups: dict[str, list[tuple]] = defaultdict(list)
    for sample in samples:
        groups[sample[0]].append(sample)
    rtt = statistics.median(s[4] for s in groups.pop("rtt", [("", "", 0, 0, 0.0)]))
    points = [Measurement(label, rows[0][1], len(rows),
                          *(statistics.median(r[i] for r in rows) for i in range(2, 7)))
              for label, rows in groups.items()]
    return rtt, points


def reuses_prefix(points: list[Measurement], cold: PrefillFit, decode: DecodeFit) -> bool:
    """The cached point with the longest prefix came in under half its cold prediction."""
    p = max((p for p in points if p.kind == "cached"), key=lambda p: p.ctx)
    n = p.ctx + p.new
    return bool(p.ttft < 0.5 * (cold.overhead + n / cold.rate + float(decode.per_token(n))))


def fit_points(points: list[Measurement]) -> tuple[DecodeFit, PrefillFit | None, PrefillFit]:
    """Decode, cached-prefill (tiny and cached points; None without a prompt cache) and
    cold-prefill fits."""
    decode = fit_decode([p.decode_ctx for p in points], [p.per_token for p in points])
    cold_points = [p for p in points if p.kind == "cold"]
    cold = fit_cold([p.new for p in cold_points], [p.ttft for p in cold_points], decode)
    if not reuses_prefix(points, cold, decode):
        return decode, None, cold
    warm = [p for p in points if p.kind in ("tiny", "cached")]
    cached = fit_prefill([p.new for p in warm], [p.ctx for p in warm],
                         [p.ttft for p in warm], decode)
    return decode, cached, cold


async def calibrate(backend, plan: Plan, echo=print) -> Calibration:
    """Measure `backend` (a rtsim.real.backend.client.Backend) and fit.

    When the points do not fit at all (a burst of load made a longer prompt faster than a
    shorter one), every point is measured again and the medians of all rounds are fitted,
    up to ROUNDS rounds.
    """
    start = time.perf_counter()
    template, message = await template_counts(backend)
    samples = []
    for round_ in range(1, ROUNDS + 1):
        samples += await measure(backend, plan, echo, seed=round_ - 1, template=template)
        rtt, points = medians(samples)
        try:
            decode, cached, cold = fit_points(points)
            break
        except ValueError as exc:
            if round_ == ROUNDS:
                raise BackendError(f"the measurements do not fit the model after {ROUNDS} "
                                   f"rounds: {exc}") from None
            echo(f"  the points do not fit ({exc}); measuring them again "
                 f"(round {round_ + 1} of {ROUNDS})")
    measured = replace(plan, repeats=plan.repeats * round_,
                       tiny_repeats=plan.tiny_repeats * round_)
    return Calibration(backend.base_url, backend.model, measured, rtt, tuple(points), decode,
                       cached, cold, time.perf_counter() - start, template, message)


def low_fits(cal: Calibration) -> list[tuple[str, float]]:
    """(name, R^2) of each fit the profile takes its values from whose R^2 is below MIN_R2."""
    fits = [("decode", cal.decode.fit.r2),
            ("cached prefill", cal.cached.fit.r2) if cal.prompt_cache else
            ("cold prefill", cal.cold.fit.r2)]
    return [(name, r2) for name, r2 in fits if r2 < MIN_R2]


def warn_low_fits(cal: Calibration, advice: str) -> None:
    """A CalibrationWarning for each low fit (low_fits), ending with `advice`."""
    for name, r2 in low_fits(cal):
        warnings.warn(CalibrationWarning(
            f"the {name} fit has R^2 {r2:.3f}, below {MIN_R2}: the times are noisy and the "
            f"profile may be off; {advice}"), stacklevel=2)


def run(target: Target, plan: Plan, echo=print) -> Calibration:
    """Calibrate the embedded model (started and stopped here) or a URL."""
    async def work(backend):
        echo(f"calibrating {backend.base_url} (model {backend.model})")
        return await calibrate(backend, plan, echo)

    return run_against(target, work, echo)
