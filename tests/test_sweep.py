"""`rtsim sweep`: grids, per-point seeds, resumable output, local and Dask execution."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from rtsim.cli import main
from rtsim.cli import sweep as sweep_cli
from rtsim.cli.sweep import duration
from rtsim.errors import InputError
from rtsim.sweeps.spec import parse_values, point_seed, resolve
from rtsim.traces.sets import resolve_traces

from .test_cli_run import TINY

GRID = ("-g", "tools.default.latency=0.5,2", "-g", "endpointing.silence=0.2:0.6:0.2")


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def traces(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(TINY + TINY.replace('"e1"', '"e2"').replace("Paris", "Rome"))
    return str(path)


def sweep(out, traces, *extra):
    return invoke("sweep", *GRID, "-t", traces, "--seeds", "2", "--format", "csv",
                  "--workers", "1", "-q", "-o", str(out), *extra)


def test_values_lists_and_inclusive_ranges():
    assert parse_values("k", "1,2.5,fast", "--grid") == (1, 2.5, "fast")
    assert parse_values("k", "0.2:0.8:0.2", "--grid") == (0.2, 0.4, 0.6, 0.8)
    assert parse_values("k", "20:140:40", "--grid") == (20, 60, 100, 140)


@pytest.mark.parametrize("text, message", [
    ("", "no values"), ("1:0:1", "stop >= start"), ("0:1:0", "step > 0"),
    ("a:b:c", "start:stop:step"), ("1,1", "repeated"), ("{a: 1}", "not a number"),
])
def test_bad_values_name_the_key(text, message):
    with pytest.raises(InputError, match=f"--grid k.*{message}"):
        parse_values("k", text, "--grid")


def test_every_point_is_checked_before_work():
    with pytest.raises(InputError, match="latncy"):
        resolve("cloud-realtime", [], [("tools.default.latncy", (1,))], ["sync"], [], 1, 0)
    with pytest.raises(InputError, match="^grid endpointing.silence: .*got -1"):
        resolve("cloud-realtime", [], [("endpointing.silence", (0.2, -1))], ["sync"], [], 1, 0)
    with pytest.raises(InputError, match="empty grid"):
        resolve("cloud-realtime", [], [], ["sync"], [], 1, 0)


def test_point_seeds_follow_params_not_grid_position():
    small = resolve("cloud-realtime", [], [("endpointing.silence", (0.2, 0.4))], ["sync"], [],
                    1, 7)
    large = resolve("cloud-realtime", [], [("endpointing.silence", (0.1, 0.2, 0.3, 0.4))],
                    ["sync"], [], 1, 7)
    seeds = {p.params: p.scenario.seed for p in large.points}
    assert all(seeds[p.params] == p.scenario.seed for p in small.points)
    assert len(set(seeds.values())) == 4
    assert small.points[0].scenario.seed == point_seed(7, (("endpointing.silence", 0.2),),
                                                       "assistant")
    assert small.points[1].scenario.turn_detection.silence.value == 0.4


def test_a_point_equals_rtsim_run_with_its_values_and_seed(tmp_path, traces):
    assert sweep(tmp_path / "s", traces).exit_code == 0
    results = pd.read_csv(tmp_path / "s" / "results.csv")
    assert len(results) == 6 * 4
    assert list(results.columns[:5]) == ["point", "tools.default.latency",
                                         "endpointing.silence", "traces", "seed"]
    row = results[(results.point == 4) & (results.policy == "speculative")].iloc[0]
    assert (row["tools.default.latency"], row["endpointing.silence"]) == (2, 0.4)
    run_out = tmp_path / "run"
    assert invoke("run", "-t", traces, "--seeds", "2", "--seed", str(row.seed),
                  "--set", "tools.default.latency=2", "--set", "endpointing.silence=0.4",
                  "-o", str(run_out)).exit_code == 0
    summary = json.loads((run_out / "summary.json").read_text())["policies"]
    assert row.turn_latency_mean == pytest.approx(summary["speculative"]["turn_latency"]["mean"],
                                                  rel=1e-12)
    assert row.speedup == pytest.approx(summary["speculative"]["speedup_vs_sync"]["mean"],
                                        rel=1e-12)
    assert (results[results.policy == "sync"].speedup == 1.0).all()


def test_reruns_are_byte_identical_and_a_resume_repeats_nothing(tmp_path, traces):
    full, part = tmp_path / "full", tmp_path / "part"
    assert sweep(full, traces).exit_code == 0
    assert sweep(part, traces).exit_code == 0
    for name in ("00001.json", "00004.json"):
        (part / "points" / name).unlink()
    (part / "results.csv").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in (part / "points").iterdir()}
    again = sweep(part, traces, "--resume")
    assert again.exit_code == 0 and "6 of 6 points" in again.output
    assert {p.name: p.stat().st_mtime_ns for p in (part / "points").iterdir()
            if p.name in kept} == kept
    assert (part / "results.csv").read_bytes() == (full / "results.csv").read_bytes()


def test_an_existing_sweep_needs_resume_and_the_same_options(tmp_path, traces):
    assert sweep(tmp_path / "s", traces).exit_code == 0
    again = sweep(tmp_path / "s", traces)
    assert again.exit_code == 2 and "--resume" in again.output
    other = invoke("sweep", "-g", "tools.default.latency=1", "-t", traces, "--seeds", "2",
                   "-q", "-o", str(tmp_path / "s"), "--resume")
    assert other.exit_code == 2 and "grid differs" in other.output


@pytest.mark.parametrize("args, message", [
    (["-g", "nope.key=1"], "nope"),
    (["-g", "tools.default.latency"], "expected KEY=V1,V2"),
    ([], "empty grid"),
    (["-g", "endpointing.silence=0.2", "-p", "sync,fast"], "unknown policy fast"),
    (["-g", "endpointing.silence=0.2", "--scheduler", "tcp://x:1"], "only with --executor dask"),
    (["-g", "endpointing.silence=0.2", "--executor", "dask"], "--scheduler"),
    (["-g", "endpointing.silence=0.2", "-t", "no-such-set"], "no-such-set"),
])
def test_bad_input_is_one_line_before_any_work(tmp_path, args, message):
    result = invoke("sweep", *args, "-q", "-o", str(tmp_path / "s"))
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_sweep_file_with_cli_additions(tmp_path, traces):
    spec = tmp_path / "sweep.yaml"
    spec.write_text(f"scenario: edge-3b\ntraces: [{traces}]\nseeds: 1\npolicies: sync,async\n"
                    "set: {endpointing.silence: 0.3}\ngrid:\n  model.decode_rate: '20:60:20'\n")
    result = invoke("sweep", str(spec), "-g", "tools.default.latency=1,2", "--format", "csv",
                    "-q", "--workers", "1", "-o", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    results = pd.read_csv(tmp_path / "s" / "results.csv")
    assert len(results) == 3 * 2 * 2 and set(results.policy) == {"sync", "async"}
    assert sorted(set(results["model.decode_rate"])) == [20, 40, 60]
    spec.write_text("grid: {a: 1}\nspeed: 3\n")
    bad = invoke("sweep", str(spec), "-q", "-o", str(tmp_path / "t"))
    assert bad.exit_code == 2 and "unknown key 'speed'" in bad.output


def test_killed_sweep_resumes_to_the_same_results(tmp_path, traces):
    args = [sys.executable, "-m", "rtsim", "sweep", "-g", "tools.default.latency=0.5:4:0.5",
            "-t", traces, "--seeds", "20", "--format", "csv", "--workers", "1", "-q"]
    full, cut = tmp_path / "full", tmp_path / "cut"
    subprocess.run(args + ["-o", str(full)], check=True, capture_output=True)
    proc = subprocess.Popen(args + ["-o", str(cut)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    points = cut / "points"
    while proc.poll() is None and len(list(points.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(points.glob("*.json")))
    assert 2 <= done < 8
    again = subprocess.run(args + ["-o", str(cut), "--resume"], capture_output=True, text=True)
    assert again.returncode == 0 and f"{done} done already" in again.stderr
    assert (cut / "results.csv").read_bytes() == (full / "results.csv").read_bytes()


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _started_sweep(tmp_path, traces, workers=2):
    args = [sys.executable, "-m", "rtsim", "sweep", "-g", "tools.default.latency=0.5:8:0.5",
            "-t", traces, "--seeds", "20", "--format", "csv", "--workers", str(workers),
            "-o", str(tmp_path / "s")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    # the first point runs in the sweep's own process (timed for the estimate); the pool's
    # workers write the later ones
    while time.monotonic() < deadline and proc.poll() is None and len(list(
            (tmp_path / "s" / "points").glob("*.json"))) < 2:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    return proc


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_no_worker_outlives_a_sweep_killed_by_sigterm(tmp_path, traces):
    proc = _started_sweep(tmp_path, traces)
    workers = _children(proc.pid)
    assert workers
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 30  # generous: a loaded machine
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)


def test_ctrl_c_says_what_is_kept_and_how_to_resume(tmp_path, traces):
    proc = _started_sweep(tmp_path, traces, workers=1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: interrupted: ") and "points are kept in" in last
    assert last.endswith("--resume") and "rtsim sweep -g tools.default.latency=0.5:8:0.5" in last


def test_dask_local_cluster_gives_identical_results(tmp_path, traces):
    distributed = pytest.importorskip("distributed")
    grid = GRID + ("-g", "speculation.accuracy=0.8,1")
    assert sweep(tmp_path / "local", traces, *grid[len(GRID):]).exit_code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = invoke("sweep", *grid, "-t", traces, "--seeds", "2", "--format", "csv", "-q",
                        "-o", str(tmp_path / "dask"), "--executor", "dask",
                        "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dask" / "results.csv").read_bytes() == \
        (tmp_path / "local" / "results.csv").read_bytes()


def test_unreachable_scheduler_fails_before_work(tmp_path):
    pytest.importorskip("distributed")
    result = invoke("sweep", "-g", "endpointing.silence=0.2", "--executor", "dask",
                    "--scheduler", "tcp://127.0.0.1:9", "-q", "-o", str(tmp_path / "s"))
    assert result.exit_code == 2 and "cannot reach the Dask scheduler" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("args, message", [
    (["-g", "tools.default.latency=0:nan:1"], "start, stop and step must be finite numbers"),
    (["-g", "tools.default.latency=0:inf:1"], "start, stop and step must be finite numbers"),
    (["FILE:scenario: [1]"], "scenario: expected a name or path, got [1]"),
    (["FILE:seeds: '3'"], "seeds: expected an integer, got '3'"),
    (["FILE:set: [1, 2]"], "set: expected a mapping of dotted keys to values"),
])
def test_bad_ranges_and_sweep_files_are_one_line(tmp_path, args, message):
    if args[0].startswith("FILE:"):
        sweep_file = tmp_path / "sweep.yaml"
        sweep_file.write_text(args[0][5:] + "\ngrid: {tools.default.latency: [1, 2]}\n")
        args = [str(sweep_file)]
    result = CliRunner().invoke(main, ["sweep", *args, "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


@pytest.mark.parametrize("change", ["traces", "format"])
def test_a_resume_refuses_changed_traces_or_format(tmp_path, change):
    traces = tmp_path / "t.jsonl"
    traces.write_text(resolve_traces("assistant").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    args = ["sweep", "-g", "tools.default.latency=0.5,1", "-t", str(traces), "--seeds", "1",
            "-p", "sync", "-o", str(out), "-q"]
    assert CliRunner().invoke(main, args).exit_code == 0
    if change == "traces":
        traces.write_text("\n".join(traces.read_text().split("\n")[:4]) + "\n")
    else:
        args += ["--format", "csv"]
    result = CliRunner().invoke(main, [*args, "--resume"])
    assert result.exit_code == 2
    key = "traces_sha256" if change == "traces" else "format"
    assert f"is a different sweep ({key} differs)" in result.stderr


def _cut(text):
    return text[:len(text) // 2]


def _edit_row(change):
    def edit(text):
        record = json.loads(text)
        change(record["rows"][0])
        return json.dumps(record)
    return edit


DAMAGE = [
    (_cut, "not valid JSON"),
    (lambda text: "", "not valid JSON"),
    (lambda text: "[]", "not a point record (expected the keys point, params, traces, seed, rows)"),
    (lambda text: json.dumps({**json.loads(text), "rows": {}}), "rows: must be a list of objects"),
    (lambda text: json.dumps({**json.loads(text), "rows": json.loads(text)["rows"][:2]}),
     "rows: must hold one row for each of the policies sync, preemptive, async, speculative"),
    (_edit_row(lambda row: row.pop("turn_latency_p90")),
     "rows[0]: misses turn_latency_p90 (not this version's result columns)"),
    (_edit_row(lambda row: row.update(latency_p42=1.0)),
     "rows[0]: has the unknown column latency_p42 (not this version's result columns)"),
    (_edit_row(lambda row: row.update(turns="12")), "rows[0].turns: must be an integer, got '12'"),
    (_edit_row(lambda row: row.update(turns=1.5)), "rows[0].turns: must be an integer, got 1.5"),
    (_edit_row(lambda row: row.update(speedup=None)),
     "rows[0].speedup: must be a number, got None"),
    (_edit_row(lambda row: row.update(speedup=True)),
     "rows[0].speedup: must be a number, got True"),
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished sweep (its folder and trace file), to copy and damage."""
    folder = tmp_path_factory.mktemp("finished")
    traces = folder / "t.jsonl"
    traces.write_text(TINY + TINY.replace('"e1"', '"e2"').replace("Paris", "Rome"))
    assert sweep(folder / "s", str(traces)).exit_code == 0
    return folder / "s", str(traces)


