"""The closed forms of synchronous and asynchronous function calling on deterministic scenarios."""

import pytest

from rtsim.policies import AsyncPolicy, SpeculativePolicy, SyncPolicy
from tests.helpers import call, episode, run, scenario, turn_latency

DECODE = 10.0  # tokens/s in tests.helpers.scenario


def tools(latencies):
    return {"tools": {f"t{i}": {"latency": e} for i, e in enumerate(latencies)}}


def named(i, tokens, **kw):
    return call(f"c{i}", tokens, name=f"t{i}", **kw)


def test_sync_latency_is_sum_of_prefill_decode_and_tools():
    sc = scenario(model={"prefill_rate": 100.0}, **tools([0.7, 1.3, 0.4]))
    ep = episode([[named(0, 8, output_tokens=20)], [named(1, 12, output_tokens=30)],
                  [named(2, 6, output_tokens=50)]], answer_tokens=15)
    rows = run(ep, SyncPolicy, sc)
    user_tokens = ep.turns[0].user_tokens
    prefill = (user_tokens + 20 + 30 + 50) / 100.0
    decode = (8 + 12 + 6 + 15) / DECODE
    assert turn_latency(rows) == pytest.approx(prefill + decode + 0.7 + 1.3 + 0.4, abs=1e-9)


def test_sync_parallel_plan_is_sum_of_generation_plus_max_execution():
    latencies = [0.5, 1.7, 0.9]
    sc = scenario(**tools(latencies))
    ep = episode([[named(i, 10) for i in range(3)]], answer_tokens=10)
    assert turn_latency(run(ep, SyncPolicy, sc)) == pytest.approx(
        (30 + 10) / DECODE + max(latencies), abs=1e-6)


@pytest.mark.parametrize("latencies,tokens", [
    ([0.5, 1.7, 0.9], [10, 10, 10]),
    ([3.0, 0.2, 0.2, 0.1], [5, 20, 8, 12]),
    ([0.1, 0.1], [30, 30]),
])
def test_async_makespan_matches_asynchronous_function_calling(latencies, tokens):
    sc = scenario(**tools(latencies))
    ep = episode([[named(i, g) for i, g in enumerate(tokens)]], answer_tokens=10)
    gen = [g / DECODE for g in tokens]
    makespan = max(e + sum(gen[: i + 1]) for i, e in enumerate(latencies))
    assert turn_latency(run(ep, AsyncPolicy, sc)) == pytest.approx(makespan + 10 / DECODE,
                                                                    abs=1e-6)
    sequential = sum(gen) + sum(latencies) + 10 / DECODE
    sc_seq = scenario(**tools(latencies))
    ep_seq = episode([[named(i, g)] for i, g in enumerate(tokens)], answer_tokens=10)
    assert turn_latency(run(ep_seq, SyncPolicy, sc_seq)) == pytest.approx(sequential, abs=1e-6)


def test_speculation_with_perfect_guesses_starts_calls_before_the_end():
    sc = scenario(speculation={"accuracy": 1.0, "premature_rate": 0.0}, **tools([2.0]))
    ep = episode([[named(0, 10, known_at=2)]], answer_tokens=10)
    spec, asy = run(ep, SpeculativePolicy, sc), run(ep, AsyncPolicy, sc)
    # 8 words at 0.1 s: speech ends at 0.8 s; the call is known after word 2, partials come
    # every 0.25 s, so it is written from 0.25 s to 1.25 s and runs until 3.25 s.
    assert turn_latency(spec) == pytest.approx(3.25 + 1.0 - 0.8, abs=1e-6)
    assert turn_latency(asy) == pytest.approx(1.0 + 2.0 + 1.0, abs=1e-6)


def test_a_request_per_call_api_charges_every_read():
    """model.incremental false: a partial-input read pays the overhead and writes a token."""
    ep = episode([[call("a", 4, known_at=2)]])
    for incremental, cost in ((True, 0.0), (False, 0.1 + 1 / 10)):
        sc = scenario(model={"incremental": incremental, "request_overhead": 0.1})
        rows = run(ep, AsyncPolicy, sc)
        reads = [r for r in rows if r.label == "input"]
        starts = {r.gen: r.t for r in reads if r.event == "gen_start"}
        ends = [(r.t - starts[r.gen], r.tokens) for r in reads if r.event == "gen_end"]
        assert ends and all(abs(d - cost) < 1e-9 and tokens == 0 for d, tokens in ends)
