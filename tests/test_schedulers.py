"""The shared server's schedulers: closed forms of each, Little's law under load, and
properties of random workloads."""

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsim.engine.batch_server import (
    BatchServer,
    TokenBudget,
    prefill_first,
    scheduler,
    step_factor,
)
from rtsim.engine.shared import simulate_shared
from rtsim.errors import InputError
from rtsim.policies import POLICIES
from rtsim.scenario.load import load_scenario
from rtsim.traces.sets import load_trace_set
from tests.helpers import submit_jobs

# 10 prompt tokens left beside one decoder: a prompt chunk of 10 x 0.002 = 0.02 s against a
# decode step of 0.02 s, so the prompt has half the server: the share is 0.5.
HALF = {"budget": 11, "step_base": 0.02, "per_prefill_token": 0.002}


def shares(slowdown):
    """Each scheduler's prefill share, with the budget where a prompt gets half a step;
    prompts read one at a time as soon as they come (the share's arithmetic alone)."""
    budget = TokenBudget(HALF["budget"], HALF["step_base"], HALF["per_prefill_token"],
                         slowdown, together=False)
    return {"prefill-first": prefill_first, "token-budget": budget, "llama-cpp": budget}


def serve(jobs, share, max_batch=8, slowdown=0.0, cancels=()):
    """Submit (arrival, prefill_s, tokens, per_token[, mark]) jobs; ends, kept, jobs, stats."""
    env = simpy.Environment()
    server = BatchServer(env, max_batch, slowdown, share)
    ends, kept, made = submit_jobs(env, server, jobs, cancels)
    env.run()
    return ends, kept, made, server.stats


@pytest.mark.parametrize("name", ["prefill-first", "token-budget", "llama-cpp"])
def test_alone_a_job_takes_prefill_plus_tokens_times_per_token(name):
    ends, _, made, _ = serve([(1.0, 0.5, 10, 0.1, 4)], shares(0.1)[name])
    assert ends[0] == pytest.approx(1.0 + 0.5 + 10 * 0.1, abs=1e-12)
    assert made[0].mark_time == pytest.approx(1.0 + 0.5 + 4 * 0.1, abs=1e-12)


def test_two_jobs_together_under_prefill_first():
    """A reads [0, 0.1], B reads [0.1, 0.2] while A stalls, then both decode 10 tokens in a
    batch of two: 10 x 0.02 x 1.1 = 0.22 s."""
    ends, *_ = serve([(0.0, 0.1, 10, 0.02)] * 2, prefill_first, slowdown=0.1)
    assert ends[0] == pytest.approx(0.42, abs=1e-12)
    assert ends[1] == pytest.approx(0.42, abs=1e-12)


@pytest.mark.parametrize("name", ["token-budget", "llama-cpp"])
def test_two_jobs_together_under_a_token_budget(name):
    """A reads [0, 0.1] alone. B's prompt then has the share 0.02 / (0.02 + 0.02) = 0.5 beside
    A: it takes 0.2 s, while A writes 0.2 x 0.5 / 0.02 = 5 tokens. Both then decode at
    1 / 1.1: A's last 5 tokens take 0.11 s (A ends at 0.41), B writes 5 meanwhile and its
    last 5 alone take 0.1 s (B ends at 0.51)."""
    ends, *_ = serve([(0.0, 0.1, 10, 0.02)] * 2, shares(0.1)[name], slowdown=0.1)
    assert ends[0] == pytest.approx(0.41, abs=1e-12)
    assert ends[1] == pytest.approx(0.51, abs=1e-12)


def test_a_prompt_stalls_the_decoders_for_exactly_its_prefill_under_prefill_first():
    """A decodes 10 tokens of 0.1 s from 0; B's 0.4 s prompt at 0.3 stalls it: A's 5th
    token at 0.9 instead of 0.5, its end at 1.4; B's one token at 0.3 + 0.4 + 0.1."""
    ends, _, made, _ = serve([(0.0, 0.0, 10, 0.1, 5), (0.3, 0.4, 1, 0.1)], prefill_first)
    assert made[0].mark_time == pytest.approx(0.9, abs=1e-12)
    assert ends[0] == pytest.approx(1.4, abs=1e-12)
    assert ends[1] == pytest.approx(0.8, abs=1e-12)


@pytest.mark.parametrize("name", ["token-budget", "llama-cpp"])
def test_a_prompt_slows_the_decoders_by_its_share_under_a_token_budget(name):
    """B's prompt has half of each step: it takes 0.4 / 0.5 = 0.8 s, [0.3, 1.1], while A
    writes at half speed (4 tokens; its 5th at 0.3 + 2 x 0.2 = 0.7). A loses 0.4 s in all,
    as under prefill-first, and still ends at 1.4; B's token comes at 1.2, not 0.8."""
    ends, _, made, _ = serve([(0.0, 0.0, 10, 0.1, 5), (0.3, 0.4, 1, 0.1)], shares(0.0)[name])
    assert made[0].mark_time == pytest.approx(0.7, abs=1e-12)
    assert ends[0] == pytest.approx(1.4, abs=1e-12)
    assert ends[1] == pytest.approx(1.2, abs=1e-12)


