"""`rtsim report` on load sweeps: crossings, saturation, markers and load curves."""

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from rtsim.reports.inputs import load_input
from rtsim.reports.load_data import (
    Markers,
    Saturation,
    about_range,
    first_crossing,
    label_groups,
    log_axis,
    markers,
    saturation,
)
from rtsim.reports.load_plots import load_figure
from rtsim.reports.load_report import headline
from tests.report_helpers import POLICY_NAMES, invoke, one_error_line


def test_first_crossing_interpolates_on_the_plot_axis():
    # falling through 1 between 100 and 1000, halfway in log load: 10 ** 2.5
    assert first_crossing([10, 100, 1000], [1.2, 1.1, 0.9], 1.0, rising=False, log=True) == \
        pytest.approx(10 ** 2.5, rel=1e-12)
    assert first_crossing([16, 64, 128], [1.3, 1.1, 0.9], 1.0, rising=False, log=False) == \
        pytest.approx(96.0, rel=1e-12)
    assert first_crossing([3, 1, 2], [0.03, 0.0, 0.0], 0.01, rising=True, log=False) == \
        pytest.approx(2 + 1 / 3, rel=1e-12)  # unsorted input is sorted by load
    assert first_crossing([1, 2, 3], [float("nan"), 1.2, 0.8], 1.0, False, False) == 2.5
    assert first_crossing([5, 10], [0.9, 0.8], 1.0, rising=False, log=False) == 5.0
    assert first_crossing([5, 10], [1.1, 1.05], 1.0, rising=False, log=False) is None
    assert log_axis([16, 512]) and not log_axis([10, 100]) and not log_axis([0, 100])


def _load_rows(key, loads, **columns):
    return pd.DataFrame({key: loads, "policy": "speculative", **columns})


def test_saturation_rules():
    # 8x span: linear. Queue wait reaches 10 ms between 40 and 80: 40 + 40 * 0.005 / 0.095
    rows = _load_rows("server.sessions", [10, 20, 40, 80],
                      server_tokens_per_s=[100.0, 200, 400, 500],
                      server_mean_queue_wait=[0.0, 0, 0.005, 0.1])
    sat = saturation(rows, "server.sessions", log=False)
    assert sat.load == pytest.approx(40 + 40 * 0.005 / 0.095, rel=1e-12)
    assert sat.rule == "mean queue wait reaches 10 ms"
    # no queue: tokens/s per session 10, 10, 6.25, 3.125 -> share 0.625 to 0.3125 crosses
    # 0.5 at 40 + 40 * 0.4 = 56
    rows = rows.assign(server_tokens_per_s=[100.0, 200, 250, 250], server_mean_queue_wait=0.0)
    assert saturation(rows, "server.sessions", log=False) == Saturation(
        pytest.approx(56.0, rel=1e-12), "throughput per unit of load halves")
    calm = rows.assign(server_tokens_per_s=[100.0, 200, 400, 800])
    assert saturation(calm, "server.sessions", log=False) == Saturation(None)


def _load_sweep_dir(folder, key="server.sessions", loads=(1, 10, 100, 1000),
                    traces=("assistant",)):
    """A synthetic load sweep: speculative's interval leaves 1 between loads 3 and 4, its
    server queues from load 3 on; sync and async never saturate; load 1 is single-user."""
    nan = float("nan")
    (folder / "sweep.yaml").write_text(json.dumps({
        "scenario": "selfhosted-8b", "grid": {key: list(loads)},
        "policies": list(POLICY_NAMES), "traces": list(traces), "seeds": 1, "seed": 0}))
    speed = {"sync": [1.0] * 4, "async": [1.07, 1.06, 1.04, 1.03],
             "speculative": [1.3, 1.25, 1.1, 0.9]}
    tokens = {"sync": [nan, 100, 1000, 10000], "async": [nan, 100, 1000, 10000],
              "speculative": [nan, 100, 1000, 2000]}
    queue = {"sync": [nan, 0, 0, 0], "async": [nan, 0, 0, 0], "speculative": [nan, 0, 0, 0.1]}
    rows = []
    for trace in traces:
        for i, load in enumerate(loads):
            for policy in POLICY_NAMES:
                s, margin = speed[policy][i], 0.02 * (policy != "sync")
                rows.append({
                    "point": f"{i:05d}", key: load, "traces": trace, "policy": policy,
                    "turns": 30, "turn_latency_mean": 2.0 * load ** 0.1 / s,
                    "turn_latency_p50": 1.9 / s, "turn_latency_p90": 3.0 * load ** 0.1 / s,
                    "first_audio_latency_mean": 2.0 / s, "first_audio_latency_p90": 3.0 / s,
                    "speedup": s, "speedup_lo": s - margin, "speedup_hi": s + margin,
                    "spec_hit_rate": nan, "wasted_tokens_per_turn": 0.0,
                    "server_arrival_rate": tokens[policy][i] / 50,
                    "server_mean_in_system": tokens[policy][i] / 100,
                    "server_utilization": nan if i == 0 else min(1.0, 0.3 * i),
                    "server_mean_batch": tokens[policy][i] / 120,
                    "server_tokens_per_s": tokens[policy][i],
                    "server_mean_queue_wait": queue[policy][i]})
    pd.DataFrame(rows).to_csv(folder / "results.csv", index=False)
    return folder


