"""Invariants that must hold for any turn (hypothesis), and orderings between policies."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rtsim.engine.metrics import turn_metrics
from rtsim.policies import POLICIES, AsyncPolicy, SpeculativePolicy, SyncPolicy
from tests.helpers import call, episode, run, scenario, times, turn_latency

WORDS = "please find the best way to get to the station before nine tonight".split()


@st.composite
def turns(draw):
    """A one-turn episode with random steps, dependencies, safety and costs."""
    steps, earlier = [], []
    for s in range(draw(st.integers(0, 3))):
        calls = []
        for c in range(draw(st.integers(1, 3))):
            deps = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)
                        ) if earlier else []
            calls.append(call(f"s{s}c{c}", draw(st.integers(1, 20)), draw(st.integers(0, 30)),
                              deps, draw(st.booleans()),
                              draw(st.one_of(st.none(), st.integers(0, len(WORDS)))),
                              name=f"t{s}{c}"))
        earlier += [c["id"] for c in calls]
        steps.append(calls)
    latencies = {f"t{s}{c}": draw(st.integers(1, 20)) / 10
                 for s, calls in enumerate(steps) for c in range(len(calls))}
    user = " ".join(WORDS[: draw(st.integers(1, len(WORDS)))])
    for calls in steps:
        for c in calls:
            if c["known_at"] is not None:
                c["known_at"] = min(c["known_at"], len(user.split()))
    ep = episode(steps, user=user, answer_tokens=draw(st.integers(1, 10)),
                 reasoning=draw(st.integers(0, 5)))
    return ep, {"tools": {name: {"latency": e} for name, e in latencies.items()}}


def aligned(tool_section, accuracy=1.0, premature=0.0):
    """Everything on a 0.1 s grid, so no interruption falls inside a token."""
    return scenario(asr={"interval": 0.1}, speculation={"accuracy": accuracy,
                                                        "premature_rate": premature},
                    **tool_section)


def surviving(rows):
    """(call, attempt) pairs whose tool ran to the end and were not discarded."""
    ended = {(r.call, r.attempt) for r in rows if r.event == "tool_end"}
    return ended - {(r.call, r.attempt) for r in rows if r.event == "discard"}


def check_invariants(ep, rows):
    turn = ep.turns[0]
    endpoint = times(rows, "endpoint")[0]
    answer = [r for r in rows if r.event == "gen_start" and r.label == "answer"]
    assert answer and answer[0].t >= endpoint - 1e-9
    assert times(rows, "first_token")[0] >= endpoint - 1e-9
    done = surviving(rows)
    assert sorted(c for c, _ in done) == sorted(c.id for c in turn.calls)  # none lost or twice
    tool_end = {(r.call, r.attempt): r.t for r in rows if r.event == "tool_end"}
    tool_start = {(r.call, r.attempt): r.t for r in rows if r.event == "tool_start"}
    attempt = dict(done)
    for c in turn.calls:
        key = (c.id, attempt[c.id])
        assert tool_end[key] <= answer[0].t + 1e-9
        for dep in c.depends_on:
            assert tool_end[(dep, attempt[dep])] <= tool_start[key] + 1e-9
    for r in rows:
        if r.event == "discard":
            assert tool_end.get((r.call, r.attempt), -1) <= r.t + 1e-9


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns(), st.sampled_from([0.0, 0.5, 1.0]), st.sampled_from([0.0, 0.3, 1.0]))
def test_every_policy_keeps_causal_order_and_loses_no_call(case, accuracy, premature):
    ep, tools = case
    sc = aligned(tools, accuracy, premature)
    for policy in POLICIES.values():
        check_invariants(ep, run(ep, policy, sc))


@settings(max_examples=150, deadline=None)
@given(turns(), st.sampled_from([0.0, 0.5]), st.sampled_from([0.0, 0.3, 1.0]))
def test_cancelled_work_is_never_counted_as_useful(case, accuracy, premature):
    ep, tools = case
    rows = run(ep, SpeculativePolicy, aligned(tools, accuracy, premature))
    turn = ep.turns[0]
    discarded = {(r.call, r.attempt) for r in rows if r.event == "discard"}
    wasted_decode = sum(r.tokens for r in rows if r.event in ("gen_end", "gen_stop") and r.call
                        and (r.call, r.attempt) in discarded)
    useful = sum(r.tokens for r in rows if r.event in ("gen_end", "gen_stop")) - wasted_decode
    assert useful == sum(c.reasoning_tokens + c.tokens for c in turn.calls) + (
        turn.answer_reasoning_tokens + turn.answer_tokens)
    assert turn_metrics(rows)[0]["wasted_tokens"] >= wasted_decode


def busy_at_endpoint(rows) -> bool:
    """A speculative call generation is still running when the turn is endpointed."""
    endpoint = times(rows, "endpoint")[0]
    spans, open_ = [], {}
    for r in rows:
        if r.event == "gen_start":
            open_[r.gen] = (r.t, r.call)
        elif r.event in ("gen_end", "gen_stop"):
            start, call_id = open_.pop(r.gen)
            spans.append((start, r.t, call_id))
    return any(c and start < endpoint < end for start, end, c in spans)


@settings(max_examples=200, deadline=None)
@given(turns())
def test_async_is_never_slower_than_sync_without_contention(case):
    ep, tools = case
    sc = aligned(tools)
    assert turn_latency(run(ep, AsyncPolicy, sc)) <= turn_latency(run(ep, SyncPolicy, sc)) + 1e-9


@settings(max_examples=200, deadline=None)
@given(turns())
def test_perfect_speculation_is_never_slower_than_async_when_the_model_is_free(case):
    # with dependencies, the order of ready calls can make it slower: see test_orderings
    ep, tools = case
    assume(not any(c.depends_on for c in ep.turns[0].calls))
    sc = aligned(tools)
    spec_rows = run(ep, SpeculativePolicy, sc)
    assert turn_metrics(spec_rows)[0]["wasted_tokens"] == 0
    if not busy_at_endpoint(spec_rows):
        assert turn_latency(spec_rows) <= turn_latency(run(ep, AsyncPolicy, sc)) + 1e-9
