"""`rtsim probe` against a scripted backend: exact hit curves, empirical known_at,
premature and commit errors; the cache; failed and bad replies; the profile it writes."""

import json

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from rtsim.cli import main
from rtsim.errors import InputError
from rtsim.real.backend.errors import BackendError
from rtsim.real.probe import CallAnswers, RequestCache
from rtsim.real.probe_fit import call_record
from rtsim.real.probe_plan import ProbedCall, partial_words
from rtsim.real.probe_profile import unknown_keys
from rtsim.real.probe_run import ProbeOptions, run_probe
from tests.probe_fakes import BOOKINGS, ScriptedBackend, run_with, scenario_file, trace_file

NEW_KEYS = ("accuracy_curve", "confirm_error", "revise_error")


def guess(heard, ref):
    """Right by luck after 3 words; otherwise each value once it is heard."""
    if heard == 3:
        return dict(ref)
    return {"place": ref["place"] if heard >= 7 else "Elsewhere",
            "people": ref["people"] if heard >= 5 else "two"}


def commit(heard, earlier, ref):
    """Confirms what it guessed from 1-2 words, revises a right guess from 7, else the final."""
    if heard <= 2:
        return earlier
    return {**ref, "people": "two"} if heard == 7 else dict(ref)


@pytest.fixture
def folder(tmp_path):
    traces = trace_file(tmp_path / "t.jsonl", BOOKINGS)  # people heard at 5, place at 7
    return tmp_path, scenario_file(tmp_path / "s.yaml", traces)


def probe(folder, monkeypatch, backend, out="out"):
    tmp, scenario = folder
    monkeypatch.setattr("rtsim.real.probe_run.run_against", run_with(backend))
    opts = ProbeOptions(out=tmp / out, scenario=str(scenario), turns=3)
    return run_probe(opts, echo=lambda line: None)


def test_partials_follow_the_asr_cadence():
    assert partial_words((1.0, 2.0, 3.0), 0.25) == (1, 2)
    assert partial_words((0.1, 0.2, 0.3, 2.0), 0.25) == (2, 3)  # two words in one interval
    assert partial_words((0.1,), 0.25) == ()


def test_scripted_backend_gives_exact_figures(folder, monkeypatch):
    report = probe(folder, monkeypatch, ScriptedBackend(guess, commit, BOOKINGS))
    rates = [0, 0, 1, 0, 0, 0, 1]
    assert [(p["x"], p["n"], p["rate"]) for p in report["curve_end"]] == [
        (x, 3, r) for x, r in zip(range(-7, 0), rates, strict=True)]
    assert [(p["x"], p["rate"]) for p in report["curve_known_at"]] == list(
        zip(range(-6, 1), rates, strict=True))
    calls = json.loads((folder[0] / "out" / "probe.json").read_text())["calls"]
    assert [(c["known_at"], c["empirical_known_at"], c["premature"], c["before"])
            for c in calls] == [(7, 7, 5, 6)] * 3
    assert (report["accuracy"], report["premature_rate"], report["trace_match"]) == (
        1.0, 5 / 6, 1.0)
    assert (report["words_before_end"], report["known_early"]) == (1.0, 1.0)
    assert report["commit"] == {"wrong": 15, "confirmed": 6, "right": 6, "revised": 3,
                                "confirm_error": 0.4, "revise_error": 0.5}
    assert report["speculation"] == {
        "accuracy": 1.0, "premature_rate": 0.8333,
        "accuracy_curve": {"words": list(range(-6, 1)), "accuracy": rates},
        "confirm_error": 0.4, "revise_error": 0.5}
    assert report["tools"]["book_table"]["calls"] == 3
    assert report["requests"] == {"sent": 45, "reused": 0} and report["failures"] == []


def test_rerun_reuses_every_answer_and_writes_the_same_files(folder, monkeypatch):
    probe(folder, monkeypatch, ScriptedBackend(guess, commit, BOOKINGS))
    out = folder[0] / "out"
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    again = ScriptedBackend(guess, commit, BOOKINGS)
    report = probe(folder, monkeypatch, again)
    assert again.sent == 0 and report["requests"] == {"sent": 0, "reused": 45}
    second = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {k: v for k, v in first.items() if k != "probe.json"} == {
        k: v for k, v in second.items() if k != "probe.json"}


def test_a_failed_call_is_reported_the_others_kept_and_a_rerun_asks_only_it(folder,
                                                                           monkeypatch):
    sent = []

    def flaky(heard, ref):
        sent.append(heard)
        if len(sent) == 13:  # the fifth guess of the second call (the first asks 8)
            raise BackendError("http://fake/v1: HTTP 500 Internal Server Error")
        return guess(heard, ref)

    report = probe(folder, monkeypatch, ScriptedBackend(flaky, commit, BOOKINGS))
    assert report["failures"] == [{"call": "e1/1/c2", "error":
                                   "http://fake/v1: HTTP 500 Internal Server Error"}]
    assert (report["calls"], report["failed"], report["partials"]) == (3, 1, 14)
    again = ScriptedBackend(guess, commit, BOOKINGS)
    report = probe(folder, monkeypatch, again)
    assert report["failures"] == [] and again.sent == 11  # 4 of its 15 were answered


