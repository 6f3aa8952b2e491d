"""The shared server: closed forms of batching, the single-user special case, Little's law,
and capacity bounds."""

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsim.engine.batch_server import BatchServer, Job
from rtsim.engine.draws import realize
from rtsim.engine.shared import simulate_shared, work_list
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.policies import POLICIES
from rtsim.scenario.load import load_scenario
from rtsim.traces.sets import load_trace_set
from tests.helpers import submit_jobs


def serve(jobs, max_batch=8, slowdown=0.1, cancel=()):
    """Submit (arrival, prefill_s, tokens, per_token[, mark]) jobs; return ends and stats.

    `cancel` holds (time, job index) pairs; their returned token counts are in `kept`.
    """
    env = simpy.Environment()
    server = BatchServer(env, max_batch, slowdown)
    peak = [0]
    original = server._schedule

    def watched():
        peak[0] = max(peak[0], len(server.prefilling) + len(server.decoding))
        original()

    server._schedule = watched
    ends, kept, made = submit_jobs(env, server, jobs, cancel)
    env.run()
    return ends, kept, made, server, peak[0], env.now


def test_alone_a_job_takes_prefill_plus_tokens_times_per_token():
    ends, *_ = serve([(1.0, 0.5, 10, 0.1)])
    assert abs(ends[0] - (1.0 + 0.5 + 10 * 0.1)) < 1e-12


def test_a_batch_of_two_slows_each_by_the_batch_factor():
    ends, *_ = serve([(0.0, 0.0, 10, 0.1), (0.0, 0.0, 10, 0.1)], slowdown=0.1)
    assert abs(ends[0] - 10 * 0.1 * 1.1) < 1e-12 and abs(ends[1] - ends[0]) < 1e-12


def test_a_full_batch_makes_the_next_job_wait():
    ends, _, _, server, peak, _ = serve([(0.0, 0.0, 10, 0.1), (0.0, 0.0, 10, 0.1)],
                                        max_batch=1)
    assert abs(ends[0] - 1.0) < 1e-12 and abs(ends[1] - 2.0) < 1e-12
    assert server.stats["queue_wait"] == 1.0 and peak == 1


def test_prefill_has_priority_and_stalls_the_decoders():
    ends, *_ = serve([(0.0, 0.0, 10, 0.1), (0.3, 0.4, 1, 0.1)], slowdown=0.0)
    assert abs(ends[1] - (0.3 + 0.4 + 0.1)) < 1e-12   # read at once, then one token
    assert abs(ends[0] - (1.0 + 0.4)) < 1e-12          # stalled for the 0.4 s prefill


def test_a_cancel_keeps_the_whole_tokens_and_frees_the_slot():
    ends, kept, made, *_ = serve([(0.0, 0.0, 10, 0.1), (0.0, 0.0, 5, 0.1)], max_batch=1,
                                 cancel=[(0.45, 0)])
    assert kept == {0: 4} and 0 not in ends
    assert abs(ends[1] - (0.45 + 0.5)) < 1e-12


def test_the_mark_is_reported_when_its_token_is_written():
    _, _, made, *_ = serve([(0.0, 0.2, 10, 0.1, 3), (0.0, 0.0, 10, 0.1)], slowdown=0.0)
    assert abs(made[0].mark_time - (0.2 + 3 * 0.1)) < 1e-12


jobs = st.lists(st.tuples(st.floats(0, 5), st.floats(0, 0.5), st.integers(0, 40),
                          st.floats(0.005, 0.05)), min_size=1, max_size=30)


def test_work_too_fast_for_a_late_clock_still_finishes_in_few_events():
    """At t = 1e6 s a token time of 1e-15 s is below the clock's resolution: every wake-up
    must still move the jobs on, not wake again at the same moment for ever."""
    env = simpy.Environment(initial_time=1e6)
    server, done = BatchServer(env, max_batch=4, batch_slowdown=0.1), []
    for mark in (None, 3):
        server.submit(Job(1e-15, 100, 1e-15, done.append, mark))
    steps = 0
    while env.peek() < float("inf") and steps < 100:
        env.step()
        steps += 1
    assert len(done) == 2 and steps < 100
    assert server.stats["tokens"] == pytest.approx(200)