def test_load_markers_on_a_synthetic_sweep(tmp_path):
    results = load_input(_load_sweep_dir(tmp_path)).results
    marks = markers(results, "server.sessions", list(POLICY_NAMES))
    # speculative's lower bound 1.08 -> 0.88 between 100 and 1000 (log axis): 10 ** 2.4
    assert marks["speculative"].gain == "ends"
    assert marks["speculative"].advantage == pytest.approx(10 ** 2.4, rel=1e-12)
    # queue wait 0 -> 0.1 s reaches 10 ms a tenth of the way: 10 ** 2.1 (before the
    # throughput share, 1 -> 0.2, halves at 10 ** 2.625)
    assert marks["speculative"].saturation == Saturation(
        pytest.approx(10 ** 2.1, rel=1e-12), "mean queue wait reaches 10 ms")
    assert marks["async"] == Markers("lasts", None, Saturation(None))
    assert marks["sync"] == Markers("none", None, Saturation(None))
    assert headline(marks, list(POLICY_NAMES), "sessions", 1000, 1) == (
        "speculative stops paying (no longer measurably faster than sync) at about 251 "
        "sessions, async stays faster than sync up to 1,000 sessions; the server saturates "
        "at about 126 sessions under speculative; the server does not saturate up to 1,000 "
        "sessions under sync and async.")
    never = results.assign(speedup_lo=results.speedup_lo.where(results.policy != "async", 0.99))
    assert markers(never, "server.sessions", ["async"])["async"].gain == "never"


def test_load_sweep_report_draws_the_load_curves(tmp_path):
    folder = _load_sweep_dir(tmp_path)
    result = invoke("report", folder)
    assert result.exit_code == 0, result.output
    out = folder / "report"
    assert {p.stem for p in out.glob("*.png")} == {"speedup-points", "load-server.sessions"}
    md = (out / "report.md").read_text()
    assert "Load curves over `server.sessions`. Speculative stops paying" in md
    assert "| speculative | ~251 | ~126 | mean queue wait reaches 10 ms |" in md
    assert "| async | beyond the range | beyond the range | - |" in md
    assert "| 00003 | 1000 | assistant | speculative | 40.0 | 20.0 | 90% | 16.7 | 2000 | 0.100 |" \
        in md
    assert invoke("report", folder, "-o", tmp_path / "again").exit_code == 0
    for path in out.iterdir():
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes(), path.name


def test_arrival_rate_sweep_over_two_trace_sets_draws_one_figure_each(tmp_path):
    folder = _load_sweep_dir(tmp_path, "server.arrival_rate", (0.5, 1.0, 2.0, 4.0),
                             traces=("assistant", "bfcl"))
    assert invoke("report", folder, "-o", tmp_path / "r").exit_code == 0
    assert {p.stem for p in (tmp_path / "r").glob("load-*.png")} == {
        "load-server.arrival_rate-1", "load-server.arrival_rate-2"}
    md = (tmp_path / "r" / "report.md").read_text()
    # linear axis (8x): 2 + 2 * 0.08 / 0.2 = 2.8 new conversations/s
    assert "| traces=bfcl | speculative | ~2.8 |" in md