def resume_copy(finished, tmp_path):
    """A copy of the finished sweep, and a function resuming it."""
    part = tmp_path / "part"
    shutil.copytree(finished[0], part)

    def resume():
        return CliRunner().invoke(main, ["sweep", *GRID, "-t", finished[1], "--seeds", "2",
                                         "--format", "csv", "--workers", "1", "-q", "-o",
                                         str(part), "--resume"])
    return part, resume


@pytest.mark.parametrize("damage, problem", DAMAGE)
def test_a_damaged_point_file_is_redone_on_resume(tmp_path, finished, damage, problem):
    full = finished[0]
    part, resume = resume_copy(finished, tmp_path)
    point = part / "points" / "00002.json"
    point.write_text(damage(point.read_text()))
    result = resume()
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("redoing")]
    assert line.startswith(f"redoing 1 damaged point file: {point}") and problem in line
    assert point.read_bytes() == (full / "points" / "00002.json").read_bytes()
    assert (part / "results.csv").read_bytes() == (full / "results.csv").read_bytes()


@pytest.mark.parametrize("key, value", [("params", {"tools.default.latency": 9}),
                                        ("traces", "other"), ("seed", 1), ("point", "00007")])
def test_a_point_file_of_another_sweep_stops_the_resume(tmp_path, finished, key, value):
    part, resume = resume_copy(finished, tmp_path)
    point = part / "points" / "00002.json"
    record = json.loads(point.read_text())
    point.write_text(json.dumps({**record, key: value}))
    before = point.read_bytes()
    result = resume()
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: {point}: holds a point of another sweep ({key} {value!r}, expected "
        f"{record[key]!r}); move it away or delete it to redo the point"]
    assert point.read_bytes() == before


