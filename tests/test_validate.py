"""Verdicts with known answers, the bootstrap's exactness, and `rtsim validate` end to end."""

import dataclasses
import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsim.analysis.summary import summarize
from rtsim.analysis.targets import parse_target
from rtsim.analysis.validate import Bootstrap, validate, verdict
from rtsim.cli import main
from rtsim.cli.validate import default_targets_path
from rtsim.engine.runner import simulate
from tests.helpers import call, episode, scenario

PERFECT = {"accuracy": 1.0, "premature_rate": 0.0}
TOOLS = {"t0": {"latency": 2.0}, "t1": {"latency": 0.5}}
# Episode A: a 10-token call known after word 2, a 2 s tool, a 10-token answer, at 10 tok/s.
# sync: 1.0 + 2.0 + 1.0 = 4.0 s; speculative writes the call from 0.25 s, runs it until
# 3.25 s and answers by 4.25 s; speech ends at 0.8 s: 3.45 s (tests/test_closed_forms.py).
A = episode([[call("c0", 10, known_at=2, name="t0")]], answer_tokens=10)
# Episode B: a 20-token call never heard in the utterance: 2.0 + 0.5 + 1.0 = 3.5 s for all.
B = dataclasses.replace(episode([[call("c1", 20, name="t1")]], answer_tokens=10), id="B")


def turns_of(episodes, seeds=3, policies=("sync", "speculative")):
    sc = scenario(seeds=seeds, speculation=PERFECT, tools=TOOLS)
    return simulate(sc, episodes, list(policies)).turns


def check(turns, text, policy="speculative", confidence=0.95):
    report = validate(turns, policy, parse_target(text), seed=0, confidence=confidence)
    (row,) = report["targets"]
    return row


@pytest.fixture(scope="module")
def single():
    """Episode A only: every unit is the same, so every resample equals the sample."""
    return turns_of([A])


@pytest.mark.parametrize("text,estimate", [
    ("speedup_vs_sync > 1", 4.0 / 3.45),
    ("speedup_vs_sync(first_token_latency) > 1", 3.1 / 2.55),  # first token 0.1 s in
    ("mean(turn_latency) < 4", 3.45),
    ("p90(turn_latency) < 4", 3.45),
    ("max(first_audio_latency) < 4", 2.55),
    ("hit_rate > 0.5", 1.0),
    ("wasted_tokens_per_turn < 1", 0.0),
    ("model_busy_per_turn < 3", 2.0),  # decode of the call and of the answer
    ("mean(turn_latency) - mean(first_token_latency) < 1", 0.9),
])
def test_deterministic_estimates_are_the_closed_forms_and_certain(single, text, estimate):
    row = check(single, text)
    assert row["estimate"] == pytest.approx(estimate, abs=1e-9)
    assert row["bound"] == pytest.approx(estimate, abs=1e-9)
    assert row["verdict"] == "pass"


@pytest.mark.parametrize("text,expected", [
    ("speedup_vs_sync >= 1.15", "pass"),
    ("speedup_vs_sync >= 1.16", "fail"),  # 4 / 3.45 = 1.1594
    ("p90(turn_latency) < 3.46", "pass"),
    ("p90(turn_latency) < 3.44", "fail"),
    ("p90(turn_latency) > 3.44", "pass"),
    ("hit_rate < 1", "fail"),
])
def test_deterministic_verdicts_are_exact(single, text, expected):
    assert check(single, text)["verdict"] == expected


def test_the_sync_policy_against_itself():
    turns = turns_of([A], policies=("sync",))
    row = check(turns, "speedup_vs_sync >= 1", policy="sync")
    assert row["estimate"] == row["bound"] == 1.0 and row["verdict"] == "pass"
    row = check(turns, "hit_rate > 0.5", policy="sync")  # no guesses: undefined
    assert row["estimate"] is None and row["verdict"] == "fail"


@pytest.fixture(scope="module")
def mixed():
    """Episodes A and B over 5 seeds: sync turn latencies 4.0 and 3.5, five units each."""
    return turns_of([A, B], seeds=5)


@pytest.mark.parametrize("text,expected", [
    ("mean(turn_latency) < 3.74", "fail"),    # the mean is 3.75
    ("mean(turn_latency) < 3.76", "unsure"),  # holds, but resamples heavy in A exceed it
    ("mean(turn_latency) < 4.0001", "pass"),  # no resample can exceed A's 4.0
    ("mean(turn_latency) > 3.4999", "pass"),
    ("max(turn_latency) < 4.001", "pass"),
    ("max(turn_latency) < 3.999", "fail"),
    ("min(turn_latency) > 3.499", "pass"),
])
def test_verdicts_on_two_known_episodes(mixed, text, expected):
    row = check(mixed, text, policy="sync")
    assert row["verdict"] == expected
    if text.startswith("mean"):
        assert row["estimate"] == pytest.approx(3.75)


