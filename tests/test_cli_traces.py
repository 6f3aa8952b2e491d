"""`rtsim traces`: import, list, show and stats through click's test runner."""

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rtsim.cli.traces import traces_group
from rtsim.traces import sets as tracesets
from tests.test_importers_bfcl import row, write_bfcl

SHARED = Path(__file__).parents[2] / "shared" / "data"


def invoke(*args):
    return CliRunner().invoke(traces_group, [str(a) for a in args])


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def bfcl_dir(tmp_path):
    rows = [row("multi_turn_base_0", "Open the docs folder and show notes.txt", "Thanks"),
            row("multi_turn_base_1", "List everything")]
    truths = [[["cd(folder='docs')", "cat(file_name='notes.txt')"], []], [["ls(a=True)"]]]
    return write_bfcl(tmp_path / "bfcl", rows, truths)


def test_import_bfcl_then_stats_and_show(tmp_path, bfcl_dir):
    out = tmp_path / "out" / "b.jsonl"
    result = invoke("import", "bfcl", "--data-dir", bfcl_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}: 2 episodes, 3 turns, 3 calls\n"

    stats = json.loads(invoke("stats", out, "--format", "json").output)
    assert (stats["episodes"], stats["turns"], stats["calls"]) == (2, 3, 3)
    assert stats["calls_per_turn"] == {"0": 1, "1": 1, "2": 1}
    assert stats["unsafe"] == pytest.approx(1 / 3, abs=1e-4)
    assert stats["dependent"] == pytest.approx(1 / 3, abs=1e-4)
    assert "known before end of speech" in invoke("stats", out).output

    overview = invoke("show", out).output.splitlines()
    assert overview[1].split() == ["multi_turn_base_0", "2", "2", "bfcl:multi_turn_base"]
    detail = invoke("show", out, "--episode", "multi_turn_base_0").output
    assert "c2 cat({\"file_name\": \"notes.txt\"}) safe, known at word 7" in detail
    assert "after c1" in detail


def test_import_bfcl_limit(tmp_path, bfcl_dir):
    out = tmp_path / "b.jsonl"
    assert invoke("import", "bfcl", "--data-dir", bfcl_dir, "--limit", 1, "--out", out
                  ).exit_code == 0
    assert len(out.read_text().splitlines()) == 1


def test_unknown_category_lists_valid_ones(tmp_path, bfcl_dir):
    result = invoke("import", "bfcl", "--category", "multi_turn_x", "--data-dir", bfcl_dir,
                    "--out", tmp_path / "b.jsonl")
    assert result.exit_code == 2
    assert "multi_turn_base" in result.stderr and "multi_turn_miss_func" in result.stderr
    assert not (tmp_path / "b.jsonl").exists()


def test_a_bad_record_is_skipped_and_reported(tmp_path):
    root = write_bfcl(tmp_path / "bfcl", [row("a", "Go"), row("b", "Go")],
                      [[["cd(folder='x')"]], [["cd(folder='x'"]]])
    out = tmp_path / "b.jsonl"
    result = invoke("import", "bfcl", "--data-dir", root, "--out", out)
    assert result.exit_code == 0, result.output
    answers = root / "possible_answer" / "BFCL_v4_multi_turn_base.json"
    assert result.output.splitlines() == [
        f"wrote {out}: 1 episode, 1 turn, 1 call",
        f"skipped 1 malformed record: {answers}:2: ground_truth[0][0]: cannot parse call "
        "\"cd(folder='x'\" ('(' was never closed)"]
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a"]


def test_a_file_of_bad_records_is_one_line_and_leaves_no_file(tmp_path):
    root = write_bfcl(tmp_path / "bfcl", [row("a", "Go")], [[["cd(folder='x'"]]])
    out = tmp_path / "b.jsonl"
    result = invoke("import", "bfcl", "--data-dir", root, "--out", out)
    assert result.exit_code == 2
    assert "none of its 1 records has the expected shape" in one_error_line(result)
    assert list(tmp_path.iterdir()) == [tmp_path / "bfcl"]


