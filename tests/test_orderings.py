"""Where the latency orderings between policies fail, as they should: contention, waste,
and the order in which the model writes the calls that are ready."""

from rtsim.policies import AsyncPolicy, SpeculativePolicy, SyncPolicy
from tests.helpers import call, episode, run, scenario, turn_latency


def test_perfect_speculation_loses_when_its_work_delays_the_critical_call():
    # A short utterance: a cheap call guessed at the first partial still occupies the model
    # at the endpoint, so the slow tool's call is written 0.1 s later than async writes it.
    tools = {"slow": {"latency": 0.5}, "fast": {"latency": 0.1}}
    sc = scenario(asr={"interval": 0.1}, tools=tools, speculation={"accuracy": 1.0})
    ep = episode([[call("a", 1, 0, name="slow", safe=False)],
                  [call("b", 2, 0, name="fast", safe=False, known_at=0)]],
                 user="please find", answer_tokens=1)
    spec, asy = turn_latency(run(ep, SpeculativePolicy, sc)), turn_latency(
        run(ep, AsyncPolicy, sc))
    assert (round(spec, 6), round(asy, 6)) == (0.8, 0.7)


def test_perfect_speculation_loses_when_a_result_tie_reorders_the_ready_calls():
    # A list-scheduling anomaly: call s1c2, guessed during speech, frees the model a step
    # early. At 0.6 s the results of s0c0 and s0c1 arrive together; speculative picks its
    # next call after the first of them, when s1c0 (which needs s0c0, and whose tool takes
    # 0.3 s) is not ready yet, so it writes s1c1 first and s1c0's tool ends 0.1 s later
    # than under async. Nothing is wasted and the model is free at the endpoint.
    names = {"t00": 0.2, "t01": 0.1, "t02": 0.1, "t10": 0.3, "t11": 0.1, "t12": 0.1}
    sc = scenario(asr={"interval": 0.1}, speculation={"accuracy": 1.0},
                  tools={n: {"latency": e} for n, e in names.items()})
    ep = episode([[call(f"s0c{i}", 1, 0, name=f"t0{i}", safe=False) for i in range(3)],
                  [call("s1c0", 1, 0, ["s0c0"], False, name="t10"),
                   call("s1c1", 1, 0, name="t11", safe=False),
                   call("s1c2", 1, 0, name="t12", safe=False, known_at=0)]],
                 user="please find the", answer_tokens=1)
    spec, asy = turn_latency(run(ep, SpeculativePolicy, sc)), turn_latency(
        run(ep, AsyncPolicy, sc))
    assert (round(spec, 6), round(asy, 6)) == (0.9, 0.8)


def test_async_loses_to_sync_when_every_restart_pays_request_overhead():
    # Two parallel calls: sync writes both in one request; async writes them one by one and
    # the first result interrupts the second, so it pays the 0.5 s overhead three times.
    sc = scenario(model={"request_overhead": 0.5}, tools={"t": {"latency": 0.2}})
    ep = episode([[call("a", 10, name="t"), call("b", 10, name="t")]], answer_tokens=5)
    assert turn_latency(run(ep, AsyncPolicy, sc)) > turn_latency(run(ep, SyncPolicy, sc))


def test_wasted_tokens_slow_later_work_through_a_longer_context():
    # A wrong early guess is thrown away at the commit point, so it never holds the model
    # then; but its tokens stay in the context, and decode slows as the context grows.
    sc = scenario(model={"decode_slowdown_per_1k": 10.0}, tools={"t": {"latency": 0.3}},
                  speculation={"accuracy": 1.0, "premature_rate": 1.0})
    ep = episode([[call("a", 30, output_tokens=50, name="t")]], user=" ".join(["word"] * 40),
                 answer_tokens=5)
    spec, asy = (run(ep, p, sc) for p in (SpeculativePolicy, AsyncPolicy))
    assert turn_latency(spec) > turn_latency(asy)
    assert [r.label for r in spec if r.event == "discard"] == ["revised"]
