"""Speculation's accuracy: the accuracy curve, commit-time errors and what they cost
(wrong_calls, wrong_unsafe_calls, task_success); without them, today's results exactly."""

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtsim.engine.draws import realize
from rtsim.engine.metrics import turn_metrics
from rtsim.engine.runner import simulate
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.errors import InputError
from rtsim.policies import POLICIES, SpeculativePolicy
from rtsim.policies.base import AccuracyCurve
from rtsim.scenario.accuracy_curve import parse_curve
from rtsim.scenario.load import load_scenario
from tests import helpers as h
from tests.test_properties import turns

USER = "book a table for two at eight tonight, then text Sam the address please"


def call_rows(rows):
    """(t, event, call, attempt, label) of the rows about calls, and the endpoint."""
    return [(round(r.t, 6), r.event, r.call, r.attempt, r.label) for r in rows
            if r.call or r.event == "endpoint"]


def one_call(**spec):
    ep = h.episode([[h.call("a", 4, safe=False, known_at=2, name="book")]],
                   user="book it now please")
    rows = h.run(ep, SpeculativePolicy, h.scenario(speculation=spec,
                                                   tools={"book": {"latency": 0.5}}))
    return rows, turn_metrics(rows)[0]


def test_a_confirmed_wrong_guess_runs_at_the_commit_with_wrong_arguments():
    rows, m = one_call(accuracy=0.0, confirm_error=1.0)
    assert call_rows(rows) == [
        (0.25, "gen_start", "a", 0, "call"), (0.4, "endpoint", "", 0, ""),
        (0.4, "confirm", "a", 0, "wrong_unsafe"), (0.65, "gen_end", "a", 0, "call"),
        (0.65, "tool_start", "a", 0, "book"), (1.15, "tool_end", "a", 0, "")]
    assert (m["wrong_calls"], m["wrong_unsafe_calls"], m["task_success"]) == (1, 1, 0)
    assert (m["spec_hits"], m["spec_revisions"], m["spec_withdrawals"]) == (0, 0, 0)
    assert m["turn_latency"] == pytest.approx(1.25)  # kept: as fast as a right guess


def test_a_wrong_guess_without_confirm_error_is_withdrawn_and_written_again():
    rows, m = one_call(accuracy=0.0)
    assert [r[1:] for r in call_rows(rows)][3:5] == [("discard", "a", 0, "withdrawn"),
                                                     ("gen_start", "a", 1, "call")]
    assert (m["wrong_calls"], m["task_success"], m["spec_withdrawals"]) == (0, 1, 1)
    assert m["turn_latency"] == pytest.approx(1.4)


def test_a_right_guess_revised_needlessly_costs_time_not_correctness():
    rows, m = one_call(accuracy=1.0, revise_error=1.0)
    assert call_rows(rows) == [
        (0.25, "gen_start", "a", 0, "call"), (0.4, "endpoint", "", 0, ""),
        (0.4, "gen_stop", "a", 0, "call"), (0.4, "discard", "a", 0, "needless"),
        (0.4, "gen_start", "a", 1, "call"), (0.8, "gen_end", "a", 1, "call"),
        (0.8, "tool_start", "a", 1, "book"), (1.3, "tool_end", "a", 1, "")]
    assert (m["wrong_calls"], m["task_success"], m["spec_hits"], m["spec_revisions"]) == (
        0, 1, 0, 1)
    assert m["turn_latency"] == pytest.approx(1.4)
    assert one_call(accuracy=1.0)[1]["turn_latency"] == pytest.approx(1.25)


def early_guess(curve):
    ep = h.episode([[h.call("a", 4, known_at=6, name="find")]])
    sc = h.scenario(speculation={"premature_rate": 1.0, "accuracy": 0.0,
                                 "accuracy_curve": curve}, tools={"find": {"latency": 0.5}})
    return h.run(ep, SpeculativePolicy, sc)


def test_a_curve_point_before_known_at_makes_an_early_guess_right():
    rows = early_guess({"words": [-3, 0], "accuracy": [1.0, 0.0]})
    assert call_rows(rows) == [
        (0.25, "gen_start", "a", 0, "call"), (0.65, "gen_end", "a", 0, "call"),
        (0.65, "tool_start", "a", 0, "find"), (0.8, "endpoint", "", 0, ""),
        (0.8, "confirm", "a", 0, ""), (1.15, "tool_end", "a", 0, "")]


