"""`rtsim report` on run folders: reports, resimulation, default and telling episode, bad input."""

import contextlib
import json
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from rtsim.cli import report as report_module
from rtsim.engine.eventlog import EventRow
from rtsim.reports.episode import default_episode, episode_events, telling_turn
from rtsim.reports.inputs import load_input
from rtsim.reports.run_plots import latency_cdf
from rtsim.reports.run_report import lead_text
from rtsim.reports.timeline_data import turn_timeline
from rtsim.traces.sets import resolve_traces
from tests.report_helpers import POLICY_NAMES, invoke, one_error_line

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of the first four built-in episodes, 2 seeds: with and without --events."""
    root = tmp_path_factory.mktemp("runs")
    traces = root / "four.jsonl"
    lines = resolve_traces("assistant").read_text(encoding="utf-8").splitlines(keepends=True)
    traces.write_text("".join(lines[:4]), encoding="utf-8")
    common = ["run", "-t", traces, "--seeds", "2", "-p", "sync,async,speculative"]
    for name, extra in (("plain", []), ("events", ["--events"])):
        result = invoke(*common, "--out", root / name, *extra)
        assert result.exit_code == 0, result.output
    return root


def test_run_report_writes_documents_tables_and_valid_plots(runs, tmp_path):
    out = tmp_path / "rep"
    result = invoke("report", runs / "plain", "--out", out)
    assert result.exit_code == 0, result.output
    written = [line.removeprefix("wrote ") for line in result.output.splitlines()]
    assert written[:2] == [str(out / "report.md"), str(out / "report.html")]
    pngs = sorted(out.glob("*.png"))
    stems = {p.stem for p in pngs}
    assert {"latency-cdf", "speedup", "timeline-turn1"} <= stems
    assert {p.stem for p in out.glob("*.svg")} == stems
    assert sorted(str(p) for p in pngs) == sorted(w for w in written if w.endswith(".png"))
    for png in pngs:
        assert png.read_bytes().startswith(PNG_MAGIC)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,iVBORw0KGgo') == len(pngs)
    assert not re.search(r'(src|href)="(?!data:)', page)  # no external assets
    summary = json.loads((runs / "plain" / "summary.json").read_text())
    md = (out / "report.md").read_text(encoding="utf-8")
    for policy, entry in summary["policies"].items():
        sp = entry["speedup_vs_sync"]
        speed = f"{sp['mean']:.2f} [{sp['ci95'][0]:.2f}, {sp['ci95'][1]:.2f}]"
        cells = [policy, str(entry["turns"]), f"{entry['turn_latency']['p90']:.2f}",
                 f"{entry['first_audio_latency']['p50']:.2f}", speed]
        assert all(f"<td{' class=num' * (c != policy)}>{c}</td>" in page for c in cells)
        assert all(f"| {c} |" in md for c in cells)
    for png in pngs:
        assert f"]({png.name})" in md


def test_report_reruns_are_byte_identical_and_stale_timelines_go(runs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    b.mkdir()
    (b / "timeline-turn99.png").write_bytes(PNG_MAGIC)
    for out in (a, b):
        assert invoke("report", runs / "plain", "-o", out).exit_code == 0
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for path in a.iterdir():
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name


def test_resimulated_timeline_equals_the_recorded_events(runs):
    plain, events = load_input(runs / "plain"), load_input(runs / "events")
    assert plain.events is None and events.events is not None
    episode = str(plain.turns.episode.iloc[0])
    for replication in (0, 1):
        resim, note = episode_events(plain, episode, replication)
        recorded, _ = episode_events(events, episode, replication)
        assert "match the run" in note
        assert list(resim) == list(recorded) == list(POLICY_NAMES)
        for policy in POLICY_NAMES:
            assert recorded[policy] == resim[policy]
            assert turn_timeline(recorded[policy], 0) == turn_timeline(resim[policy], 0)


def test_resimulation_warns_when_the_run_no_longer_matches(runs, tmp_path):
    run = load_input(runs / "plain")
    turns = run.turns.assign(turn_latency=run.turns.turn_latency + 1.0)
    changed = type(run)(run.folder, run.summary, turns, run.config, None)
    _, note = episode_events(changed, str(turns.episode.iloc[0]), 0)
    assert note.startswith("WARNING") and "scenario or trace set changed" in note
    other = type(run)(run.folder, {**run.summary, "tokenizer": "other"}, turns, run.config, None)
    _, note = episode_events(other, str(turns.episode.iloc[0]), 0)
    assert "the run counted tokens with other, this report with estimate" in note


def test_report_with_episode_and_replication(runs, tmp_path):
    episode = load_input(runs / "events").turns.episode.iloc[-1]
    result = invoke("report", runs / "events", "--episode", episode, "--replication", 1,
                    "-o", tmp_path)
    assert result.exit_code == 0, result.output
    md = (tmp_path / "report.md").read_text()
    assert f"Episode `{episode}`, replication 1: given by --episode; events from events.csv" in md


def test_run_report_leads_with_the_turn_where_the_policies_differ_most(runs, tmp_path):
    assert invoke("report", runs / "plain", "-o", tmp_path).exit_code == 0
    md = (tmp_path / "report.md").read_text()
    episode = re.search(r"## Episode timeline: (\S+)", md).group(1)
    turns = load_input(runs / "plain").turns
    turns = turns[(turns.episode == episode) & (turns.replication == 0)]
    table = turns.pivot(index="turn", columns="policy", values="turn_latency")
    gaps = table.max(axis=1) - table.min(axis=1)
    lead = int(gaps.idxmax())
    assert gaps[lead] > 0.05  # the built-in episodes have a turn where speculation shows
    order = re.findall(r"!\[[^]]*\]\(timeline-turn(\d+)\.png\)", md)
    rest = sorted(set(range(1, len(table) + 1)) - {lead + 1})
    assert [int(n) for n in order] == [lead + 1, *rest]
    assert f"Turn {lead + 1} comes first: there the policies differ most (turn latency " \
        f"sync {table.sync[lead]:.2f} s," in md
    assert f"turn {lead + 1}, per policy: the turn where the policies differ most]" \
        f"(timeline-turn{lead + 1}.png)" in md
    assert {p.stem for p in tmp_path.glob("timeline-turn*.png")} == {
        f"timeline-turn{n}" for n in range(1, len(table) + 1)}


def _latency_rows(*latencies):
    """Event rows of an episode whose turn i ends latencies[i] s after the speech ends."""
    rows = []
    for turn, latency in enumerate(latencies):
        t = 10.0 * turn
        rows += [EventRow(t, turn, "speech_start"), EventRow(t + 1, turn, "speech_end"),
                 EventRow(t + 1 + latency, turn, "first_audio"),
                 EventRow(t + 1 + latency, turn, "turn_end")]
    return rows


def test_telling_turn_is_the_one_with_the_largest_latency_spread():
    panels = {"sync": _latency_rows(2.0, 3.0, 1.0), "async": _latency_rows(2.0, 2.5, 1.5),
              "speculative": _latency_rows(2.0, 1.5, 1.0)}
    turn, latencies = telling_turn(panels)
    assert turn == 1
    assert latencies == pytest.approx({"sync": 3.0, "async": 2.5, "speculative": 1.5})
    assert lead_text(turn, latencies, 3) == (
        "Turn 2 comes first: there the policies differ most (turn latency sync 3.00 s, "
        "async 2.50 s, speculative 1.50 s; 1.50 s between the slowest and the fastest); the "
        "other turns follow in order.")
    tie = {"sync": _latency_rows(2.0, 2.0), "speculative": _latency_rows(1.0, 1.0)}
    assert telling_turn(tie)[0] == 0  # the earliest of equal spreads
    same = {"sync": _latency_rows(2.0, 3.0), "async": _latency_rows(2.0, 3.0)}
    assert telling_turn(same) == (0, pytest.approx({"sync": 2.0, "async": 2.0}))
    assert lead_text(0, {"sync": 2.0, "async": 2.0}, 2).startswith(
        "The policies' turn latencies agree to 0.01 s on every turn")


# ---- default episode ---------------------------------------------------------------------

def _turns(rows):
    return pd.DataFrame(rows, columns=["policy", "replication", "episode", "turn",
                                       "turn_latency", "tool_calls"])


def test_default_episode_is_the_multi_call_one_closest_to_the_run_speedup():
    # overall speedup = (2 + 4 + 4 + 3) / (2 + 2 + 3.2 + 3) = 13 / 10.2 = 1.27;
    # e1 has one call; e2 speedup 2.0, e3 1.25, e4 1.0: e3 is closest.
    rows = []
    for ep, calls, sync, spec in (("e1", 1, 2.0, 2.0), ("e2", 2, 4.0, 2.0),
                                  ("e3", 3, 4.0, 3.2), ("e4", 2, 3.0, 3.0)):
        rows += [("sync", 0, ep, 0, sync, calls), ("speculative", 0, ep, 0, spec, calls)]
    assert default_episode(_turns(rows)) == "e3"
    without_sync = _turns([r for r in rows if r[0] != "sync"])
    assert default_episode(without_sync) == "e2"
    single = _turns([r for r in rows if r[2] == "e1"])
    assert default_episode(single) == "e1"


# ---- bad input ---------------------------------------------------------------------------

def test_missing_or_unrecognised_folder(tmp_path):
    assert "no such folder" in one_error_line(invoke("report", tmp_path / "nope"))
    assert "not a run (summary.json), sweep (sweep.yaml) or check (check.json)" in one_error_line(
        invoke("report", tmp_path))


def test_unknown_episode_and_replication(runs, tmp_path):
    line = one_error_line(invoke("report", runs / "plain", "--episode", "nope"))
    assert "--episode nope: not in the run (episodes: assistant-01-commute" in line
    assert not (runs / "plain" / "report").exists()
    line = one_error_line(invoke("report", runs / "plain", "--replication", 2, "-o", tmp_path))
    assert line == "Error: --replication 2: the run has replications 0..1"


def _copy_run(runs, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir(parents=True)
    for name in ("summary.json", "turns.csv", "config.yaml"):
        (folder / name).write_bytes((runs / "plain" / name).read_bytes())
    return folder


def test_broken_run_files(runs, tmp_path):
    folder = _copy_run(runs, tmp_path)
    (folder / "summary.json").write_text("{not json")
    assert "summary.json:1: not valid JSON" in one_error_line(invoke("report", folder))
    summary = json.loads((runs / "plain" / "summary.json").read_text())
    del summary["policies"]["async"]["turn_latency"]["p90"]
    (folder / "summary.json").write_text(json.dumps(summary))
    assert "missing key policies.async.turn_latency.p90" in one_error_line(
        invoke("report", folder))
    folder = _copy_run(runs, tmp_path / "2")
    turns = pd.read_csv(folder / "turns.csv").drop(columns=["turn_latency"])
    turns.to_csv(folder / "turns.csv", index=False)
    assert "turns.csv: missing column(s) turn_latency" in one_error_line(
        invoke("report", folder))


def test_a_trace_set_gone_since_the_run_leaves_out_only_the_timeline(runs, tmp_path):
    folder = _copy_run(runs, tmp_path)
    config = (folder / "config.yaml").read_text()
    gone = tmp_path / "gone.jsonl"
    (folder / "config.yaml").write_text(re.sub(r"(?m)^traces: .*$", f"traces: {gone}", config))
    result = invoke("report", folder)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "report: left out the episode timeline: the run kept no events (rtsim run --events) "
        f"and cannot be re-simulated: {folder / 'config.yaml'}: traces '{gone}': no such "
        "built-in trace set or file (built-in: assistant)\n")
    out = folder / "report"
    assert {p.name for p in out.glob("*.png")} == {"latency-cdf.png", "speedup.png"}
    assert "## Episode timeline\n\nLeft out: the run kept no events" in (
        out / "report.md").read_text()
    (folder / "config.yaml").unlink()
    result = invoke("report", folder)
    assert result.exit_code == 0 and result.stderr.endswith(f"{folder}: no config.yaml\n")


def test_help_shows_examples():
    result = invoke("report", "--help")
    assert result.exit_code == 0
    assert "rtsim report runs/latest --episode" in result.output
    assert "--replication" in result.output


def test_report_counts_its_figures_as_progress(runs, tmp_path, monkeypatch):
    steps = []

    @contextlib.contextmanager
    def recorder(total, unit):
        yield steps.append

    monkeypatch.setattr(report_module, "progress", recorder)
    assert invoke("report", runs / "plain", "-o", tmp_path).exit_code == 0
    assert sum(steps) == len(list(tmp_path.glob("*.png"))) > 2


def test_every_policy_stays_visible_in_the_cdf(runs):
    run = load_input(runs / "plain")
    fig = latency_cdf(run.turns, list(POLICY_NAMES))
    lines = {line.get_label().split()[0]: line for line in fig.axes[0].get_lines()
             if line.get_label().split()[0] in POLICY_NAMES}
    sync, rest = lines["sync"], [lines["async"], lines["speculative"]]
    assert sync.get_linestyle() == "--" and all(line.get_linestyle() == "-" for line in rest)
    assert all(sync.get_linewidth() > line.get_linewidth() for line in rest)
    assert sync.get_zorder() < rest[0].get_zorder() < rest[1].get_zorder()
    plt.close(fig)