@pytest.mark.parametrize(("name", "kept"), [("prefill-first", 5), ("token-budget", 6)])
def test_a_cancel_returns_the_tokens_written_so_far(name, kept):
    """At 0.9 A has written 3 tokens by 0.3, then stalled to 0.7 and written 2 (prefill-first)
    or written at half speed for 0.6 s: 3 more (token-budget)."""
    got = serve([(0.0, 0.0, 10, 0.1), (0.3, 0.4, 1, 0.1)], shares(0.0)[name],
                cancels=[(0.9, 0)])[1]
    assert got == {0: kept}


def test_a_prompt_that_fits_in_a_step_is_read_in_one_step_beside_the_decoders():
    """A decodes 10 tokens of 0.1 s (a step of 0.1 s) from 0. B's 0.05 s prompt at 0.3 waits
    for the step in flight (half a step, to 0.35), then fits in the budget: one step with
    A's next token, 0.05 + 0.1 s, [0.35, 0.5], its share 0.05 / 0.15. A writes its 4th
    token at 0.35 + 0.05 / (2/3) = 0.425 and loses B's 0.05 s in all: it ends at 1.05. B's
    one token takes 0.1 s: it ends at 0.6."""
    share = TokenBudget(2048, 0.1, 0.002, 0.0)
    assert share(1, 0.05) == pytest.approx(1 / 3, rel=1e-12)
    assert share(1) == pytest.approx(2047 * 0.002 / (2047 * 0.002 + 0.1), rel=1e-12)
    ends, _, made, _ = serve([(0.0, 0.0, 10, 0.1, 4), (0.3, 0.05, 1, 0.1)], share)
    assert made[0].mark_time == pytest.approx(0.425, abs=1e-12)
    assert made[1].read_at == pytest.approx(0.5, abs=1e-12)
    assert ends[0] == pytest.approx(1.05, abs=1e-12)
    assert ends[1] == pytest.approx(0.6, abs=1e-12)


@pytest.mark.parametrize(("together", "reads"), [(True, (0.55, 0.55)), (False, (0.45, 0.6))])
def test_prompts_waiting_for_a_step_are_read_in_it_together(together, reads):
    """A decodes from 0 in steps of 0.1 s; B's and C's 0.05 s prompts arrive at 0.3. Read
    together (a token budget's step): they wait for the step in flight (to 0.35), then one
    chunk of 0.1 s beside A, share 0.1 / 0.2, both read at 0.55 while A writes one token.
    One at a time, at once: B in 0.15 s (to 0.45), then C beside A and B, 0.15 s more (to
    0.6)."""
    share = TokenBudget(2048, 0.1, 0.002, 0.0, together=together)
    _, _, made, _ = serve([(0.0, 0.0, 10, 0.1), (0.3, 0.05, 1, 0.1), (0.3, 0.05, 1, 0.1)],
                          share)
    assert (made[1].read_at, made[2].read_at) == pytest.approx(reads, abs=1e-12)


def test_a_budget_the_decoders_fill_leaves_the_prompt_waiting():
    """A budget of one token is A's alone: B's prompt waits for A's end at 1.0."""
    ends, *_ = serve([(0.0, 0.0, 10, 0.1), (0.3, 0.4, 1, 0.1)], TokenBudget(1, 0.02, 0.002, 0))
    assert ends[0] == pytest.approx(1.0, abs=1e-12)
    assert ends[1] == pytest.approx(1.5, abs=1e-12)


def test_the_share_is_the_prompt_chunks_part_of_the_step():
    """Budget 2048, 8 decoders, slowdown 0.025: the step is 0.0105 x 1.175 s of decoding
    and 2040 x 0.0001 = 0.204 s of prompt."""
    share = TokenBudget(2048, 0.0105, 0.0001, 0.025)
    assert share(8) == pytest.approx(0.204 / (0.204 + 0.0105 * 1.175), rel=1e-12)
    assert share(0) == 1.0 and share(2048) == 0.0


def test_a_measured_step_table_sets_each_batch_size_and_its_last_growth_goes_on():
    assert [step_factor((1.0, 2.0, 2.5), n) for n in range(1, 6)] == [1.0, 2.0, 2.5, 3.0, 3.5]
    assert step_factor((1.0,), 7) == 1.0
    share = TokenBudget(2048, 0.0105, 0.0001, 0.025, steps=(1.0, 1.5, 1.75))
    assert share(2) == pytest.approx(0.2046 / (0.2046 + 0.0105 * 1.5), rel=1e-12)