def test_without_points_before_known_at_an_early_guess_is_wrong_and_revised():
    rows = early_guess({"words": [0], "accuracy": [1.0]})
    assert call_rows(rows) == [
        (0.25, "gen_start", "a", 0, "call"), (0.65, "gen_end", "a", 0, "call"),
        (0.65, "tool_start", "a", 0, "find"), (0.75, "tool_cancel", "a", 0, ""),
        (0.75, "discard", "a", 0, "revised"), (0.75, "gen_start", "a", 1, "call"),
        (0.8, "endpoint", "", 0, ""), (0.8, "confirm", "a", 1, ""),
        (1.15, "gen_end", "a", 1, "call"), (1.15, "tool_start", "a", 1, "find"),
        (1.65, "tool_end", "a", 1, "")]


def test_a_call_built_on_a_kept_wrong_result_is_wrong_too():
    ep = h.episode([[h.call("a", 4, known_at=2, name="find")],
                    [h.call("b", 3, deps=["a"], safe=False, known_at=2, name="book")]],
                   user="book it now please")
    sc = h.scenario(speculation={"accuracy": 0.0, "confirm_error": 1.0},
                    tools={"find": {"latency": 0.05}, "book": {"latency": 0.1}})
    rows = h.run(ep, SpeculativePolicy, sc)
    wrong = [(r.call, r.attempt, r.label) for r in rows if r.event == "confirm"]
    assert wrong == [("a", 0, "wrong"), ("b", 0, "wrong_unsafe")]
    m = turn_metrics(rows)[0]
    assert (m["wrong_calls"], m["wrong_unsafe_calls"], m["task_success"]) == (2, 1, 0)


@pytest.mark.parametrize("words, accuracy, offset, expected", [
    ((-2, 0, 1, 3), (0.05, 0.6, 0.8, 0.9), -5, 0.05), ((-2, 0, 1, 3), (0.05, 0.6, 0.8, 0.9), -1,
                                                      0.325),
    ((-2, 0, 1, 3), (0.05, 0.6, 0.8, 0.9), 2, 0.85), ((-2, 0, 1, 3), (0.05, 0.6, 0.8, 0.9), 9, 0.9),
    ((4,), (0.7,), -3, 0.7), ((0, 10), (0.0, 1.0), 10, 1.0)])
def test_the_curve_is_linear_between_points_and_flat_beyond(words, accuracy, offset, expected):
    assert AccuracyCurve(words, accuracy).at(offset) == pytest.approx(expected)


# ---- today's results, exactly, without the new features ---------------------------------

def hand_built():
    c = h.call
    shapes = [
        [[c("a", 8, known_at=3)]],
        [[c("a", 8, known_at=2), c("b", 6, known_at=None)]],
        [[c("a", 8, known_at=4)], [c("b", 12, deps=["a"], safe=False, known_at=9)]],
        [[c("a", 5, known_at=1, safe=False)], [c("b", 7, deps=["a"], known_at=None)]],
        [[c("a", 9, known_at=6), c("b", 4, known_at=10)], [c("c", 9, deps=["a", "b"])]],
        [[c("a", 3, known_at=12, safe=False)]],
    ]
    return [h.episode(steps, user=USER, reasoning=4) for steps in shapes]


def digest(scenario, seeds: int = 3) -> str:
    sha = hashlib.sha256()
    for replication in range(seeds):
        for i, ep in enumerate(hand_built()):
            for cls in POLICIES.values():
                for row in simulate_episode(realize(scenario, ep, i, replication), cls, scenario):
                    sha.update(repr(tuple(row)).encode())
    return sha.hexdigest()[:16]


PAUSES = ["speculation.at_pause=true", "turn_detection.mode=model",
          "turn_detection.done_at_pause=0.5", "speculation.premature_rate=0.2"]


@pytest.mark.parametrize("name, overrides, expected", [  # digests from the code before
    ("cloud-realtime", [], "f06de1ed51a33ebc"),           # the curve and commit errors
    ("edge-3b", [], "7176f153dd7d9aff"),
    ("selfhosted-8b", [], "bd153b71f07dd431"),
    ("cloud-realtime", PAUSES, "0bb9ecbbf53733f8")])
def test_without_curve_and_commit_errors_every_event_is_as_before(name, overrides, expected):
    assert digest(load_scenario(name, overrides)) == expected


@pytest.mark.parametrize("name", ["cloud-realtime", "edge-3b"])
def test_a_flat_curve_at_accuracy_gives_the_same_events(name):
    base = load_scenario(name, PAUSES)
    flat = load_scenario(name, PAUSES + [
        f"speculation.accuracy_curve={{words: [0], accuracy: [{base.speculation.accuracy}]}}"])
    assert digest(flat, seeds=2) == digest(base, seeds=2)