def test_missing_bfcl_package_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    result = invoke("import", "bfcl", "--out", tmp_path / "b.jsonl")
    assert result.exit_code == 2
    assert "pip install --no-deps bfcl-eval" in one_error_line(result)
    assert not (tmp_path / "b.jsonl").exists()


def test_malformed_openai_file_leaves_no_file(tmp_path):
    src = tmp_path / "log.jsonl"
    src.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": [\n')
    out = tmp_path / "o.jsonl"
    result = invoke("import", "openai-messages", src, "--out", out)
    assert result.exit_code == 2
    assert f"{src}:2: not valid JSON" in one_error_line(result)
    assert not out.exists()


def test_failed_import_keeps_the_previous_output(tmp_path):
    src, out = tmp_path / "q.json", tmp_path / "o.jsonl"
    out.write_text("previous\n")
    src.write_text('[{"id": "a", "question": "Is Rome old?"}]')
    result = invoke("import", "questions", src, "--out", out)
    assert result.exit_code == 2
    assert "q.json[0]: answer: missing" in one_error_line(result)
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.jsonl", "q.json"]


def test_import_openai_and_questions(tmp_path):
    log = tmp_path / "log.json"
    log.write_text(json.dumps([{"id": "x", "messages": [
        {"role": "user", "content": "What time is it?"},
        {"role": "assistant", "content": "Noon."}]}]))
    result = invoke("import", "openai-messages", log, "--out", tmp_path / "o.jsonl")
    assert result.output == f"wrote {tmp_path / 'o.jsonl'}: 1 episode, 1 turn, 0 calls\n"
    qa = tmp_path / "qa.json"
    qa.write_text(json.dumps([{"id": "1", "question": "Is Oslo or Bergen larger?",
                               "answer": "Oslo"}]))
    result = invoke("import", "questions", qa, "--out", tmp_path / "q.jsonl")
    assert result.output == f"wrote {tmp_path / 'q.jsonl'}: 1 episode, 1 turn, 2 calls\n"


def test_default_output_path(tmp_path, bfcl_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("import", "bfcl", "--data-dir", bfcl_dir).exit_code == 0
    assert (tmp_path / "traces" / "bfcl-multi_turn_base.jsonl").is_file()


def test_list_and_builtin_names(tmp_path, bfcl_dir, monkeypatch):
    out = tmp_path / "demo.jsonl"
    invoke("import", "bfcl", "--data-dir", bfcl_dir, "--out", out)
    monkeypatch.setattr(tracesets, "builtin_trace_sets", lambda: {"demo": out})
    assert invoke("list").output == "demo  2 episodes, 3 turns, 3 calls\n"
    assert json.loads(invoke("stats", "demo", "--format", "json").output)["episodes"] == 2


def test_list_reads_the_scenarios_package():
    sets = sorted(tracesets.builtin_trace_sets())
    output = invoke("list").output
    if not sets:
        assert output == "no built-in trace sets\n"
    else:
        assert [line.split()[0] for line in output.splitlines()] == sets


def test_unknown_set_and_episode_are_one_line_errors(tmp_path, bfcl_dir):
    result = invoke("stats", tmp_path / "nope.jsonl")
    assert result.exit_code == 2
    assert "no such built-in trace set or file" in one_error_line(result)
    out = tmp_path / "b.jsonl"
    invoke("import", "bfcl", "--data-dir", bfcl_dir, "--out", out)
    result = invoke("show", out, "--episode", "zz")
    assert result.exit_code == 2
    assert "no episode 'zz'" in one_error_line(result)


def test_invalid_trace_file_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "e", "turns": []}\n')
    result = invoke("stats", bad)
    assert result.exit_code == 2
    assert f"{bad}:1: turns: must not be empty" in one_error_line(result)


def test_real_bfcl_base_through_the_cli(tmp_path):
    pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed")
    out = tmp_path / "bfcl.jsonl"
    result = invoke("import", "bfcl", "--out", out)
    assert result.output == f"wrote {out}: 200 episodes, 734 turns, 1142 calls\n"


