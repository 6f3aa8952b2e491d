"""`rtsim report` on check folders: tables, plots, measured vs simulated timelines, bad input."""

import json

from rtsim.engine.pieces import Run
from rtsim.engine.runner import tables
from rtsim.policies import POLICIES
from rtsim.reports.check_inputs import CheckInput
from rtsim.reports.check_report import check_panels
from rtsim.reports.inputs import load_input
from rtsim.reports.timeline_data import (
    DECODE,
    OUTPUT,
    PREFILL,
    REQUEST,
    SPEECH,
    Mark,
    Segment,
    Timeline,
    turn_timeline,
    without_empty_lanes,
)
from tests import helpers as h
from tests.report_helpers import invoke, one_error_line

CHECK_POLICIES = ("sync", "speculative")


def _stats(mean, p50, p90):
    return {"mean": mean, "p50": p50, "p90": p90}


def _check_json():
    return {
        "backend": "http://127.0.0.1:9/v1", "model": "tiny", "scenario": "edge-3b-check",
        "traces": "test", "episodes": ["ep", "ep2"], "compared_episodes": ["ep"],
        "policies": {
            "sync": {"turns": 1, "measured": _stats(4.0, 4.0, 4.0),
                     "simulated": _stats(3.0, 3.0, 3.0),
                     "relative_error": _stats(-0.25, -0.25, -0.25), "mape": 0.25,
                     "first_audio_mean": {"measured": 3.5, "simulated": 2.75},
                     "speedup_vs_sync": {"measured": 1.0, "simulated": 1.0,
                                         "relative_error": 0.0}},
            "speculative": {"turns": 1, "measured": _stats(2.0, 2.0, 2.0),
                            "simulated": _stats(2.5, 2.5, 2.5),
                            "relative_error": _stats(0.25, 0.25, 0.25), "mape": 0.125,
                            "first_audio_mean": {"measured": 1.5, "simulated": 2.25},
                            "speedup_vs_sync": {"measured": 2.0, "simulated": 1.2,
                                                "relative_error": -0.4}}},
        "fidelity": {"speedup_error_max": 0.4, "speedup_tolerance": 0.1, "mape_max": 0.25,
                     "mape_tolerance": 0.15, "passed": False},
        "failures": [{"policy": "speculative", "episode": "ep2", "error": "HTTP 500 from server"}],
        "complete": False}


def _check_dir(folder):
    """A check folder: episode 'ep' 'measured' with a 0.2 s round trip, simulated without;
    episode 'ep2' failed under speculative, so only its sync run is in the real tables."""
    ep = h.episode([[h.call("a", 10), h.call("b", 10)]])
    measured, simulated = h.scenario(network={"rtt": 0.2}), h.scenario()
    real = [Run(p, 0, "ep", h.run(ep, POLICIES[p], measured)) for p in CHECK_POLICIES]
    real.append(Run("sync", 0, "ep2", h.run(ep, POLICIES["sync"], measured)))
    sim = [Run(p, 0, "ep", h.run(ep, POLICIES[p], simulated)) for p in CHECK_POLICIES]
    for side, runs in (("real", real), ("sim", sim)):
        turns, events = tables(runs)
        turns.to_csv(folder / f"{side}_turns.csv", index=False)
        events.to_csv(folder / f"{side}_events.csv", index=False)
    (folder / "check.json").write_text(json.dumps(_check_json()))
    (folder / "profile.yaml").write_text("name: edge-3b-check\n")
    return folder


def test_check_report_has_the_tables_plots_and_a_measured_vs_simulated_timeline(tmp_path):
    folder = _check_dir(tmp_path)
    result = invoke("report", folder)
    assert result.exit_code == 0, result.output
    out = folder / "report"
    stems = {p.stem for p in out.glob("*.png")}
    assert stems == {"check-scatter", "check-cdf", "check-speedup", "timeline-turn1"}
    assert stems == {p.stem for p in out.glob("*.svg")}
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    md = (out / "report.md").read_text()
    assert "| sync | 1 | 4.00 | 4.00 | 4.00 | 3.00 | 3.00 | 3.00 | -25.0% | -25.0% | -25.0% " \
           "| 25.0% | 3.50 | 2.75 |" in md
    assert "| speculative | 2.00 | 1.20 | -40.0% | no |" in md
    assert "| per-turn latency MAPE | 25.0% | 15.0% | no |" in md
    assert "| speculative | ep2 | HTTP 500 from server |" in md
    assert "Verdict: FAILED." in md and "INCOMPLETE" in md
    # ep2 is not compared (no speculative run): 1 of 2 episodes, 2 turn pairs
    assert "2 episodes measured, 1 compared (2 turn pairs)" in md
    assert "Episode `ep` (the compared multi-call episode" in md
    assert "![Episode ep, turn 1, measured vs simulated](timeline-turn1.png)" in md


