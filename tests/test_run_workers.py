"""`rtsim run` on many workers: the same tables, byte for byte, however the work is spread;
and a shared server that frees each finished conversation at once."""

import gc

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from rtsim.cli import main
from rtsim.engine.batch_server import Job
from rtsim.engine.executors import run_local
from rtsim.engine.runner import POOL_FROM_RUNS, pool_size, simulate, tasks
from rtsim.engine.shared import SharedEpisodeSim, simulate_shared
from rtsim.engine.simpy_driver import Request
from rtsim.policies import POLICIES
from rtsim.scenario.load import load_scenario
from rtsim.traces.sets import load_trace_set

EPISODES = load_trace_set("assistant")
SINGLE = load_scenario("edge-3b", ["seeds=2"])
SHARED = load_scenario("selfhosted-8b", ["seeds=2", "server.sessions=4", "server.episodes=10"])


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def csv_bytes(sim):
    return sim.turns.to_csv(index=False), sim.events.to_csv(index=False), \
        sim.load.to_csv(index=False)


@pytest.mark.parametrize("scenario", [SINGLE, SHARED], ids=["single", "shared"])
def test_any_slicing_and_a_pool_give_the_same_tables(scenario):
    names = ["sync", "speculative"]
    serial = csv_bytes(simulate(scenario, EPISODES, names, keep_events=True))
    for workers in (2, 3, 7):
        assert csv_bytes(simulate(scenario, EPISODES, names, keep_events=True,
                                  workers=workers)) == serial
    pooled = simulate(scenario, EPISODES, names, keep_events=True, workers=2,
                      execute=lambda todo, eps: run_local(todo, eps, 2))
    assert csv_bytes(pooled) == serial


@given(st.integers(1, 300), st.integers(1, 64), st.integers(1, 3))
def test_single_user_tasks_cover_every_episode_once_in_order(n, workers, seeds):
    scenario = load_scenario("cloud-realtime", [f"seeds={seeds}"])
    todo = tasks(scenario, EPISODES[:1] * n, ["sync"], False, workers)
    spans = [(args[2], args[3], args[4]) for _, _, _, args in todo]
    expected = [(rep, i) for rep in range(seeds) for i in range(n)]
    assert [(rep, i) for rep, start, stop in spans for i in range(start, stop)] == expected
    assert [index for index, *_ in todo] == list(range(len(todo)))
    if workers > 1:
        assert len(todo) <= seeds * workers * 4


def test_a_pool_starts_only_for_work_worth_its_start_up(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert pool_size(POOL_FROM_RUNS - 1, None) == 1
    assert pool_size(POOL_FROM_RUNS, None) == 6
    assert pool_size(10, 3) == 3


def test_run_files_are_the_same_on_one_or_two_workers(tmp_path):
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / workers
        result = invoke("run", "-s", "edge-3b", "--seeds", "2", "--events", "--workers", workers,
                        "-o", str(out))
        assert result.exit_code == 0, result.output
        outs.append([(out / f).read_bytes() for f in ("turns.csv", "events.csv")])
    assert outs[0] == outs[1]


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "tcp://x:1"], "--scheduler: only with --executor dask"),
    (["--executor", "dask"], "--executor dask: give the cluster's --scheduler ADDRESS"),
    (["--executor", "dask", "--scheduler", "tcp://x:1", "--workers", "2"],
     "--workers: only with --executor local"),
    (["--workers", "0"], "Invalid value for '--workers'"),
])
def test_executor_options_that_do_not_go_together_are_one_line(tmp_path, args, message):
    result = invoke("run", *args, "-o", str(tmp_path / "r"))
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_dask_cluster_gives_the_same_files(tmp_path):
    distributed = pytest.importorskip("distributed")
    args = ["-s", "selfhosted-8b", "--set", "server.sessions=4", "--set", "server.episodes=10",
            "--seeds", "2", "--events"]
    assert invoke("run", *args, "-o", str(tmp_path / "local")).exit_code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = invoke("run", *args, "-o", str(tmp_path / "dask"), "--executor", "dask",
                        "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    for name in ("turns.csv", "events.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


def cyclic_garbage(episodes: int, policy: str) -> list:
    """The conversations and jobs only a full garbage collection frees after one
    shared-server run."""
    scenario = load_scenario("selfhosted-8b", ["server.sessions=8",
                                               f"server.episodes={episodes}"])
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        simulate_shared(scenario, EPISODES, POLICIES[policy], 0, lambda unit, rows: len(rows))
        gc.collect()
        return [o for o in gc.garbage if isinstance(o, (SharedEpisodeSim, Job, Request))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize("policy", list(POLICIES))
def test_finished_conversations_leave_no_reference_cycles(policy):
    assert cyclic_garbage(32, policy) == []


def test_simulate_shared_digests_each_episode_as_it_ends():
    played, _ = simulate_shared(SHARED, EPISODES, POLICIES["async"], 0,
                                lambda unit, rows: (unit, len(rows)))
    assert [unit for unit, _ in played] == [e.id for e in EPISODES[:10]]
    assert all(n > 0 for _, n in played)