def test_real_tau_bench_through_the_cli(tmp_path):
    path = SHARED / "tau-bench" / "gpt-4o-airline.json"
    if not path.is_file():
        pytest.skip(f"{path} is missing (reference data lives outside the repo)")
    out = tmp_path / "tau.jsonl"
    assert invoke("import", "openai-messages", path, "--out", out).exit_code == 0
    stats = json.loads(invoke("stats", out, "--format", "json").output)
    assert (stats["episodes"], stats["calls"]) == (200, 1164)


def test_generate_assistant_reproduces_the_builtin_set(tmp_path):
    from click.testing import CliRunner

    from rtsim.cli import main
    from rtsim.traces.sets import resolve_traces

    out = tmp_path / "a.jsonl"
    result = CliRunner().invoke(main, ["traces", "generate", "assistant", "--out", str(out)])
    assert result.exit_code == 0 and "36 episodes, 120 turns, 176 calls" in result.output
    assert out.read_bytes() == resolve_traces("assistant").read_bytes()


def test_generate_rejects_zero_episodes(tmp_path):
    out = tmp_path / "a.jsonl"
    result = invoke("generate", "assistant", "--episodes", 0, "--out", out)
    assert result.exit_code == 2 and "--episodes" in result.stderr and not out.exists()


def test_generate_help_names_the_file_it_writes(tmp_path, monkeypatch):
    help_text = " ".join(invoke("generate", "--help").output.split()).replace("- ", "-")
    assert "[default: traces/GENERATOR-EPISODES-seedSEED.jsonl" in help_text
    monkeypatch.chdir(tmp_path)
    assert invoke("generate", "assistant", "--episodes", 2, "--seed", 5).exit_code == 0
    assert [p.name for p in (tmp_path / "traces").iterdir()] == ["assistant-2-seed5.jsonl"]


def test_one_of_a_thing_is_singular(tmp_path):
    path = tmp_path / "one.jsonl"
    call = {"id": "c1", "name": "lights", "arguments": {}, "tokens": 1, "output_tokens": 1}
    path.write_text(json.dumps({"id": "e", "turns": [{
        "user": "Lights", "answer_tokens": 1, "steps": [{"calls": [call]}]}]}) + "\n")
    shown = invoke("show", path, "--episode", "e").output.splitlines()
    assert shown[1] == "turn 1: 'Lights' (1 word)"
    assert shown[2].endswith(", 1 output token") and shown[3] == "  answer: 1 token"
    assert invoke("show", path, "--episode", "x").stderr.endswith(
        "(it has 1 episode; list them with `traces show`)\n")


def test_show_hears_a_dated_episode_and_a_bad_date_is_one_line(tmp_path):
    user = ("Book a table for twenty-two people on Friday at 3 PM and pay the two hundred "
            "and fifty dollar deposit please")
    calls = [{"calls": [{"id": "c1", "name": "book_table", "output": "booked",
                         "arguments": {"people": 22, "when": "2024-06-14 15:00:00"}}]},
             {"calls": [{"id": "c2", "name": "pay", "arguments": {"amount": "$250"},
                         "depends_on": ["c1"], "safe": False, "output": "paid"}]}]
    episode = {"id": "friday", "date": "2024-06-12",
               "turns": [{"user": user, "steps": calls, "answer": "Done."}]}
    path = tmp_path / "dated.jsonl"
    path.write_text(json.dumps(episode) + "\n")
    result = invoke("show", path, "--episode", "friday")
    assert result.exit_code == 0, result.output
    assert "date 2024-06-12" in result.output.splitlines()[0]
    assert "known at word 11," in result.output and "known at word 19," in result.output
    path.write_text(json.dumps({**episode, "date": "2024-06-23"}) + "\n")
    shown = invoke("show", path, "--episode", "friday").output
    assert "15:00:00\"}) safe, known at end," in shown
    path.write_text(json.dumps({**episode, "date": "June 12"}) + "\n")
    result = invoke("stats", path)
    assert result.exit_code == 2
    assert one_error_line(result) == (f"Error: {path}:1: date: must be a date YYYY-MM-DD, "
                                      "got 'June 12'")
