"""`rtsim run` and `rtsim scenarios` as a user meets them."""

import contextlib
import io
import json
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from rtsim.cli import main
from rtsim.cli import run as run_module
from rtsim.cli import validate as validate_module
from rtsim.cli.common import progress
from rtsim.scenario.load import load_scenario, scenario_yaml

TINY = ('{"id": "e1", "turns": [{"user": "what is the weather in Paris tomorrow", '
        '"steps": [{"calls": [{"id": "c1", "name": "get_weather", '
        '"arguments": {"city": "Paris"}, "output": "sunny, 24 degrees"}]}], '
        '"answer": "It will be sunny in Paris."}]}\n')


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_writes_the_three_files(tmp_path):
    traces = tmp_path / "t.jsonl"
    traces.write_text(TINY)
    out = tmp_path / "out"
    result = invoke("run", "--traces", str(traces), "--seeds", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "speculative" in result.output and "speedup vs sync" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "cloud-realtime" and summary["seed"] == 0
    for policy in ("sync", "preemptive", "async", "speculative"):
        entry = summary["policies"][policy]
        assert entry["turns"] == 3
        assert set(entry["turn_latency"]) == {"mean", "p50", "p90", "p99"}
        assert set(entry["first_token_latency"]) == {"mean", "p50", "p90"}
        lo, hi = entry["speedup_vs_sync"]["ci95"]
        assert lo <= entry["speedup_vs_sync"]["mean"] <= hi
    turns = pd.read_csv(out / "turns.csv")
    assert len(turns) == 12 and set(turns.policy) == {"sync", "preemptive", "async",
                                                      "speculative"}
    rerun = tmp_path / "rerun"
    assert invoke("run", "-s", str(out / "config.yaml"), "-o", str(rerun)).exit_code == 0
    assert (rerun / "turns.csv").read_bytes() == (out / "turns.csv").read_bytes()


def test_a_run_reruns_and_reports_from_any_folder(tmp_path, monkeypatch):
    made, elsewhere = tmp_path / "made", tmp_path / "elsewhere"
    (made / "traces").mkdir(parents=True)
    elsewhere.mkdir()
    (made / "traces" / "x.jsonl").write_text(TINY)
    monkeypatch.chdir(made)
    assert invoke("run", "-t", "traces/x.jsonl", "--seeds", "2", "-o", "out").exit_code == 0
    config = (made / "out" / "config.yaml").read_text()
    assert f"traces: {made / 'traces' / 'x.jsonl'}\n" in config
    monkeypatch.chdir(elsewhere)
    rerun = invoke("run", "-s", str(made / "out" / "config.yaml"), "-o", "again")
    assert rerun.exit_code == 0, rerun.output
    for name in ("turns.csv", "summary.json", "config.yaml"):
        assert (elsewhere / "again" / name).read_bytes() == (made / "out" / name).read_bytes()
    report = invoke("report", str(made / "out"))
    assert report.exit_code == 0 and report.stderr == "", report.output
    assert (made / "out" / "report" / "timeline-turn1.png").is_file()


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert invoke("run", "-s", "edge-3b", "--seeds", "2", "--events", "-o", str(out)
                      ).exit_code == 0
    for name in ("turns.csv", "summary.json", "config.yaml", "events.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    c = tmp_path / "c"
    invoke("run", "-s", "edge-3b", "--seeds", "2", "--seed", "7", "-o", str(c))
    assert (c / "turns.csv").read_bytes() != (a / "turns.csv").read_bytes()


def test_default_run_shows_async_and_speculation_faster_than_sync(tmp_path):
    result = invoke("run", "--seeds", "3", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    policies = json.loads((tmp_path / "summary.json").read_text())["policies"]
    for policy in ("async", "speculative"):
        assert policies[policy]["speedup_vs_sync"]["ci95"][0] > 1.0


def one_line_error(result, code=2):
    assert result.exit_code == code
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_bad_scenario_file_names_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  decode_rat: 40\n")
    line = one_line_error(invoke("run", "-s", str(bad), "-o", str(tmp_path / "o")))
    assert str(bad) in line and "model.decode_rat: unknown key" in line
    assert not (tmp_path / "o").exists()


def test_bad_yaml_and_bad_set(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    assert "not valid YAML at line" in one_line_error(invoke("run", "-s", str(bad)))
    line = one_line_error(invoke("run", "--set", "model.decode_rate=-3"))
    assert "model.decode_rate: must be positive" in line


def test_bad_trace_file_names_line_and_field(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(TINY + '{"id": "e2", "turns": [{"user": "hi", "answer_tokens": "x"}]}\n')
    line = one_line_error(invoke("run", "-t", str(bad), "-o", str(tmp_path / "o")))
    assert f"{bad}:2: turns[0].answer_tokens: must be an integer" in line


LONE = "is a lone surrogate, not a character (text must be valid Unicode)"


@pytest.mark.parametrize("field, line", [
    ('"id": "e\\ud800"', r"id: '\ud800' " + LONE),
    ('"id": "e2", "source": "\\udfff"', r"source: '\udfff' " + LONE),
])
def test_a_lone_surrogate_in_a_trace_is_one_line_naming_record_and_key(tmp_path, field, line):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(TINY + "{" + field + ', "turns": [{"user": "hi", "answer_tokens": 2}]}\n')
    out = tmp_path / "o"
    assert one_line_error(invoke("run", "-t", str(bad), "-o", str(out))) == (
        f"Error: {bad}:2: {line}")
    assert not (out / "turns.csv").exists()


def test_a_lone_surrogate_in_a_scenario_value_is_one_line(tmp_path):
    line = one_line_error(invoke("run", "--set", 'name="\\ud800x"', "-o", str(tmp_path / "o")))
    assert line == "Error: --set 'name=\"\\\\ud800x\"': value: '\\ud800' " + LONE


def test_unknown_policy_and_missing_traces():
    assert "unknown policy fast" in one_line_error(invoke("run", "-p", "sync,fast"))
    assert "no such built-in trace set or file" in one_line_error(invoke("run", "-t", "nope"))


def test_scenarios_list_and_show():
    listing = invoke("scenarios", "list").output
    assert "cloud-realtime" in listing and "edge-3b" in listing
    shown = invoke("scenarios", "show", "edge-3b").output
    assert "Silero" in shown  # the source comments are kept
    resolved = invoke("scenarios", "show", "edge-3b", "--resolved").output
    assert "request_overhead" in resolved
    assert one_line_error(invoke("scenarios", "show", "nope"))


@pytest.mark.parametrize("name", ["cloud-realtime", "edge-3b", "selfhosted-8b"])
def test_resolved_scenario_lines_are_the_dotted_keys_set_takes(name, tmp_path):
    lines = invoke("scenarios", "show", name, "--resolved").output.splitlines()
    assert lines[0] == f"name: {name}" and len(lines) > 40
    every = [f"{key}={value}" for key, _, value in (line.partition(": ") for line in lines)]
    (tmp_path / "empty.yaml").write_text("{}\n")
    rebuilt = load_scenario(str(tmp_path / "empty.yaml"), every)  # --set of every line
    assert scenario_yaml(rebuilt) == scenario_yaml(load_scenario(name))


def test_scenarios_show_prints_only_scenarios(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:password\n")
    result = CliRunner().invoke(main, ["scenarios", "show", str(secret)])
    assert result.exit_code == 2 and "password" not in result.output


def test_a_rerun_without_events_leaves_no_stale_event_table(tmp_path):
    out = tmp_path / "run"
    for extra in (["--events"], []):
        result = CliRunner().invoke(main, ["run", "--seeds", "1", "-p", "sync", "-o", str(out),
                                           *extra])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "summary.json", "turns.csv"]


def test_an_output_folder_that_cannot_be_written_stops_before_the_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(main, ["run", "-o", str(blocker / "run")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: {blocker / 'run'}: cannot write here (Not a directory)"]


def test_a_full_disk_is_one_line_and_leaves_the_earlier_run_whole(tmp_path, monkeypatch):
    from tests.test_atomic import full_disk_after

    out = tmp_path / "o"
    args = ["run", "-p", "sync", "--seeds", "1", "-o", str(out)]
    assert invoke(*args, "--events").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    full_disk_after(monkeypatch, 1)
    line = one_line_error(CliRunner().invoke(main, [*args, "--seed", "5"]))
    assert line == f"Error: {out / 'summary.json'}: cannot write (No space left on device)"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_progress_goes_to_a_terminal_only(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        with progress(4, "runs") as step:
            step(4)
        assert ("0/4 [" in stream.getvalue()) is shown


def test_run_and_validate_count_progress_to_every_episode_run(tmp_path, monkeypatch):
    counted = []

    @contextlib.contextmanager
    def recorder(total, unit):
        steps = []
        yield steps.append
        counted.append((total, sum(steps)))

    monkeypatch.setattr(run_module, "progress", recorder)
    monkeypatch.setattr(validate_module, "progress", recorder)
    result = invoke("run", "--seeds", "2", "-o", str(tmp_path / "a"))
    assert result.exit_code == 0 and result.stderr == ""
    invoke("validate", "-p", "speculative", "--seeds", "2", "--target", "speedup_vs_sync > 1")
    invoke("run", "-s", "selfhosted-8b", "--set", "server.sessions=4",
           "--set", "server.episodes=10", "--seeds", "1", "-o", str(tmp_path / "b"))
    assert counted == [(2 * 4 * 36, 2 * 4 * 36), (2 * 2 * 36, 2 * 2 * 36), (4 * 10, 4 * 10)]


def test_format_help_says_what_is_true(tmp_path):
    help_text = " ".join(invoke("run", "--help").output.split())
    assert "--format [csv|parquet] Table format. [default: csv]" in help_text
    assert invoke("run", "--seeds", "1", "--format", "parquet", "-o", str(tmp_path)).exit_code == 0
    assert len(pd.read_parquet(tmp_path / "turns.parquet")) == 4 * 120