@settings(max_examples=150, deadline=None)
@given(jobs, st.integers(1, 6), st.floats(0, 0.2))
def test_littles_law_capacity_and_work_conservation(jobs, max_batch, slowdown):
    ends, _, made, server, peak, end = serve(jobs, max_batch, slowdown)
    s = server.stats
    assert len(ends) == len(jobs) and peak <= max_batch
    # L = lambda W on a sample path that starts and ends empty (Little's law, exact)
    assert abs(s["area_in_system"] - s["time_in_system"]) <= 1e-9 * max(1.0, end)
    assert abs(s["tokens"] - sum(j[2] for j in jobs)) < 1e-6
    fastest = min(j[3] for j in jobs)
    capacity = max_batch / (fastest * (1 + slowdown * (max_batch - 1)))
    assert s["tokens"] <= capacity * s["decoding"] + 1e-6
    for i, (arrival, prefill, tokens, per_token) in enumerate(jobs):
        assert ends[i] >= arrival + prefill + tokens * per_token - 1e-9


def same_rows(core, shared):
    """Discrete fields equal, times and seconds within 1e-9 s."""
    assert [r[1:7] + r[8:] for r in core] == [r[1:7] + r[8:] for r in shared]
    assert all(abs(a[0] - b[0]) < 1e-9 and abs(a[7] - b[7]) < 1e-9
               for a, b in zip(core, shared, strict=True))


def test_one_conversation_on_the_shared_server_is_the_single_user_model():
    sc = load_scenario("selfhosted-8b", ["server.episodes=6"])
    episodes = load_trace_set("assistant")
    for name, cls in POLICIES.items():
        played, stats = simulate_shared(sc, episodes, cls, 1)
        assert [unit for unit, _ in played] == [e.id for e in episodes[:6]], name
        for k, (_, rows) in enumerate(played):
            same_rows(simulate_episode(realize(sc, episodes[k], k, 1), cls, sc), rows)
        assert stats["mean_queue_wait"] == 0.0 and stats["mean_batch"] == 1.0


def test_load_slows_turns_and_littles_law_holds_on_the_server():
    episodes = load_trace_set("assistant")
    means = []
    for sessions in (1, 48):
        sc = load_scenario("selfhosted-8b", [f"server.sessions={sessions}",
                                             "server.episodes=96", "server.max_batch=8"])
        played, stats = simulate_shared(sc, episodes, POLICIES["sync"], 0)
        assert len(played) == 96
        L, lam, W = stats["mean_in_system"], stats["arrival_rate"], stats["mean_time_in_system"]
        assert abs(L - lam * W) <= 1e-9 * L
        means.append(stats["mean_queue_wait"])
    assert means[0] == 0.0 < means[1]


def test_open_arrivals_play_each_work_item_once_with_cycled_draws():
    sc = load_scenario("selfhosted-8b", ["server.arrival_rate=2", "server.episodes=40"])
    episodes = load_trace_set("assistant")
    played, _ = simulate_shared(sc, episodes, POLICIES["async"], 0)
    units = [unit for unit, _ in played]
    assert units == [u for _, u, _ in work_list(sc, episodes)]
    assert units[36:] == [f"{e.id}~2" for e in episodes[:4]]


def test_overhead_spent_on_the_server_keeps_one_conversation_as_it_was():
    """Alone, where the overhead passes (before the server or on it) changes no time."""
    episodes = load_trace_set("assistant")
    runs = [simulate_shared(load_scenario("selfhosted-8b", ["server.episodes=4",
                                                            f"server.overhead_on_server={s}"]),
                            episodes, POLICIES["async"], 0)[0] for s in (0, 1)]
    for (_, before), (_, after) in zip(*runs, strict=True):
        same_rows(before, after)


def test_overhead_spent_on_the_server_holds_the_other_conversations_up():
    """Under load, a request's overhead on the server stalls the batch as a prompt does: the
    same work takes longer."""
    episodes = load_trace_set("assistant")
    mean = {}
    for share in (0.0, 1.0):
        sc = load_scenario("selfhosted-8b", ["server.sessions=16", "server.episodes=32",
                                             "model.request_overhead=0.2",
                                             f"server.overhead_on_server={share}"])
        for name in ("sync", "async"):
            _, stats = simulate_shared(sc, episodes, POLICIES[name], 0)
            mean[name, share] = stats["mean_time_in_system"]
    assert mean["sync", 1.0] > mean["sync", 0.0]
    assert mean["async", 1.0] > mean["async", 0.0]
