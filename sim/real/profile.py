"""A calibration as text: the fit report, and a scenario profile YAML for `rtsim run -s`."""

import time

import yaml

from rtsim.real.calibrate import Calibration
from rtsim.scenario.schema import parse_scenario
from rtsim.text import count


def model_values(cal: Calibration) -> dict[str, float | bool]:
    """The scenario keys a calibration sets, as plain (fixed) values.

    The cached-prefix fit gives the model when the server keeps a prompt cache, else the
    cold fit does (no context slowdown then). The overhead beyond the network round trip
    is the request overhead; negative fitted slopes and overheads become 0. The chat
    template's tokens are the server's counts.
    """
    prefill = cal.cached if cal.prompt_cache else cal.cold
    return {
        "network.rtt": round(cal.rtt, 4),
        "model.request_overhead": round(max(0.0, prefill.overhead - cal.rtt), 4),
        "model.prefill_rate": round(prefill.rate, 1),
        "model.decode_rate": round(cal.decode.rate, 1),
        "model.prefill_slowdown_per_1k": round(max(0.0, prefill.slowdown_per_1k), 4),
        "model.decode_slowdown_per_1k": round(max(0.0, cal.decode.slowdown_per_1k), 4),
        "model.prompt_cache": cal.prompt_cache,
        "model.template_tokens": cal.template_tokens,
        "model.message_tokens": cal.message_tokens,
        "model.incremental": False,  # a chat-completions API: every read is a new request
    }


def fit_lines(cal: Calibration) -> list[str]:
    """One line per fitted formula, with R^2."""
    d, c, k = cal.decode, cal.cached, cal.cold
    cached = (f"TTFT = {c.overhead:.4f} s + new / {c.rate:.1f} tok/s * (1 + "
              f"{c.slowdown_per_1k:.3f} * ctx/1k) + 1 token   R^2 {c.fit.r2:.3f}" if c else
              "none: a cached prefix is read again (no prompt cache)")
    return [
        f"network round trip  {cal.rtt * 1000:.1f} ms (median GET /models)",
        f"decode              s/token = (1 + {d.slowdown_per_1k:.3f} * ctx/1k) / "
        f"{d.rate:.1f} tok/s   R^2 {d.fit.r2:.3f}",
        f"prefill, cached     {cached}",
        f"prefill, cold       TTFT = {k.overhead:.4f} s + n / {k.rate:.1f} tok/s + 1 token"
        f"   R^2 {k.fit.r2:.3f}",
        f"chat template       {count(cal.template_tokens, 'token')} read again by a request "
        f"whose prompt grew, {count(cal.message_tokens, 'token')} more for a new message "
        f"(server's counts)",
    ]


def _ttft_fits(cal: Calibration) -> list[tuple[float, float]]:
    """(fitted TTFT, residual) of each point under the fit that covers it (nan: none)."""
    def pairs(fit):
        return iter(zip(fit.fit.fitted, fit.fit.residuals, strict=True)) if fit else None
    cold, warm = pairs(cal.cold), pairs(cal.cached)
    out = []
    for p in cal.points:
        source = cold if p.kind == "cold" else warm
        fit, res = next(source) if source else (float("nan"), float("nan"))
        out.append((fit + float(cal.decode.per_token(p.ctx + p.new)), res))  # + first token
    return out


def report(cal: Calibration) -> str:
    """The measured points with fitted values and residuals, then the fits."""
    decode = zip(cal.decode.fit.fitted, cal.decode.fit.residuals, strict=True)
    rows = [f"{'point':<22}{'n':>3}{'new tok':>9}{'ctx tok':>9}{'TTFT s':>9}{'fit':>8}"
            f"{'resid':>8}{'ms/tok':>8}{'fit':>7}{'resid':>7}"]
    for p, (fit, res), (dfit, dres) in zip(cal.points, _ttft_fits(cal), decode, strict=True):
        rows.append(f"{p.label:<22}{p.repeats:>3}{p.new:>9.0f}{p.ctx:>9.0f}{p.ttft:>9.4f}"
                    f"{fit:>8.4f}{res:>+8.4f}{p.per_token * 1000:>8.2f}"
                    f"{dfit * 1000:>7.2f}{dres * 1000:>+7.2f}")
    return "\n".join(rows + [""] + fit_lines(cal))


def profile_yaml(cal: Calibration, base: dict, base_label: str, name: str) -> str:
    """The base scenario with the calibrated values, headed by how they were measured."""
    raw = {**base, "name": name,
           "description": f"{base.get('name', base_label)} with model timing calibrated "
                          f"against {cal.model}"}
    for key, value in model_values(cal).items():
        section, leaf = key.split(".")
        raw[section] = {**(raw.get(section) or {}), leaf: value}
    parse_scenario(raw, name)  # the profile must load
    plan = cal.plan
    header = [
        f"# Written by `rtsim calibrate` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC",
        f"# against {cal.base_url} (model {cal.model}) in {cal.seconds:.0f} s.",
        f"# Medians of {plan.repeats} repeats: cold prompts of {plan.cold_words} words (unique",
        f"# prefixes), cached prefixes of {plan.prefix_words} words + new suffixes of "
        f"{plan.suffix_words} words,",
        f"# {plan.decode_tokens}-token replies timed between chunks; least-squares fits:",
        *(f"#   {line}" for line in fit_lines(cal)),
        f"# network and model values are measured; everything else is {base_label}'s.",
    ]
    return "\n".join(header) + "\n" + yaml.safe_dump(raw, sort_keys=False)