def test_the_api_warns_when_it_redoes_a_damaged_point(tmp_path, traces):
    from rtsim.api import sweep as api_sweep

    options = {"traces": [traces], "policies": ["sync"], "seeds": 1, "out": tmp_path / "s",
               "workers": 1}
    first = api_sweep({"tools.default.latency": [0.5, 1]}, **options)
    (tmp_path / "s" / "points" / "00001.json").write_text("{")
    with pytest.warns(UserWarning, match=r"^redoing 1 damaged point file: .*00001\.json"):
        again = api_sweep({"tools.default.latency": [0.5, 1]}, **options, resume=True)
    pd.testing.assert_frame_equal(first, again)


def test_a_full_disk_keeps_the_finished_points_and_says_how_to_resume(tmp_path, finished,
                                                                      monkeypatch):
    from tests.test_atomic import full_disk_after

    out = tmp_path / "s"
    args = ["sweep", *GRID, "-t", finished[1], "--seeds", "2", "--format", "csv",
            "--workers", "1", "-q", "-o", str(out)]
    monkeypatch.setattr(sys, "argv", ["rtsim", *args])  # the command the hint repeats
    written = full_disk_after(monkeypatch, 2, names=("000",))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    header, estimate, line = result.stderr.strip().splitlines()
    assert header.startswith("sweep of 6 points") and estimate.startswith("the first point")
    assert line.startswith(f"Error: {out / 'points'}/0000") and line.endswith(
        f": cannot write (No space left on device); 2 of 6 points are kept in {out}; "
        "continue with: rtsim " + " ".join(args) + " --resume")
    assert sorted((out / "points").iterdir()) == sorted(written)
    monkeypatch.undo()
    assert CliRunner().invoke(main, [*args, "--resume"]).exit_code == 0
    assert (out / "results.csv").read_bytes() == (finished[0] / "results.csv").read_bytes()