def test_two_jobs_decode_at_the_tables_factor_not_the_slowdown():
    """As under prefill-first above, but the table says a batch of two takes 1.5 steps of
    one (the slowdown 0.1 is ignored): 10 x 0.02 x 1.5 = 0.3 s after both are read."""
    env = simpy.Environment()
    server = BatchServer(env, 8, 0.1, prefill_first, steps=(1.0, 1.5))
    ends, *_ = submit_jobs(env, server, [(0.0, 0.1, 10, 0.02)] * 2, ())
    env.run()
    assert ends[0] == pytest.approx(0.5, abs=1e-12) and ends[1] == pytest.approx(0.5, abs=1e-12)


def test_the_step_table_is_checked_with_the_entry_named():
    ok = load_scenario("selfhosted-8b", ["server.batch_steps=[1, 1.9, 2.5]"]).server
    assert ok.batch_steps == (1.0, 1.9, 2.5)
    for value, says in [("[1, 0.9]", "batch_steps[1]: must be a number within [1"),
                        ("[1, 3, 2]", "batch_steps[2]: must not be below the entry before"),
                        ("[2, 3]", "batch_steps[0]: must be 1"),
                        ("[]", "batch_steps: must be a list of 1 to 4096"),
                        ("fast", "batch_steps: must be a list")]:
        with pytest.raises(InputError, match=says.replace("[", r"\[")):
            load_scenario("selfhosted-8b", [f"server.batch_steps={value}"])


def test_the_scenario_picks_the_scheduler_and_its_budget():
    base = load_scenario("selfhosted-8b").server
    assert scheduler(base) is prefill_first
    vllm = scheduler(load_scenario("selfhosted-8b", ["server.scheduler=token-budget",
                                                     "server.max_num_batched_tokens=512"]).server)
    llama = scheduler(load_scenario("selfhosted-8b", ["server.scheduler=llama-cpp",
                                                      "server.n_batch=256"]).server)
    assert (vllm.budget, llama.budget) == (512, 256)
    assert (vllm.step_base, vllm.per_prefill_token, vllm.slowdown) == (0.0105, 0.0001, 0.025)


def test_an_unknown_scheduler_is_a_one_line_error():
    with pytest.raises(InputError) as err:
        load_scenario("selfhosted-8b", ["server.scheduler=fifo"])
    message = str(err.value)
    assert "\n" not in message
    assert ("server.scheduler: must be one of prefill-first, token-budget, llama-cpp, "
            "got 'fifo'") in message


@pytest.mark.parametrize("name,steps", [("prefill-first", None), ("token-budget", None),
                                        ("llama-cpp", None), ("llama-cpp", "[1, 2, 2.7]")])
def test_littles_law_holds_under_load_for_each_scheduler(name, steps):
    sc = load_scenario("selfhosted-8b", [f"server.scheduler={name}", "server.sessions=48",
                                         "server.episodes=64", "server.max_batch=4",
                                         *([f"server.batch_steps={steps}"] if steps else [])])
    played, stats = simulate_shared(sc, load_trace_set("assistant"), POLICIES["async"], 0)
    assert len(played) == 64 and stats["mean_queue_wait"] > 0.05
    L, lam, W = stats["mean_in_system"], stats["arrival_rate"], stats["mean_time_in_system"]
    assert abs(L - lam * W) <= 1e-9 * L


jobs = st.lists(st.tuples(st.floats(0, 5), st.floats(0, 0.5), st.integers(0, 40),
                          st.floats(0.005, 0.05), st.none() | st.integers(1, 40)),
                min_size=1, max_size=30)
cuts = st.lists(st.tuples(st.floats(0, 8), st.integers(0, 29)), max_size=8,
                unique_by=lambda c: c[1])
schedulers = st.sampled_from(["prefill-first", "token-budget"])


@settings(max_examples=150, deadline=None)
@given(jobs, cuts, st.integers(1, 6), st.floats(0, 0.2), st.integers(1, 12), schedulers)
def test_every_job_finishes_no_sooner_than_alone_and_tokens_add_up(
        jobs, cuts, max_batch, slowdown, budget, name):
    share = prefill_first if name == "prefill-first" else TokenBudget(budget, 0.02, 0.002,
                                                                      slowdown)
    cuts = [(t, i) for t, i in cuts if i < len(jobs)]
    ends, kept, made, s = serve(jobs, share, max_batch, slowdown, cuts)
    cancelled = set(kept) - set(ends)
    assert len(ends) + len(cancelled) == len(jobs)
    assert s["departures"] == s["arrivals"] == len(jobs)
    for i in ends:
        arrival, prefill, tokens, per_token, _ = jobs[i]
        assert ends[i] >= arrival + prefill + tokens * per_token - 1e-9
    # the tokens written: whole jobs, and each cancelled job's kept tokens plus a fraction
    whole = sum(jobs[i][2] for i in ends) + sum(kept[i] for i in cancelled)
    assert whole - 1e-6 <= s["tokens"] < whole + len(cancelled) + 1e-6
    assert all(kept[i] <= jobs[i][2] for i in kept)
    assert s["area_in_system"] == pytest.approx(s["time_in_system"], rel=1e-9, abs=1e-9)