def test_paired_speedup_on_two_episodes(mixed):
    row = check(mixed, "speedup_vs_sync > 1")
    assert row["estimate"] == pytest.approx(7.5 / 6.95)
    assert 1.0 < row["bound"] < row["estimate"]
    assert row["verdict"] == "pass"


def test_higher_confidence_gives_a_wider_bound(mixed):
    bounds = [check(mixed, "mean(turn_latency) < 5", "sync", c)["bound"]
              for c in (0.5, 0.9, 0.95, 0.99)]
    assert bounds == sorted(bounds) and bounds[0] < bounds[-1]


RANK = {"fail": 0, "unsure": 1, "pass": 2}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(3.4, 4.1), min_size=2, max_size=8))
def test_verdicts_change_monotonically_with_the_threshold(mixed, thresholds):
    stats = Bootstrap(mixed, "sync", seed=0)
    values = stats.mean("turn_latency")
    thresholds = sorted(thresholds)
    below = [RANK[verdict(parse_target(f"mean(turn_latency) < {x!r}")[0], values, 0.95)
                  ["verdict"]] for x in thresholds]
    above = [RANK[verdict(parse_target(f"mean(turn_latency) > {x!r}")[0], values, 0.95)
                  ["verdict"]] for x in thresholds]
    assert below == sorted(below) and above == sorted(above, reverse=True)


@st.composite
def tables(draw):
    """A random per-turn table: units with 1-4 turns each."""
    rows = []
    for unit in range(draw(st.integers(1, 12))):
        for turn in range(draw(st.integers(1, 4))):
            rows.append(("p", unit % 3, f"e{unit}", turn,
                         draw(st.floats(0, 10, allow_nan=False)), draw(st.integers(0, 5))))
    return pd.DataFrame(rows, columns=["policy", "replication", "episode", "turn",
                                       "turn_latency", "spec_guesses"])


@settings(max_examples=40, deadline=None)
@given(tables(), st.integers(1, 99), st.integers(0, 2**32))
def test_resampled_statistics_equal_those_of_the_repeated_turns(turns, q, seed):
    stats = Bootstrap(turns, "p", seed)
    values = turns.turn_latency.to_numpy()
    p, mean = stats.percentile(q, "turn_latency"), stats.mean("turn_latency")
    hi, lo = stats.max("turn_latency"), stats.min("turn_latency")
    for row in (0, 1, 2, len(stats.weights) - 1):
        drawn = np.repeat(values, stats.weights[row][stats.unit])
        assert p[row] == pytest.approx(np.percentile(drawn, q), rel=1e-12, abs=1e-12)
        assert mean[row] == pytest.approx(drawn.mean(), rel=1e-12, abs=1e-12)
        assert (hi[row], lo[row]) == (drawn.max(), drawn.min())
    assert (stats.weights[0] == 1).all()
    assert (stats.weights[1:].sum(axis=1) == stats.weights.shape[1]).all()


@pytest.fixture(scope="module")
def noisy():
    """Episodes A and B with a random tool latency and imperfect speculation."""
    sc = scenario(seeds=4, speculation={"accuracy": 0.7, "premature_rate": 0.1}, tools={
        "t0": {"latency": {"dist": "uniform", "low": 0.5, "high": 2.5}}, "t1": {"latency": 0.5}})
    return simulate(sc, [A, B], ["sync", "speculative"]).turns


def test_estimates_agree_with_the_run_summary(noisy):
    summary = summarize(noisy, 0)["speculative"]
    report = validate(noisy, "speculative", parse_target(
        "speedup_vs_sync > 0 and p90(turn_latency) > 0 and hit_rate > 0 and "
        "wasted_tokens_per_turn >= 0"), seed=0)
    estimates = [r["estimate"] for r in report["targets"]]
    assert estimates == pytest.approx([
        summary["speedup_vs_sync"]["mean"], summary["turn_latency"]["p90"],
        summary["speculation"]["hit_rate"], summary["wasted_tokens_per_turn"]], rel=1e-12)


