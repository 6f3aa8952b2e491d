"""`rtsim report`: run, sweep, load-sweep and check reports, timelines, markers, bad input."""

import json
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from click.testing import CliRunner
from rtsim.cli import main
from rtsim.policies import POLICIES
from rtsim.real.check_folder import tables
from rtsim.reports.check_inputs import CheckInput
from rtsim.reports.check_report import check_panels
from rtsim.reports.episode import default_episode, episode_events, telling_turn
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
from rtsim.reports.run_report import lead_text
from rtsim.reports.sweep_plots import key_figure
from rtsim.reports.timeline_data import (
    DECODE,
    OUTPUT,
    OVERHEAD,
    PREFILL,
    REQUEST,
    SPEECH,
    Mark,
    Segment,
    Timeline,
    turn_timeline,
    without_empty_lanes,
)
from rtsim.traces.sets import resolve_traces

from tests import helpers as h

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POLICY_NAMES = ("sync", "async", "speculative")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


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
        rows += [(t, turn, "speech_start", 0, "", 0, 0, 0.0, ""),
                 (t + 1, turn, "speech_end", 0, "", 0, 0, 0.0, ""),
                 (t + 1 + latency, turn, "first_audio", 0, "", 0, 0, 0.0, ""),
                 (t + 1 + latency, turn, "turn_end", 0, "", 0, 0, 0.0, "")]
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


# ---- timeline swimlanes on deterministic episodes ------------------------------------------

def _premature_scenario(rtt):
    """10 tokens/s decode, 100 tokens/s prefill, 0.5 s tools; every partial guesses early."""
    return h.scenario(network={"rtt": rtt}, model={"prefill_rate": 100},
                      tools={"default": {"latency": 0.5}},
                      speculation={"premature_rate": 1.0})


def _approx(items):
    return tuple(pytest.approx(x, abs=1e-9) if isinstance(x, float) else x for x in items)


def _as_tuples(segments):
    return [(s.lane, s.kind, s.start, s.end, s.label, s.speculative, s.stopped, s.wasted)
            for s in segments]


def test_swimlanes_of_a_revised_speculative_call_are_exact():
    # 8 words at 0.1 s; partials every 0.25 s; call a (1 token, arguments heard after word 5)
    # is guessed early at 0.25 s, runs from 0.47 s, is cancelled and revised at 0.5 s.
    ep = h.episode([[h.call("a", 1, known_at=4)], [h.call("b", 2, deps=["a"], safe=False)]],
                   answer_tokens=3)
    rows = h.run(ep, POLICIES["speculative"], _premature_scenario(0.1))
    tl = turn_timeline(rows, 0)
    a1, a2, b = "tool (a)", "tool (a, try 2)", "tool (b)"
    assert tl.lanes == (SPEECH, OVERHEAD, PREFILL, DECODE, a1, a2, b, OUTPUT)
    playback_end = h.times(rows, "playback_end")[0]
    expected = [
        (SPEECH, "speech", 0.0, 0.8, "", False, False, False),
        # the early guess: rtt 0.1, 2 tokens read, 1 written; wasted
        (OVERHEAD, "overhead", 0.25, 0.35, "call", False, False, True),
        (PREFILL, "prefill", 0.35, 0.37, "call", False, False, True),
        (DECODE, "decode", 0.37, 0.47, "call", False, False, True),
        # the revision once the arguments are heard
        (OVERHEAD, "overhead", 0.5, 0.6, "call", False, False, False),
        (PREFILL, "prefill", 0.6, 0.66, "call", False, False, False),
        (DECODE, "decode", 0.66, 0.76, "call", False, False, False),
        (PREFILL, "prefill", 0.76, 0.79, "input", False, False, False),
        (PREFILL, "prefill", 0.8, 0.82, "input", False, False, False),
        # b after a's result: 10 result tokens read, 2 written
        (OVERHEAD, "overhead", 1.26, 1.36, "call", False, False, False),
        (PREFILL, "prefill", 1.36, 1.46, "call", False, False, False),
        (DECODE, "decode", 1.46, 1.66, "call", False, False, False),
        (OVERHEAD, "overhead", 2.16, 2.26, "answer", False, False, False),
        (PREFILL, "prefill", 2.26, 2.36, "answer", False, False, False),
        (DECODE, "decode", 2.36, 2.66, "answer", False, False, False),
        (a1, "tool", 0.47, 0.5, "tool", True, True, True),
        (a2, "tool", 0.76, 1.26, "tool", True, False, False),
        (b, "tool", 1.66, 2.16, "tool", False, False, False),
        (OUTPUT, "playback", 2.46, playback_end, "", False, False, False),
    ]
    assert _as_tuples(tl.segments) == [_approx(e) for e in expected]
    assert tl.marks == (Mark(SPEECH, "transcript", 0.25), Mark(SPEECH, "transcript", 0.5),
                        Mark(a1, "discard", 0.5), Mark(SPEECH, "transcript", 0.75),
                        Mark(SPEECH, "endpoint", pytest.approx(0.8)),
                        Mark(OUTPUT, "answer_done", pytest.approx(2.66)))
    assert (tl.start, tl.end) == (0, playback_end)


