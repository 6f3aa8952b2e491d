"""`rtsim traces import otel`: LiveKit- and Pipecat-style spans from the real SDK, rtsim's
own `rtsim run --otel` export, replay with the measured latencies, and malformed spans."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from rtsim.cli import main
from rtsim.traces.importers.otel import import_otel
from rtsim.traces.schema import load_traces, parse_episode
from rtsim.traces.sets import builtin_trace_sets

otel_spans = pytest.importorskip("tests.otel_spans")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def livekit_file(tmp_path):
    path = tmp_path / "livekit.json"
    path.write_text(otel_spans.livekit())
    return path


@pytest.fixture
def pipecat_file(tmp_path):
    path = tmp_path / "pipecat.jsonl"
    path.write_text(otel_spans.pipecat() + "\n")
    return path


def calls_of(episode: dict) -> list[dict]:
    return [c for turn in episode["turns"] for step in turn["steps"] for c in step["calls"]]


def test_livekit_spans_become_turns_steps_and_measured_latencies(livekit_file):
    imported = import_otel([livekit_file])
    assert imported.source == "livekit" and imported.skipped == []
    [episode] = imported.episodes
    first, second = episode["turns"]
    assert first["user"] == "What's the weather in Paris and in Rome?"
    assert first["answer"] == "Sunny in both."
    assert [[c["id"] for c in s["calls"]] for s in first["steps"]] == [["w-Paris", "w-Rome"]]
    assert [[c["id"] for c in s["calls"]] for s in second["steps"]] == [["f1"], ["b1"]]
    assert [(c["name"], c["arguments"], c["latency"]) for c in calls_of(episode)] == [
        ("get_weather", {"city": "Paris"}, 0.7), ("get_weather", {"city": "Rome"}, 1.1),
        ("find_restaurant", {"name": "Chez Marie"}, 0.5),
        ("book_table", {"restaurant_id": "R42", "party": 2}, 0.9)]
    book = calls_of(episode)[3]
    assert book["depends_on"] == ["f1"] and book["safe"] is False
    assert "depends_on" not in calls_of(episode)[1]  # overlapping: parallel, independent
    assert imported.unmapped == {}


def test_pipecat_tool_latency_runs_from_the_call_to_its_result(pipecat_file):
    imported = import_otel([pipecat_file])
    assert imported.source == "pipecat"
    [episode] = imported.episodes
    assert episode["id"] == "pc-1"
    [turn] = episode["turns"]
    assert turn["user"] == "Search flights to Oslo tomorrow"
    assert turn["answer"] == "There is SK 4411 at 08:10."
    [call] = calls_of(episode)
    assert (call["id"], call["name"], call["latency"]) == ("call_1", "search_flights", 0.8)
    assert call["arguments"] == {"city": "Oslo", "day": "tomorrow"}


def tool_ends(events_csv) -> dict[str, float]:
    events = pd.read_csv(events_csv)
    ends = events[events.event == "tool_end"]
    return dict(zip(ends.call, ends.seconds, strict=True))


@pytest.mark.parametrize("fixture", ["livekit_file", "pipecat_file"])
def test_rtsim_run_replays_the_measured_tool_latencies(fixture, tmp_path, request):
    source = request.getfixturevalue(fixture)
    traces, out = tmp_path / "t.jsonl", tmp_path / "run"
    result = invoke("traces", "import", "otel", source, "--out", traces)
    assert result.exit_code == 0, result.output
    measured = {c.id: c.latency for e in load_traces(traces) for t in e.turns for c in t.calls}
    result = invoke("run", "-t", traces, "-p", "sync", "--seeds", "1", "--events", "-o", out)
    assert result.exit_code == 0, result.output
    assert tool_ends(out / "events.csv") == measured


def test_own_export_imports_back_to_the_same_calls_and_latencies(tmp_path):
    out, spans, back = tmp_path / "run", tmp_path / "spans.jsonl", tmp_path / "back.jsonl"
    result = invoke("run", "-t", "assistant", "-p", "sync", "--seeds", "1", "--events",
                    "-o", out, "--otel", spans)
    assert result.exit_code == 0, result.output
    assert str(spans) in result.output
    result = invoke("traces", "import", "otel", spans, "--out", back)
    assert result.exit_code == 0, result.output
    original = {e.id: e for e in load_traces(builtin_trace_sets()["assistant"])}
    events = pd.read_csv(out / "events.csv")
    for episode in load_traces(back):
        policy, rep, ep_id = episode.id.split("/", 2)
        assert (policy, rep) == ("sync", "r0")
        ends = events[(events.episode == ep_id) & (events.event == "tool_end")]
        simulated = dict(zip(ends.call, ends.seconds, strict=True))
        source = original[ep_id]
        assert [t.user for t in episode.turns] == [t.user for t in source.turns]
        got = [c for t in episode.turns for c in sorted(t.calls, key=lambda c: c.id)]
        want = [c for t in source.turns for c in sorted(t.calls, key=lambda c: c.id)]
        assert [(c.id, c.name, c.arguments, c.output_tokens, c.safe, c.depends_on)
                for c in got] == [(c.id, c.name, c.arguments, c.output_tokens, c.safe,
                                   c.depends_on) for c in want]
        for c in got:
            assert c.latency == pytest.approx(simulated[c.id], abs=2e-9)
    assert len(load_traces(back)) == len(original)
    replay = tmp_path / "replay"
    result = invoke("run", "-t", back, "-p", "sync", "--seeds", "1", "--events", "-o", replay)
    assert result.exit_code == 0, result.output
    replayed = pd.read_csv(replay / "events.csv")
    firsts = replayed[(replayed.event == "tool_end") & (replayed.attempt == 0)]
    measured = {(e.id, c.id): c.latency for e in load_traces(back) for t in e.turns
                for c in t.calls}
    got = {(r.episode, r.call): r.seconds for r in firsts.itertuples()}
    # a first attempt cut short by a false start is retried with a drawn latency
    assert len(got) >= 0.9 * len(measured)
    assert got == {key: measured[key] for key in got}


def test_the_export_is_byte_identical_for_the_same_seed(tmp_path):
    texts = []
    for k in range(2):
        spans = tmp_path / f"s{k}.jsonl"
        assert invoke("run", "-p", "sync,speculative", "--seeds", "1", "-o",
                      tmp_path / f"r{k}", "--otel", spans).exit_code == 0
        texts.append(spans.read_bytes())
    assert texts[0] == texts[1]


def span(name, start, end, trace="a" * 32, span_id="b" * 16, **attrs):
    values = [{"key": k, "value": {"stringValue": v} if isinstance(v, str)
               else {"intValue": str(v)} if isinstance(v, int)
               else {"doubleValue": v}} for k, v in attrs.items()]
    return {"traceId": trace, "spanId": span_id, "name": name,
            "startTimeUnixNano": str(start), "endTimeUnixNano": end, "attributes": values}


def document(*spans):
    return {"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}


def test_malformed_spans_and_lines_are_skipped_and_counted(tmp_path):
    s = 10**9
    good = [span("invoke_agent", 0, 5 * s, **{"gen_ai.operation.name": "invoke_agent"}),
            span("execute_tool get_time", 1 * s, 1 * s + 250_000_000, span_id="c" * 16,
                 **{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_time"})]
    bad = [span("x", 0, 1, trace="zz"), span("y", 5, 4, span_id="d" * 16)]
    path = tmp_path / "spans.jsonl"
    path.write_text(json.dumps(document(*good, *bad)) + "\n{oops\n" + '{"x": 1}\n')
    result = invoke("traces", "import", "otel", path, "--out", tmp_path / "t.jsonl")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"wrote {tmp_path / 't.jsonl'}: 1 episode, 1 turn, 1 call"
    assert lines[2].startswith("skipped 2 of 2 lines: 1 not JSON, 1 not an OTLP object")
    assert lines[3].startswith(
        f"skipped 2 of 4 spans: 2 malformed span ({path}:1: resourceSpans[0].scopeSpans[0]"
        ".spans[2]: malformed span (traceId: must be 32 hex digits, got 'zz')")
    assert lines[4] == ("not mapped: 1 answer size (default 30 tokens), 1 tool arguments, "
                        "1 tool result (default 16 tokens), 1 user text (placeholder of 12 words)")
    [call] = calls_of(json.loads((tmp_path / "t.jsonl").read_text()))
    assert call["latency"] == 0.25
    strict = invoke("traces", "import", "otel", path, "--strict", "--out", tmp_path / "u.jsonl")
    assert strict.exit_code == 2
    assert strict.stderr == (f"Error: {path}:1: resourceSpans[0].scopeSpans[0].spans[2]: "
                             "traceId: must be 32 hex digits, got 'zz'\n")
    assert not (tmp_path / "u.jsonl").exists()


def test_a_file_with_no_spans_is_one_line_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    result = invoke("traces", "import", "otel", path)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {path}: not OTLP JSON: no object with a " \
                                    "resourceSpans list"


def test_calibrate_from_traces_prints_and_writes_the_fits(livekit_file, tmp_path):
    out = tmp_path / "prof.yaml"
    result = invoke("calibrate", "--from-traces", livekit_file, "-o", out,
                    "--tool-fit", "lognormal")
    assert result.exit_code == 0, result.output
    median, sigma = math.sqrt(0.7 * 1.1), math.log(1.1 / 0.7) / math.sqrt(2)
    ks = 0.5 * math.erf(0.5)  # two points at mu -+ sigma / sqrt(2): D = 1/2 - Phi(-1/sqrt 2)
    assert (f"tool {'get_weather':<20} n    2  empirical median 0.900 s p90 1.060 s  "
            f"lognormal median {median:.3f} s sigma {sigma:.3f} (KS D {ks:.3f})") in result.output
    profile = yaml.safe_load(out.read_text())
    latency = profile["tools"]["get_weather"]["latency"]
    assert latency["median"] == pytest.approx(median, abs=1e-6)
    assert latency["sigma"] == pytest.approx(sigma, abs=1e-6)
    assert profile["tools"]["book_table"]["latency"] == {"dist": "empirical", "samples": [0.9]}
    assert profile["turn_detection"]["silence"]["samples"] == [0.5, 0.7]
    assert profile["asr"]["final_lag"]["samples"] == [0.2, 0.3]
    assert profile["tts"]["first_audio"]["samples"] == [0.15]
    # llm_request spans: (duration - ttft) / (output tokens - 1), TTFT flat in input tokens
    per_token = [(0.6 - 0.4) / 29, (0.7 - 0.3) / 19, (0.4 - 0.35) / 24, (0.6 - 0.25) / 14]
    _, intercept = np.polyfit([0.5, 0.6, 0.7, 0.8], per_token, 1)
    assert intercept < 0  # the best line has no time per token at no context: the mean
    assert profile["model"]["decode_rate"] == round(1 / (sum(per_token) / 4), 1)
    assert profile["model"]["request_overhead"] == round(0.325 - 0.1, 4)  # median TTFT - rtt
    run = invoke("run", "-s", out, "--seeds", "1", "-p", "sync", "-o", tmp_path / "r")
    assert run.exit_code == 0, run.output


def test_every_imported_episode_loads(livekit_file, pipecat_file):
    for path in (livekit_file, pipecat_file):
        for row in import_otel([path]).episodes:
            parse_episode(row, row["id"])


def test_calibrate_fits_ttft_against_input_tokens(pipecat_file, tmp_path):
    out = tmp_path / "prof.yaml"
    result = invoke("calibrate", "--from-traces", pipecat_file, "-o", out)
    assert result.exit_code == 0, result.output
    per_token = np.mean([(2.0 - 1.6 - 0.35) / 17, (3.6 - 2.9 - 0.4) / 23])
    # TTFT 0.35 s at 300 input tokens, 0.40 s at 360: 60 tokens in 0.05 s
    assert "TTFT      " + f"{0.1 - per_token:.4f} s + input / 1200.0 tok/s" in result.output
    model = yaml.safe_load(out.read_text())["model"]
    assert model["prefill_rate"] == 1200.0
    assert model["decode_rate"] == round(1 / per_token, 1)
    assert model["request_overhead"] == 0.0  # 0.092 s is less than the base's 0.1 s rtt


def test_calibrate_from_traces_with_nothing_to_fit_is_one_line(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document(span("other", 0, 10))))
    result = invoke("calibrate", "--from-traces", path, "-o", tmp_path / "p.yaml")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: no tool, model or delay measurement in the spans\n"


def test_the_api_imports_spans_and_warns_of_skipped_ones(tmp_path):
    from rtsim.api import import_traces

    path = tmp_path / "s.jsonl"
    path.write_text(otel_spans.pipecat() + "\n{oops\n")
    with pytest.warns(UserWarning, match=r"^skipped 1 of 9 records: 1 not JSON \("):
        [episode] = import_traces("otel", path)
    assert [c.latency for t in episode.turns for c in t.calls] == [0.8]
