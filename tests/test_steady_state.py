"""MSER-5 truncation and batch-means intervals (rtsim.analysis.steady_state), the
steady-state figures of a shared-server run, and their summaries and warnings."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsim.analysis.steady_load import steady_figures
from rtsim.analysis.steady_state import (
    BATCH,
    MIN_BATCHES,
    batch_means,
    batch_means_ci,
    mser,
    mser_truncation,
    steady_state,
)
from rtsim.analysis.summary import run_summary
from rtsim.cli import main
from rtsim.engine.runner import simulate
from rtsim.engine.shared import LoadSeries
from rtsim.scenario.load import load_scenario
from rtsim.traces.sets import load_trace_set


def test_mser_statistic_is_the_variance_of_the_rest_over_its_length():
    z = np.array([4.0, 1.0, 2.0, 3.0])
    expected = [np.var(z[d:]) / (len(z) - d) for d in range(len(z))]
    assert mser(z) == pytest.approx(expected)


def test_batch_means_drop_a_partial_last_batch():
    assert list(batch_means(range(12), 5)) == [2.0, 7.0]


@pytest.mark.parametrize("seed", range(5))
def test_a_known_transient_is_cut_where_it_ends(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([5 + rng.normal(size=200), rng.normal(size=800)])
    start, too_short = mser_truncation(x)
    assert 200 <= start <= 250 and not too_short  # all of it, and little of the rest


@pytest.mark.parametrize("seed", range(5))
def test_a_decaying_transient_is_cut_after_most_of_its_decay(seed):
    rng = np.random.default_rng(seed)
    t = np.arange(2000)
    x = 10 * np.exp(-t / 50) + rng.normal(size=t.size)
    start, too_short = mser_truncation(x)
    assert 100 <= start <= 400 and not too_short


@pytest.mark.parametrize("seed", range(10))
def test_a_stationary_series_is_hardly_truncated(seed):
    x = np.random.default_rng(seed).normal(size=1000)
    start, too_short = mser_truncation(x)
    assert start <= 100 and not too_short


def test_a_trending_series_is_too_short():
    x = np.arange(1000.0) + np.random.default_rng(0).normal(size=1000)
    assert mser_truncation(x)[1]


def test_a_series_of_fewer_than_min_batches_is_too_short():
    assert mser_truncation(np.zeros(2 * BATCH * MIN_BATCHES - 1)) == (0, True)
    assert mser_truncation(np.arange(2 * BATCH * MIN_BATCHES) % 2) == (0, False)



def test_batch_means_interval_of_iid_data_covers_the_mean():
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(400):
        mean, half, k = batch_means_ci(3.0 + rng.normal(size=500))
        covered += abs(mean - 3.0) <= half
    assert k == 20 and 0.9 <= covered / 400 <= 0.99


def test_batch_means_interval_is_student_t_on_the_batch_means():
    x = np.repeat([1.0, 3.0], 10)  # two batches of ten: means 1 and 3
    mean, half, k = batch_means_ci(x, batches=2)
    assert (mean, k) == (2.0, 2) and half == pytest.approx(12.706 * np.sqrt(2) / np.sqrt(2))


def test_batch_means_interval_of_one_observation_has_no_width():
    mean, half, k = batch_means_ci([4.0])
    assert mean == 4.0 and np.isnan(half) and k == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=400))
def test_truncation_is_a_whole_batch_within_the_first_half(values):
    start, _ = mser_truncation(values)
    batches = len(values) // BATCH
    assert start % BATCH == 0 and 0 <= start <= BATCH * (batches // 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=50, max_size=400),
       st.integers(-10**6, 10**6))
def test_truncation_does_not_change_with_a_constant_shift(values, shift):
    x = np.array(values, dtype=float)
    assert mser_truncation(x + shift) == mser_truncation(x)


def test_steady_state_keeps_the_rest_of_the_series():
    x = np.concatenate([np.full(100, 9.0), np.tile([0.0, 2.0], 450)])
    s = steady_state(x)
    assert s.start == 100 and s.mean == pytest.approx(1.0) and s.batches == 20
    assert not s.too_short


def test_server_figures_leave_out_an_idle_warm_up_and_the_drain():
    """Idle for 10 s, then busy with a batch of 4 writing 100 tokens/s until the drain at
    110 s: the window starts at or after 10 s, and the figures are those of the busy part."""
    times = np.linspace(0.0, 120.0, 601)
    on = np.clip(times - 10.0, 0.0, 100.0)
    series = LoadSeries(times=list(times),
                        totals=[(b, b, 4 * b, 100 * b) for b in on], drain=110.0)
    series.turn_ends = list(np.linspace(1.0, 109.0, 300))
    series.turn_latencies = [1.0] * 300
    f = steady_figures(series)
    assert 10.0 <= f["steady_from"] <= 20.0 and f["steady_to"] == 110.0
    assert f["steady_utilization"] == pytest.approx(1.0)
    assert f["steady_mean_batch"] == pytest.approx(4.0)
    assert f["steady_tokens_per_s"] == pytest.approx(100.0)
    assert f["steady_turn_latency_mean"] == 1.0 and not f["steady_too_short"]


SHARED = ["server.sessions=8", "server.episodes=120"]


def _summary(overrides):
    scenario = load_scenario("selfhosted-8b", overrides)
    episodes = load_trace_set(scenario.traces)
    sim = simulate(scenario, episodes, ["sync", "async"])
    return run_summary(scenario, len(episodes), sim)


def test_a_shared_server_run_reports_steady_state_figures():
    server = _summary(SHARED)["server"]
    for p in server.values():
        assert 0 < p["steady_from"] < p["steady_to"] < p["duration"]
        assert p["steady_batches"] >= 10 and not p["steady_too_short"]
        assert 0 < p["steady_utilization"] <= 1 and p["steady_tokens_per_s"] > 0
        assert p["steady_turn_latency_ci"] > 0


def test_the_same_seed_gives_the_same_steady_state():
    assert _summary(SHARED) == _summary(SHARED)


def test_a_tiny_run_warns_in_one_line_naming_it(tmp_path):
    out = tmp_path / "tiny"
    done = CliRunner().invoke(main, ["run", "-s", "selfhosted-8b", "-p", "sync",
                                     "--set", "server.sessions=2", "--set",
                                     "server.episodes=4", "-o", str(out)])
    assert done.exit_code == 0, done.output
    warnings = [line for line in done.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and str(out) in warnings[0] and "steady state" in warnings[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["server"]["sync"]["steady_too_short"] is True
    assert "steady state" in done.output