def test_a_request_stopped_while_writing_is_marked_stopped_on_its_last_bar_only():
    # 10-token call guessed at 0.25 s (rtt 0.2 s, 2 tokens read) and revised at 0.5 s.
    ep = h.episode([[h.call("a", 10, known_at=4)]], answer_tokens=5)
    rows = h.run(ep, POLICIES["speculative"], _premature_scenario(0.2))
    first = [s for s in turn_timeline(rows, 0).segments if 0.25 <= s.start < 0.5]
    assert _as_tuples(first) == [_approx(e) for e in [
        (OVERHEAD, "overhead", 0.25, 0.45, "call", False, False, True),
        (PREFILL, "prefill", 0.45, 0.47, "call", False, False, True),
        (DECODE, "decode", 0.47, 0.5, "call", False, True, True)]]


def test_sync_swimlanes_have_no_transcripts_and_no_waste():
    ep = h.episode([[h.call("a", 10), h.call("b", 10)]])
    tl = turn_timeline(h.run(ep, POLICIES["sync"], h.scenario()), 0)
    assert [m.kind for m in tl.marks] == ["endpoint", "answer_done"]
    tools = [s for s in tl.segments if s.kind == "tool"]
    assert [(s.lane, s.start) for s in tools] == [("tool (a)", pytest.approx(2.8)),
                                                  ("tool (b)", pytest.approx(2.8))]
    assert not any(s.wasted or s.stopped or s.speculative for s in tl.segments)
    assert isinstance(tl.segments[0], Segment) and tl.segments[0].lane == SPEECH


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


# ---- sweeps ------------------------------------------------------------------------------

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


# ---- bad input ---------------------------------------------------------------------------

def test_sync_line_stays_visible_under_an_identical_async_line(tmp_path):
    data = load_input(_sweep_dir(tmp_path, {"model.decode_rate": [30, 60]}, ("assistant",)))
    fig = key_figure(data.results, data.keys, "model.decode_rate", list(POLICY_NAMES))
    lines = {line.get_label(): line for line in fig.axes[1].get_lines()}  # the p90 panel
    sync, other = lines["sync"], lines["async"]
    assert (sync.get_linestyle(), sync.get_marker()) == ("--", "s")
    assert sync.get_linewidth() > other.get_linewidth()
    assert sync.get_zorder() < other.get_zorder()  # drawn underneath
    plt.close(fig)


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
    assert "summary.json: not valid JSON" in one_error_line(invoke("report", folder))
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


def test_a_trace_set_gone_since_the_run_stops_before_writing(runs, tmp_path):
    folder = _copy_run(runs, tmp_path)
    config = (folder / "config.yaml").read_text()
    gone = tmp_path / "gone.jsonl"
    (folder / "config.yaml").write_text(re.sub(r"(?m)^traces: .*$", f"traces: {gone}", config))
    assert f"traces '{gone}': no such built-in trace set or file" in one_error_line(
        invoke("report", folder))
    assert not (folder / "report").exists()


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


def test_help_shows_examples():
    result = invoke("report", "--help")
    assert result.exit_code == 0
    assert "rtsim report runs/latest --episode" in result.output
    assert "--replication" in result.output


# ---- load curves -------------------------------------------------------------------------

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


# ---- check folders -----------------------------------------------------------------------

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
    real = [(p, "ep", h.run(ep, POLICIES[p], measured)) for p in CHECK_POLICIES]
    real.append(("sync", "ep2", h.run(ep, POLICIES["sync"], measured)))
    sim = [(p, "ep", h.run(ep, POLICIES[p], simulated)) for p in CHECK_POLICIES]
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
    assert "2 episode(s) measured, 1 compared (2 turn pairs)" in md
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
    assert "check.json: not valid JSON (JSONDecodeError)" in one_error_line(
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