def test_replies_that_are_not_arguments_are_counted_not_fatal(folder, monkeypatch):
    def invalid_at(words):
        return ScriptedBackend(lambda h, r: None if h == words else guess(h, r), commit,
                               BOOKINGS)

    report = probe(folder, monkeypatch, invalid_at(1))
    assert report["invalid"] == 3 and report["commit"]["wrong"] == 12  # no commit for them
    report = probe(folder, monkeypatch, invalid_at(8), out="other")
    assert [f["call"] for f in report["failures"]] == ["e1/0/c1", "e1/1/c2", "e1/2/c3"]
    assert report["failures"][0]["error"] == ("the reply on the complete utterance is not a "
                                              "JSON object of arguments")


def _profile(folder, monkeypatch) -> dict:
    probe(folder, monkeypatch, ScriptedBackend(guess, commit, BOOKINGS))
    return yaml.safe_load((folder[0] / "out" / "profile.yaml").read_text())


def test_the_profile_carries_every_measured_key(folder, monkeypatch):
    spec = _profile(folder, monkeypatch)["speculation"]
    assert set(NEW_KEYS) | {"accuracy", "premature_rate"} <= set(spec)
    missing = unknown_keys(spec)
    if missing:
        pytest.skip(f"the speculation schema lacks {', '.join(missing)} on this branch")
    result = CliRunner().invoke(main, ["run", "-s", str(folder[0] / "out" / "profile.yaml"),
                                       "--seeds", "1", "-o", str(folder[0] / "run")])
    assert result.exit_code == 0, result.output


def test_rtsim_run_accepts_the_profile_without_the_new_keys(folder, monkeypatch):
    raw = _profile(folder, monkeypatch)
    raw["speculation"] = {k: v for k, v in raw["speculation"].items() if k not in NEW_KEYS}
    path = folder[0] / "stripped.yaml"
    path.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(main, ["run", "-s", str(path), "--seeds", "1", "-p",
                                       "async,speculative", "-o", str(folder[0] / "run")])
    assert result.exit_code == 0, result.output
    assert raw["speculation"] == {"accuracy": 1.0, "premature_rate": 0.8333}


def test_cli_prints_the_table_plots_and_exits_3_on_failures(folder, monkeypatch):
    tmp, scenario = folder
    monkeypatch.setattr("rtsim.real.probe_run.run_against",
                        run_with(ScriptedBackend(guess, commit, BOOKINGS)))
    result = CliRunner().invoke(main, ["probe", "-s", str(scenario), "-n", "3", "-o",
                                       str(tmp / "out")])
    assert result.exit_code == 0, result.output
    assert "book_table" in result.output and "confirm_error 40.0%" in result.output
    assert (tmp / "out" / "hit_curve.png").stat().st_size > 0
    monkeypatch.setattr("rtsim.real.probe_run.run_against", run_with(ScriptedBackend(
        lambda h, r: None if h == 8 else guess(h, r), commit, BOOKINGS)))
    result = CliRunner().invoke(main, ["probe", "-s", str(scenario), "-n", "1", "-o",
                                       str(tmp / "bad")])
    assert result.exit_code == 3 and "1 call failed" in result.output


@pytest.mark.parametrize("args, message", [
    (["-b", "ftp://x"], "--backend 'ftp://x'"),
    (["-s", "nope"], "scenario 'nope'"),
    (["-t", "missing.jsonl"], "traces 'missing.jsonl'"),
])
def test_cli_bad_options_are_one_line_errors(args, message):
    result = CliRunner().invoke(main, ["probe", *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_corrupt_cache_is_a_one_line_error(folder, monkeypatch):
    tmp, scenario = folder
    (tmp / "out").mkdir()
    (tmp / "out" / "requests.json").write_text("[1, 2]")
    monkeypatch.setattr("rtsim.real.probe_run.run_against",
                        run_with(ScriptedBackend(guess, commit, BOOKINGS)))
    result = CliRunner().invoke(main, ["probe", "-s", str(scenario), "-o", str(tmp / "out")])
    assert result.exit_code == 2 and "requests.json: not a request cache" in result.output


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_cache_loads_or_fails_with_input_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cache") / "requests.json"
    path.write_text(text, encoding="utf-8")
    try:
        RequestCache(path)
    except InputError as exc:
        assert "requests.json" in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["right", "wrong", "invalid"]), min_size=0, max_size=12))
def test_empirical_known_at_is_where_guesses_turn_right_for_good(answers):
    from rtsim.traces.schema import Call

    words = tuple(f"w{i}" for i in range(len(answers) + 1))
    call = Call("c", "t", {"v": 1}, (), True, 1, 1, None, 0, 0)
    probed = ProbedCall("e", 0, call, words, tuple(range(1, len(words))), ())
    pick = {"right": {"v": 1}, "wrong": {"v": 2}, "invalid": None}
    guesses = [pick[a] for a in answers]
    record = call_record(CallAnswers(probed, guesses, {"v": 1}, guesses))
    k = record["empirical_known_at"]
    assert all(a == "right" for a in answers[k - 1:])
    assert k == 1 or answers[k - 2] != "right"
    assert record["before"] == k - 1
    assert record["premature"] == sum(a != "right" for a in answers[:k - 1])