def test_a_load_sweep_without_server_columns_is_refused(tmp_path):
    folder = _load_sweep_dir(tmp_path)
    pd.read_csv(folder / "results.csv").drop(columns=["server_mean_queue_wait"]).to_csv(
        folder / "results.csv", index=False)
    assert "results.csv: missing column(s) server_mean_queue_wait" in one_error_line(
        invoke("report", folder))


def test_nearby_markers_share_one_label():
    close = {"sync": 260.0, "async": 263.0, "speculative": 257.0}
    assert label_groups(close, [16, 512], log=True) == [
        (("speculative", "sync", "async"), 257.0, 263.0)]
    # 4% of ln(32) is a ratio of 1.149: 146 -> 186 -> 256 stay apart
    apart = {"sync": 186.0, "async": 256.0, "speculative": 146.0}
    assert label_groups(apart, [16, 512], log=True) == [
        (("speculative",), 146.0, 146.0), (("sync",), 186.0, 186.0), (("async",), 256.0, 256.0)]
    # chained: each within 10% of the previous, so one label for 100..121
    assert label_groups({"a": 100.0, "b": 110.0, "c": 121.0}, [16, 512], log=True) == [
        (("a", "b", "c"), 100.0, 121.0)]
    # linear axis 0..100: 3.9 apart merge, 4.1 apart do not
    assert label_groups({"a": 50.0, "b": 53.9, "c": 58.0}, [0, 100], log=False) == [
        (("a", "b"), 50.0, 53.9), (("c",), 58.0, 58.0)]
    assert about_range(257.0, 263.0) == "~257\u2013263"
    assert about_range(259.6, 260.4) == "~260"


def _figure_labels(results, marks):
    fig = load_figure(results, "server.sessions", list(POLICY_NAMES), marks, "t")
    speed, queue = fig.axes[1], fig.axes[4]
    texts = ([(t.get_text(), t.get_color()) for t in ax.texts] for ax in (speed, queue))
    plt.close(fig)
    return tuple(texts)


def test_load_figure_merges_the_labels_of_coinciding_markers(tmp_path):
    results = load_input(_load_sweep_dir(tmp_path)).results
    marks = {"sync": Markers("none", None, Saturation(260.0, "r")),
             "async": Markers("ends", 310.0, Saturation(263.0, "r")),
             "speculative": Markers("ends", 300.0, Saturation(257.0, "r"))}
    speed, queue = _figure_labels(results, marks)
    assert speed == [("speculative, async gone at ~300\u2013310 sessions", "#333333")]
    assert queue == [("speculative, sync, async saturate ~257\u2013263", "#333333")]
    marks["sync"] = Markers("none", None, Saturation(100.0, "r"))
    marks["async"] = Markers("lasts", None, Saturation(None))
    speed, queue = _figure_labels(results, marks)
    assert speed == [("speculative gone at ~300 sessions", "#d95f02")]
    assert queue == [("sync saturates ~100", "#555555"),
                     ("speculative saturates ~257", "#d95f02")]


def test_steady_state_columns_replace_the_whole_run_ones(tmp_path):
    """With server_steady_* columns the server table shows them and the window; throughput
    halving is then read from the steady-state tokens/s."""
    folder = _load_sweep_dir(tmp_path)
    frame = pd.read_csv(folder / "results.csv", dtype={"point": str})
    whole = frame.server_tokens_per_s
    frame = frame.assign(server_steady_from=10.0, server_steady_to=90.0,
                         server_steady_utilization=0.97, server_steady_mean_batch=3.0,
                         server_steady_tokens_per_s=whole * 1.5,
                         server_steady_turn_latency_mean=2.0,
                         server_steady_too_short=(frame.point == "00003").astype(float),
                         server_tokens_per_s=whole.where(frame.point != "00002", 1.0))
    frame.to_csv(folder / "results.csv", index=False)
    results = load_input(folder).results
    marks = markers(results, "server.sessions", list(POLICY_NAMES))
    assert marks["sync"].saturation == Saturation(None)  # the whole-run dip is not read
    result = invoke("report", folder)
    assert result.exit_code == 0, result.output
    md = (folder / "report" / "report.md").read_text()
    assert "| 00002 | 100 | assistant | sync | 20.0 | 10.0 | 97% | 3.0 | 1500 | 0.000 | 10-90 |" \
        in md
    assert "| 10-90 too short |" in md