@pytest.mark.parametrize("args, start", [
    (["-g", "model.decod_rate=1,2"], "Error: --grid model.decod_rate: unknown key (known: "),
    (["-g", "model.decode_rate=-1,2"], "Error: --grid model.decode_rate: must be positive"),
    (["-g", "traces=x.jsonl"], "Error: --grid traces: not a grid key; give the trace sets "
                               "with --traces A,B"),
    (["-g", "seed=1,2"], "Error: --grid seed: not a grid key"),
    (["-g", "seeds=1", "--set", "model.decod_rate=3"], "Error: --set model.decod_rate: unknown"),
    (["FILE"], "Error: {file}: grid: model.decod_rate: unknown key"),
])
def test_a_bad_swept_key_names_where_it_was_given(tmp_path, args, start):
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text("grid: {model.decod_rate: [1, 2]}\n")
    args = [str(sweep_file) if a == "FILE" else a for a in args]
    result = invoke("sweep", *args, "-q", "-o", str(tmp_path / "s"))
    assert result.exit_code == 2 and result.stderr.startswith(start.format(file=sweep_file))
    assert "cloud-realtime.yaml" not in result.stderr and not (tmp_path / "s").exists()


def test_a_sweep_says_what_it_will_take_before_it_starts(tmp_path, traces):
    result = sweep(tmp_path / "s", traces)
    assert result.exit_code == 0
    assert re.search(r"^sweep of 6 points \(2 keys x 1 trace set\) x 4 policies, 2 seeds each\n"
                     r"the first point took [0-9.]+ s: about [0-9.]+ s for the other 5 points "
                     r"on 1 worker\n$", result.stderr), result.stderr
    assert duration(0.4231) == "0.42 s" and duration(75) == "75 s"
    assert duration(4 * 3600) == "4.0 h" and duration(1e6) == "11.6 days"


def test_a_long_sweep_asks_first_and_without_a_terminal_needs_yes(tmp_path, traces,
                                                                   monkeypatch):
    monkeypatch.setattr(sweep_cli, "CONFIRM_AFTER", 0)
    refused = sweep(tmp_path / "s", traces)
    assert refused.exit_code == 2 and not (tmp_path / "s").exists()
    assert refused.stderr.splitlines()[-1].startswith("Error: a sweep of about ")
    assert refused.stderr.endswith(": pass --yes to run it, or sweep fewer points\n")
    monkeypatch.setattr(sweep_cli, "_interactive", lambda: True)
    args = ["sweep", *GRID, "-t", traces, "--seeds", "2", "--workers", "1", "-q",
            "-o", str(tmp_path / "s")]
    declined = CliRunner().invoke(main, args, input="n\n")
    assert declined.exit_code == 1 and "run a sweep of about" in declined.stderr
    assert not (tmp_path / "s").exists()
    assert CliRunner().invoke(main, args, input="y\n").exit_code == 0
    assert sweep(tmp_path / "t", traces, "--yes").exit_code == 0
    assert len(list((tmp_path / "t" / "points").glob("*.json"))) == 6
