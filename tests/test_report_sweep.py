"""`rtsim report` on sweep folders: plots, tables and bad input."""

import json

import matplotlib.pyplot as plt
import pandas as pd

from rtsim.reports.inputs import load_input
from rtsim.reports.sweep_plots import key_figure
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