def test_check_timeline_panels_are_the_measured_and_simulated_events(tmp_path):
    check = load_input(_check_dir(tmp_path))
    assert isinstance(check, CheckInput)
    panels = check_panels(check, "ep", list(CHECK_POLICIES))
    assert list(panels) == ["sync, measured", "sync, simulated", "speculative, measured",
                            "speculative, simulated"]
    sim_sync = h.run(h.episode([[h.call("a", 10), h.call("b", 10)]]), POLICIES["sync"],
                     h.scenario())
    assert panels["sync, simulated"] == [tuple(r) for r in sim_sync]
    overhead = [s for s in turn_timeline(panels["sync, measured"], 0).segments
                if s.kind == "overhead"]
    assert [round(s.end - s.start, 9) for s in overhead] == [0.2, 0.2]  # the 0.2 s round trip


def test_measured_panels_draw_whole_requests_and_empty_lanes_go(tmp_path):
    check = load_input(_check_dir(tmp_path))
    panels = check_panels(check, "ep", list(CHECK_POLICIES))
    rows = panels["sync, measured"]
    measured, simulated = without_empty_lanes([turn_timeline(rows, 0, measured=True),
                                               turn_timeline(panels["sync, simulated"], 0)])
    # measured: one lane for the model; simulated: rtt 0 and no overhead, so no set-up lane
    assert measured.lanes == (SPEECH, REQUEST, "tool (a)", "tool (b)", OUTPUT)
    assert simulated.lanes == (SPEECH, PREFILL, DECODE, "tool (a)", "tool (b)", OUTPUT)
    requests = [(s.lane, s.kind, s.start, s.end, s.label)
                for s in measured.segments if s.lane == REQUEST]
    assert requests == list(zip([REQUEST] * 2, ["request"] * 2, h.times(rows, "gen_start"),
                                h.times(rows, "gen_end"), ["call", "answer"], strict=True))
    a = Timeline(("x", "y", "z"), (Segment("x", "speech", 0, 1),), (), 0, 1)
    b = Timeline(("x", "y", "z"), (), (Mark("z", "endpoint", 0.5),), 0, 1)
    assert [t.lanes for t in without_empty_lanes([a, b])] == [("x", "z"), ("x", "z")]
    result = invoke("report", check.folder)
    assert result.exit_code == 0, result.output
    assert "one model lane, 'model: request (measured)'" in (
        check.folder / "report" / "report.md").read_text()


def test_bad_check_folders_stop_with_one_line(tmp_path):
    folder = _check_dir(tmp_path)
    (folder / "check.json").write_text("{not json")
    assert "check.json:1: not valid JSON (Expecting property name" in one_error_line(
        invoke("report", folder))
    broken = _check_json()
    del broken["policies"]["speculative"]["measured"]["p90"]
    (folder / "check.json").write_text(json.dumps(broken))
    assert "check.json: missing key policies.speculative.measured.p90" in one_error_line(
        invoke("report", folder))
    broken = _check_json()
    broken["policies"]["sync"]["mape"] = "low"
    (folder / "check.json").write_text(json.dumps(broken))
    assert "check.json: policies.sync.mape must be a number, not 'low'" in one_error_line(
        invoke("report", folder))
    (folder / "check.json").write_text(json.dumps(_check_json()))
    assert "--episode nope: not among the compared episodes (ep)" in one_error_line(
        invoke("report", folder, "--episode", "nope"))
    assert "--replication: only for a run folder" in one_error_line(
        invoke("report", folder, "--replication", 0))
    (folder / "sim_turns.csv").unlink()
    assert "no sim_turns.csv" in one_error_line(invoke("report", folder))
    assert not (folder / "report").exists()