def test_same_seed_same_verdict_and_the_seed_moves_the_bound(noisy):
    comparisons = parse_target("speedup_vs_sync < 2")
    a, b = (validate(noisy, "speculative", comparisons, seed=0) for _ in range(2))
    assert a == b
    other = validate(noisy, "speculative", comparisons, seed=1)["targets"][0]
    assert other["bound"] != a["targets"][0]["bound"]
    assert other["estimate"] == a["targets"][0]["estimate"]


# --- the command line ------------------------------------------------------------------

SCENARIO = """name: fixed
traces: {traces}
seeds: 2
speech: {{words_per_minute: 600}}
model: {{decode_rate: 10, prefill_rate: 1.0e+12}}
tools: {{default: {{latency: 2.0}}}}
"""
TRACE = ('{"id": "e1", "turns": [{"user": "what is the weather in Paris tomorrow", '
         '"steps": [{"calls": [{"id": "c1", "name": "get_weather", '
         '"arguments": {"city": "Paris"}, "output": "sunny"}]}], '
         '"answer": "It will be sunny in Paris."}]}\n')


@pytest.fixture
def fixed(tmp_path):
    """A deterministic scenario file next to its trace file."""
    (tmp_path / "t.jsonl").write_text(TRACE)
    path = tmp_path / "fixed.yaml"
    path.write_text(SCENARIO.format(traces=tmp_path / "t.jsonl"))
    return path


def invoke(*args):
    return CliRunner().invoke(main, ["validate", *args], catch_exceptions=False)


def test_pass_exits_0_and_prints_the_table(fixed):
    result = invoke("-p", "speculative", "-s", str(fixed), "--target", "speedup_vs_sync > 1",
                    "--target", "p90(turn_latency) < 60")
    assert result.exit_code == 0, result.output
    assert "speedup_vs_sync > 1" in result.output and "PASS: 2 of 2 targets" in result.output


def test_fail_exits_1_with_the_verdict_not_a_usage_error(fixed, tmp_path):
    out = tmp_path / "v" / "verdict.json"
    result = invoke("-p", "async", "-s", str(fixed), "--target", "mean(turn_latency) < 60",
                    "--target", "mean(turn_latency) < 0.5", "--json", str(out))
    assert result.exit_code == 1
    assert "FAIL: 1 of 2 targets" in result.output and "Usage" not in result.output
    report = json.loads(out.read_text())
    assert set(report) == {"scenario", "traces", "episodes", "seed", "seeds", "policy",
                           "confidence", "resamples", "targets", "verdict"}
    assert report["verdict"] == "fail" and report["policy"] == "async"
    assert [t["verdict"] for t in report["targets"]] == ["pass", "fail"]
    first = report["targets"][0]
    assert set(first) == {"name", "target", "statistic", "op", "threshold", "estimate",
                          "bound", "bound_side", "verdict"}
    assert (first["op"], first["threshold"], first["bound_side"]) == ("<", 60.0, "upper")
    assert first["estimate"] == first["bound"]  # deterministic: no spread


