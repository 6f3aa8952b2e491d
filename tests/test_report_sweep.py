"""`rtsim report` on sweep folders: plots, tables and bad input."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rtsim.reports.inputs import load_input
from rtsim.reports.sweep_plots import key_figure, points_figure
from tests.report_helpers import POLICY_NAMES, invoke, one_error_line


def _sweep_dir(tmp_path, grid, traces=("assistant", "bfcl")):
    """A synthetic sweep folder: speedup grows with latency and falls with silence."""
    keys = list(grid)
    (tmp_path / "sweep.yaml").write_text(json.dumps({
        "scenario": "cloud-realtime", "grid": grid, "policies": list(POLICY_NAMES),
        "traces": list(traces), "seeds": 3, "seed": 0}))
    rows, index = [], 0
    points = pd.MultiIndex.from_product([grid[k] for k in keys]).tolist()
    for trace in traces:
        for values in points:
            values = values if isinstance(values, tuple) else (values,)
            for policy in POLICY_NAMES:
                boost = {"sync": 0.0, "async": 0.05, "speculative": 0.2}[policy]
                speed = 1.0 + boost * values[0] / (1 + (values[1] if len(values) > 1 else 0))
                rows.append({"point": f"{index:05d}", **dict(zip(keys, values, strict=True)),
                             "traces": trace, "policy": policy, "seed": 1, "episodes": 4,
                             "turns": 12, "turn_latency_mean": 3.0 / speed,
                             "turn_latency_p50": 2.9 / speed, "turn_latency_p90": 5.0 / speed,
                             "first_audio_latency_mean": 3.1 / speed,
                             "first_audio_latency_p90": 5.1 / speed, "speedup": speed,
                             "speedup_lo": speed - 0.1 * boost, "speedup_hi": speed + 0.1 * boost,
                             "spec_hit_rate": 0.75 if policy == "speculative" else float("nan"),
                             "wasted_tokens_per_turn": 9.5 * (policy == "speculative"),
                             "model_busy_per_turn": 0.7})
            index += 1
    pd.DataFrame(rows).to_csv(tmp_path / "results.csv", index=False)
    return tmp_path


def test_two_key_sweep_report_has_every_plot_and_the_table(tmp_path):
    folder = _sweep_dir(tmp_path, {"tools.default.latency": [0.5, 1.0, 2.0],
                                   "endpointing.silence": [0.0, 1.0]})
    result = invoke("report", folder)
    assert result.exit_code == 0, result.output
    out = folder / "report"
    stems = {p.stem for p in out.glob("*.png")}
    assert stems == {"speedup-points", "sweep-tools.default.latency",
                     "sweep-endpointing.silence",
                     "heatmap-tools.default.latency-endpointing.silence"}
    assert stems == {p.stem for p in out.glob("*.svg")}
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    # speculative at latency 2, silence 0: 1 + 0.2 * 2 = 1.40 [1.38, 1.42]; sync is 1.00
    assert "<td class=num>1.40 [1.38, 1.42]</td>" in page
    assert "<td class=num>1.00 [1.00, 1.00]</td>" in page
    md = (out / "report.md").read_text()
    assert "| 00005 | 2 | 1 | assistant | speculative | 12 |" in md
    assert len([line for line in md.splitlines() if line.startswith("| 0")]) == 2 * 6 * 3


def test_one_key_sweep_report_has_no_heatmap(tmp_path):
    folder = _sweep_dir(tmp_path, {"model.decode_rate": [30, 60, 120]}, traces=("assistant",))
    assert invoke("report", folder, "-o", tmp_path / "r").exit_code == 0
    assert {p.stem for p in (tmp_path / "r").glob("*.png")} == {
        "speedup-points", "sweep-model.decode_rate"}


def test_sync_line_stays_visible_under_an_identical_async_line(tmp_path):
    data = load_input(_sweep_dir(tmp_path, {"model.decode_rate": [30, 60]}, ("assistant",)))
    fig = key_figure(data.results, data.keys, "model.decode_rate", list(POLICY_NAMES))
    lines = {line.get_label(): line for line in fig.axes[1].get_lines()}  # the p90 panel
    sync, other = lines["sync"], lines["async"]
    assert (sync.get_linestyle(), sync.get_marker()) == ("--", "s")
    assert sync.get_linewidth() > other.get_linewidth()
    assert sync.get_zorder() < other.get_zorder()  # drawn underneath
    plt.close(fig)


# ---- bad input ---------------------------------------------------------------------------

def test_broken_sweep_files(tmp_path):
    folder = _sweep_dir(tmp_path, {"endpointing.silence": [0.2, 0.5]})
    results = pd.read_csv(folder / "results.csv")
    results.assign(speedup="fast").to_csv(folder / "results.csv", index=False)
    assert "results.csv: column speedup is not numeric" in one_error_line(
        invoke("report", folder))
    results.drop(columns=["endpointing.silence"]).to_csv(folder / "results.csv", index=False)
    assert "missing column(s) endpointing.silence" in one_error_line(invoke("report", folder))
    (folder / "sweep.yaml").write_text("grid: {endpointing.silence: []}\n")
    assert "grid.endpointing.silence must be a non-empty list" in one_error_line(
        invoke("report", folder))
    (folder / "sweep.yaml").write_text("grid: [\n")
    assert "sweep.yaml: not valid YAML" in one_error_line(invoke("report", folder))


def test_episode_option_on_a_sweep_is_refused(tmp_path):
    folder = _sweep_dir(tmp_path, {"endpointing.silence": [0.2, 0.5]})
    assert "only for a run or check folder" in one_error_line(
        invoke("report", folder, "--episode", "x"))


def test_a_sweep_report_leads_with_a_summary_and_plots_and_ends_with_the_table(tmp_path):
    folder = _sweep_dir(tmp_path, {"tools.default.latency": [0.5, 1.0, 2.0],
                                   "endpointing.silence": [0.0, 1.0]})
    assert invoke("report", folder).exit_code == 0
    md = (folder / "report" / "report.md").read_text()
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == [
        "Against tools.default.latency", "Against endpointing.silence",
        "Heatmap: tools.default.latency x endpointing.silence",
        "Speedup vs sync at every point", "Results"]
    assert ("; 6 points. Source: " in md and "\n\nSpeculative is faster than sync at 12 of 12 "
            "points and trace sets (95% interval clear of 1), speedup 1.05-1.40: most at "
            "latency=2 s, silence=0 s, traces assistant (1.40 [1.38, 1.42]), least at "
            "latency=0.5 s, silence=1 s, traces assistant (1.05 [1.03, 1.07]). Async is "
            "faster than sync at 12 of 12 points and trace sets") in md
    page = (folder / "report" / "report.html").read_text()
    assert page.index("<img") < page.index("<div class=table><table>")
    assert ".table { overflow: auto; max-height: 36em;" in page


def test_a_partial_sweep_says_how_many_points_of_the_grid(tmp_path):
    folder = _sweep_dir(tmp_path, {"endpointing.silence": [0.2, 0.5, 0.8]}, ("assistant",))
    results = pd.read_csv(folder / "results.csv")
    results[results.point != 2].to_csv(folder / "results.csv", index=False)
    assert invoke("report", folder).exit_code == 0
    assert "; 2 of 3 points. Source: " in (folder / "report" / "report.md").read_text()


def _labels_apart(ax) -> float:
    """The smallest distance, as a share of the x axis, between two shown tick labels."""
    shown = [t.get_position()[0] for t in ax.get_xticklabels() if t.get_text()]
    scale = np.log if ax.get_xscale() == "log" else np.asarray
    at = scale(np.asarray(shown, dtype=float))
    return float(np.min(np.diff(at)) / (at[-1] - at[0]))


@pytest.mark.parametrize("values, log, shown", [
    ([0.25, 0.5, 1, 2, 4], True, ["0.25", "0.5", "1", "2", "4"]),
    ([1.0, 1.05, 1.1, 3.0, 5.0], False, ["1", "", "", "3", "5"])])
def test_x_labels_never_touch_and_panels_name_their_unit(tmp_path, values, log, shown):
    data = load_input(_sweep_dir(tmp_path, {"tools.default.latency": values,
                                            "endpointing.silence": [0.0, 1.0]}, ("assistant",)))
    fig = key_figure(data.results, data.keys, "tools.default.latency", list(POLICY_NAMES))
    bottom = fig.axes[2]
    assert (bottom.get_xscale() == "log") is log
    assert _labels_apart(bottom) >= 0.07
    assert [t.get_text() for t in bottom.get_xticklabels()] == shown
    assert fig.axes[0].get_title() == "silence = 0 s"
    assert bottom.get_xlabel() == "tools.default.latency (s)" + (", log scale" if log else "")
    plt.close(fig)


def test_the_points_chart_keeps_a_readable_height(tmp_path):
    grid = {"tools.default.latency": [0.25, 0.5, 1, 2, 4], "endpointing.silence": [0.2, 0.4, 0.6],
            "speculation.accuracy": [0.7, 0.8, 0.9, 1.0]}
    data = load_input(_sweep_dir(tmp_path, grid, ("assistant",)))
    fig = points_figure(data.results, data.keys, list(POLICY_NAMES))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 30 and fig.get_size_inches()[1] <= 2.2 + 0.32 * 30
    assert labels[0] == "latency=4 s, silence=0.2 s, accuracy=0.7"  # the largest speedup
    assert labels[-1].startswith("latency=0.25 s, silence=0.6 s")  # the smallest
    assert "the 15 of 60 points where speculative gains most" in fig.get_suptitle()
    plt.close(fig)