# ---- closed form and properties -----------------------------------------------------------

@pytest.mark.parametrize("accuracy, confirm", [(0.9, 0.3), (0.6, 0.5), (1.0, 1.0), (0.0, 0.2)])
def test_one_call_a_turn_mean_wrong_calls_is_one_minus_accuracy_times_confirm_error(
        accuracy, confirm):
    ep = h.episode([[h.call("a", 4, safe=False, known_at=2)]], user="book it now please")
    sc = h.scenario(seeds=400, speculation={"accuracy": accuracy, "confirm_error": confirm})
    turns_ = simulate(sc, [ep], ["speculative"]).turns
    p, n = (1 - accuracy) * confirm, len(turns_)
    tolerance = 4 * (p * (1 - p) / n) ** 0.5 + 1e-12
    assert turns_.wrong_calls.mean() == pytest.approx(p, abs=tolerance)
    assert (turns_.wrong_unsafe_calls == turns_.wrong_calls).all()
    assert (turns_.task_success == 1 - turns_.wrong_calls).all()


chances = st.sampled_from([0.0, 0.3, 0.7, 1.0])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns(), chances, chances, chances, chances, st.booleans())
def test_wrong_calls_are_counted_once_and_no_unsafe_call_runs_before_the_commit(
        drawn, accuracy, premature, confirm, revise, curve):
    ep, tools = drawn
    spec = {"accuracy": accuracy, "premature_rate": premature, "confirm_error": confirm,
            "revise_error": revise}
    if curve:
        spec["accuracy_curve"] = {"words": [-3, 0, 2], "accuracy": [0.2, accuracy, 1.0]}
    sc = h.scenario(asr={"interval": 0.1}, speculation=spec, **tools)
    rows = h.run(ep, SpeculativePolicy, sc)
    safe = {c.id: c.safe for c in ep.turns[0].calls}
    endpoint = h.times(rows, "endpoint")[0]
    assert all(r.t >= endpoint - 1e-9 for r in rows
               if r.event == "tool_start" and not safe[r.call])
    assert len(h.times(rows, "turn_end")) == 1  # a kept wrong call never stalls the turn
    discarded = {(r.call, r.attempt) for r in rows if r.event == "discard"}
    ran = {(r.call, r.attempt) for r in rows if r.event == "tool_start"}
    kept_wrong = [(r.call, r.attempt) for r in rows if r.event == "confirm" and r.label
                  and (r.call, r.attempt) in ran - discarded]
    m = turn_metrics(rows)[0]
    assert m["wrong_calls"] == len(kept_wrong) == len({c for c, _ in kept_wrong})
    assert m["wrong_unsafe_calls"] == sum(not safe[c] for c, _ in kept_wrong)
    assert m["task_success"] == int(not kept_wrong)
    if confirm == 0:
        assert m["wrong_calls"] == 0


# ---- the curve's loader -----------------------------------------------------------------

@pytest.mark.parametrize("raw, message", [
    ({"words": [0, 0], "accuracy": [1, 1]}, "x.words[1]: must be greater than the point before"),
    ({"words": [0], "accuracy": [1.5]}, "x.accuracy[0]: must be a chance within [0, 1]"),
    ({"words": [True], "accuracy": [1]}, "x.words[0]: must be a whole number"),
    ({"words": [0, 1], "accuracy": [1]}, "x.accuracy: must have one value per point"),
    ({"words": []}, "x.words: must be a list of 1 to 1000 points"),
    ({"accuracy": [1]}, "x.words: missing"),
    ({"words": [0], "accuracy": [1], "at": 2}, "x.at: unknown key"),
    ([0.9], "x: must be a mapping with words and accuracy")])
def test_a_bad_curve_is_named(raw, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_curve(raw, "x")


yaml_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.one_of(yaml_values, st.fixed_dictionaries(
    {"words": st.lists(st.integers(-50, 50) | st.floats(), max_size=6),
     "accuracy": st.lists(st.floats() | st.integers(-1, 2), max_size=6)})))
def test_the_curve_loader_accepts_or_names_the_fault(raw):
    try:
        curve = parse_curve(raw, "x")
    except InputError as exc:
        assert str(exc).startswith("x")
        return
    if curve is not None:
        assert list(curve.words) == sorted(set(curve.words))
        assert all(0 <= a <= 1 for a in curve.accuracy)
        assert len(curve.words) == len(curve.accuracy) >= 1