def test_json_to_stdout_keeps_the_table_off_it(fixed):
    separate = {"mix_stderr": False} if "mix_stderr" in inspect.signature(
        CliRunner).parameters else {}  # click < 8.2 mixes stderr into stdout by default
    result = CliRunner(**separate).invoke(main, ["validate", "-p", "sync", "-s", str(fixed),
                                                 "--target", "hit_rate > 0.5", "--json", "-"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["targets"][0]["estimate"] is None  # sync makes no guesses
    assert "FAIL" in result.stderr


def test_targets_file_next_to_the_scenario_is_the_default(fixed):
    fixed.with_name("fixed.targets.yaml").write_text(
        "targets:\n  - speedup_vs_sync >= 1\n"
        "  - {name: snappy, target: 'p50(first_audio_latency) < 60 and hit_rate > 0.5'}\n")
    result = invoke("-p", "speculative", "-s", str(fixed), "--json", "-")
    report = json.loads(result.output[result.output.index("{"):])
    assert [(t["name"], t["target"]) for t in report["targets"]] == [
        (None, "speedup_vs_sync >= 1"), ("snappy", "p50(first_audio_latency) < 60"),
        ("snappy", "hit_rate > 0.5")]
    assert result.exit_code == (0 if report["verdict"] == "pass" else 1)


def test_default_targets_path():
    assert default_targets_path("runs/x/config.yaml") == Path("runs/x/config.targets.yaml")
    assert default_targets_path("cloud-realtime").name == "cloud-realtime.targets.yaml"
    assert default_targets_path("cloud-realtime").parent.name == "scenarios"


def one_line_error(result):
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_bad_input_exits_2_with_one_line(fixed, tmp_path):
    line = one_line_error(invoke("-p", "sync", "-s", str(fixed), "--target", "p90(x) < 1"))
    assert "--target: target 'p90(x) < 1', column 5: unknown metric 'x'" in line
    line = one_line_error(invoke("-p", "sync", "-s", str(fixed)))
    assert "no targets: give --target EXPR or --targets FILE" in line
    assert f"none found at {fixed.with_name('fixed.targets.yaml')}" in line
    bad = tmp_path / "gate.yaml"
    for text, message in [
        ("targets: [p90(turn_latency) < 1, 'hit_rate >> 1']",
         f"{bad}: targets[1]: target 'hit_rate >> 1', column 11:"),
        ("targets: []", f"{bad}: targets: must be a non-empty list"),
        ("target: [hit_rate > 1]", f"{bad}: target: unknown key"),
        ("targets: [{name: x}]", f"{bad}: targets[0]: must be a target line or a mapping"),
        ("targets: [1, 2", f"{bad}: not valid YAML at line"),
        ("- hit_rate > 1", f"{bad}: expected a mapping with the key `targets`"),
    ]:
        bad.write_text(text)
        assert message in one_line_error(invoke("-p", "sync", "-s", str(fixed),
                                                "--targets", str(bad)))
    line = one_line_error(invoke("-p", "sync", "-s", str(fixed), "--targets", "missing.yaml",
                                 "--target", "hit_rate > 1"))
    assert "missing.yaml: cannot read" in line
    line = one_line_error(invoke("-p", "sync", "-s", str(fixed), "--target",
                                 "1/0 * mean(turn_latency) < 1"))
    assert line.endswith("column 1: division by zero in 1.0 / 0.0")
    assert invoke("-p", "fast", "--target", "hit_rate > 1").exit_code == 2
    assert invoke("-p", "sync", "--confidence", "1", "--target", "hit_rate > 1").exit_code == 2


def test_builtin_scenario_default_targets():
    path = default_targets_path("cloud-realtime")
    if not path.is_file():
        pytest.skip(f"{path} not installed")
    result = invoke("-p", "speculative", "--seeds", "2", "--json", "-")
    report = json.loads(result.output[result.output.index("{"):])
    assert len(report["targets"]) >= 1 and result.exit_code in (0, 1)


RTSIM = Path(sys.executable).with_name("rtsim")


@pytest.mark.skipif(not RTSIM.is_file() or not shutil.which("sh"), reason="no rtsim script")
@pytest.mark.parametrize("target,gate", [("mean(turn_latency) < 60", "ok"),
                                         ("mean(turn_latency) < 0.5", "blocked")])
def test_gates_a_shell_pipeline(fixed, target, gate):
    command = (f"'{RTSIM}' validate -p speculative -s '{fixed}' --target '{target}' "
               f">/dev/null && echo ok || echo blocked")
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == gate


@pytest.mark.parametrize("text,expected", [
    ("mean(wrong_unsafe_calls) == 0", "pass"),
    ("task_success_per_turn == 1", "pass"),
    ("min(tool_calls) == 1", "pass"),
    ("max(tool_calls) == 2", "fail"),
])
def test_equality_is_exact_on_a_deterministic_sample(single, text, expected):
    assert check(single, text)["verdict"] == expected


def test_equality_passes_only_when_both_bounds_equal_the_number():
    values = np.array([0.0] + [0.0] * 90 + [0.2] * 10)  # 10% of resamples differ
    (eq,) = parse_target("mean(wrong_calls) == 0")
    assert verdict(eq, values, 0.85)["verdict"] == "pass"
    row = verdict(eq, values, 0.95)
    assert (row["verdict"], row["bound"], row["bound_side"]) == ("unsure", 0.2, "upper")
    assert verdict(eq, np.full(11, 0.1), 0.95)["verdict"] == "fail"


def test_the_accuracy_cost_gates_a_pipeline():
    ep = episode([[call("c0", 10, known_at=2, name="t0", safe=False)]], answer_tokens=10)
    sc = scenario(seeds=20, speculation={"accuracy": 0.5, "confirm_error": 1.0}, tools=TOOLS)
    turns = simulate(sc, [ep], ["speculative"]).turns
    row = check(turns, "mean(task_success) >= 0.98")
    assert row["verdict"] == "fail"
    assert row["estimate"] == pytest.approx(1 - turns.wrong_unsafe_calls.mean())
