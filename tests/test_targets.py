"""The target language: parsing, precedence, every error, printing and evaluation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtsim.analysis.targets import (
    METRICS,
    SCALARS,
    BinOp,
    Comparison,
    FunctionCall,
    Neg,
    Num,
    Scalar,
    constant,
    evaluate,
    format_expr,
    parse_target,
    uses_baseline,
    walk,
)
from rtsim.errors import InputError

TL, FA = FunctionCall("mean", "turn_latency"), FunctionCall("p90", "first_audio_latency")


def one(text: str) -> Comparison:
    (comparison,) = parse_target(text)
    return comparison


def format_comparison(comparison: Comparison) -> str:
    """Canonical text of a comparison (format_expr, the op, the threshold's repr)."""
    return f"{format_expr(comparison.stat)} {comparison.op} {comparison.threshold!r}"


def test_a_simple_target():
    c = one("p90(first_audio_latency) < 1.0")
    assert (c.stat, c.op, c.threshold, c.text) == (FA, "<", 1.0, "p90(first_audio_latency) < 1.0")


def test_scalars_and_the_speedup_function():
    assert one("speedup_vs_sync >= 1.3").stat == Scalar("speedup_vs_sync")
    assert one("speedup_vs_sync(first_audio_latency) > 1").stat == FunctionCall(
        "speedup_vs_sync", "first_audio_latency")
    for name in SCALARS:
        assert one(f"{name} <= 2").stat == Scalar(name)


def test_multiplication_binds_tighter_and_operators_associate_left():
    c = one("mean(turn_latency) + p90(first_audio_latency) * 2 - 1 / 4 < 5")
    assert c.stat == BinOp("-", BinOp("+", TL, BinOp("*", FA, Num(2.0))),
                           BinOp("/", Num(1.0), Num(4.0)))
    assert one("mean(turn_latency) - 1 - 2 < 0").stat == BinOp(
        "-", BinOp("-", TL, Num(1.0)), Num(2.0))
    assert one("mean(turn_latency) / 2 / 4 < 0").stat == BinOp(
        "/", BinOp("/", TL, Num(2.0)), Num(4.0))


def test_parentheses_unary_minus_and_number_forms():
    c = one("(mean(turn_latency) + 1) * -p90(first_audio_latency) > -3.5e-1")
    assert c.stat == BinOp("*", BinOp("+", TL, Num(1.0)), Neg(FA))
    assert c.threshold == -0.35
    assert one("mean(turn_latency) < .5").threshold == 0.5
    assert one("mean(turn_latency)<2E3").threshold == 2000.0


def test_any_percentile_from_1_to_99():
    assert one("p75(turn_latency) < 1").stat == FunctionCall("p75", "turn_latency")
    assert one("p1(turn_latency) < 1").stat == FunctionCall("p1", "turn_latency")


def test_and_gives_one_comparison_each_with_its_own_text_and_the_name():
    a, b = parse_target("  p50(turn_latency) < 2 and  hit_rate >= 0.5 ", name="gate")
    assert (a.text, b.text) == ("p50(turn_latency) < 2", "hit_rate >= 0.5")
    assert a.name == b.name == "gate"


def test_every_metric_column_is_accepted():
    for metric in METRICS:
        assert one(f"mean({metric}) < 1").stat == FunctionCall("mean", metric)
    assert "turn" not in METRICS and "speech_end" not in METRICS


@pytest.mark.parametrize("text,message,column", [
    ("", "empty target", 1),
    ("p90(first_audio_latency) = 1", "unexpected character '=': use <, <=, >, >= or ==", 26),
    ("p90(first_audio_latency) != 1", "unexpected character '!'", 26),
    ("mean(turn_latency) < 1 $", "unexpected character '$'", 24),
    ("speedup < 1", "unknown name 'speedup'", 1),
    ("p100(turn_latency) < 1", "unknown function 'p100'", 1),
    ("median(turn_latency) < 1", "unknown function 'median'", 1),
    ("p90(latency) < 1", "unknown metric 'latency'", 5),
    ("p90(turn) < 1", "unknown metric 'turn'", 5),
    ("p90() < 1", "p90() takes one metric, found ')'", 5),
    ("p90(turn_latency, model_busy) < 1", "p90() takes one metric", 17),
    ("p90(mean(turn_latency)) < 1", "unknown metric 'mean'", 5),
    ("p90 < 1", "p90 needs a metric: p90(METRIC)", 1),
    ("hit_rate(spec_hits) > 1", "hit_rate takes no argument", 9),
    ("mean(turn_latency)", "expected a comparison (<, <=, >, >=, ==), found the end", 19),
    ("mean(turn_latency) + < 1", "expected a number, a name or '(', found '<'", 22),
    ("mean(turn_latency) < hit_rate", "expected a number after '<', found 'hit_rate'", 22),
    ("mean(turn_latency) < 1 2", "unexpected '2'", 24),
    ("mean(turn_latency) < 1 and", "expected a number, a name or '(', found the end", 27),
    ("(mean(turn_latency) < 1", "expected ')', found '<'", 21),
    ("p90(turn_latency < 1", "expected ')', found '<'", 18),
    ("1 + 2 < 3", "the left side uses no metric", 1),
    ("and < 3", "expected a number, a name or '(', found 'and'", 1),
])
def test_errors_name_the_target_the_column_and_the_problem(text, message, column):
    with pytest.raises(InputError) as err:
        parse_target(text, where="gate.yaml: targets[2]: ")
    prefix = f"gate.yaml: targets[2]: target {text!r}, column {column}: {message}"
    assert str(err.value).startswith(prefix), str(err.value)


TL_TEXT = "mean(turn_latency)"


@pytest.mark.parametrize("text,message,column", [
    (f"1/0 * {TL_TEXT} < 1", "division by zero in 1.0 / 0.0", 1),
    (f"{TL_TEXT} / (2 - 2) < 1", "division by zero in mean(turn_latency) / (2.0 - 2.0)", 1),
    (f"{TL_TEXT} * (1e300 * 1e300) < 1", "1e+300 * 1e+300 is not a finite number", 1),
    (f"{TL_TEXT} * 1e999 < 1", "number 1e999 is out of range", 22),
    (f"{TL_TEXT} < -1e99999", "number 1e99999 is out of range", 23),
    ("-" * 51 + f"{TL_TEXT} < 1", "nested deeper than 50 levels", 51),
    ("(" * 51 + TL_TEXT + ")" * 51 + " < 1", "nested deeper than 50 levels", 51),
    (" + ".join(["hit_rate"] * 51) + " < 1", "nested deeper than 50 levels", 1),
])
def test_arithmetic_and_nesting_errors_name_the_target(text, message, column):
    with pytest.raises(InputError) as err:
        parse_target(text, where="--target: ")
    shown = text if len(text) <= 80 else text[:80] + "..."
    assert str(err.value) == f"--target: target {shown!r}, column {column}: {message}"


@pytest.mark.parametrize("text", [
    "(" * 5000 + TL_TEXT + ")" * 5000 + " < 1",
    " + ".join([TL_TEXT] * 5000) + " < 1",
    "-" * 100000 + TL_TEXT + " < 1",
])
def test_a_target_longer_than_the_bound_is_one_short_line(text):
    with pytest.raises(InputError) as err:
        parse_target(text)
    assert str(err.value) == (f"target {text[:80] + '...'!r}, column 1001: "
                              "longer than 1000 characters")


def test_the_bounds_admit_a_long_reasonable_target():
    text = "(" * 49 + " + ".join([TL_TEXT] * 20) + ")" * 49 + " < 1"
    assert one(text).stat == one(" + ".join([TL_TEXT] * 20) + " < 1").stat


def test_the_metric_list_is_named_in_the_error():
    with pytest.raises(InputError, match="metrics: endpoint_delay, first_token_latency"):
        parse_target("mean(x) < 1")


def test_uses_baseline():
    assert uses_baseline(parse_target("hit_rate > 0 and speedup_vs_sync > 1"))
    assert uses_baseline(parse_target("speedup_vs_sync(first_token_latency) * 2 > 1"))
    assert not uses_baseline(parse_target("p90(turn_latency) < 1 and hit_rate > 0.5"))


class Recorder:
    """Statistics that report which method was asked for what, as distinct numbers."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, method):
        def stat(*args):
            self.calls.append((method, *args))
            return {"mean": 2.0, "ratio": 0.5, "speedup": 1.5, "max": 9.0, "min": 1.0}.get(
                method, args[0] if args and isinstance(args[0], int) else 0.0)
        return stat


@pytest.mark.parametrize("text,value,calls", [
    ("p90(turn_latency) - p50(turn_latency) < 1", 40.0,
     [("percentile", 90, "turn_latency"), ("percentile", 50, "turn_latency")]),
    ("hit_rate > 0", 0.5, [("ratio", "spec_hits", "spec_guesses")]),
    ("speedup_vs_sync > 0", 1.5, [("speedup", "turn_latency")]),
    ("speedup_vs_sync(first_audio_latency) > 0", 1.5, [("speedup", "first_audio_latency")]),
    ("wasted_tokens_per_turn < 1", 2.0, [("mean", "wasted_tokens")]),
    ("wasted_tool_calls_per_turn < 1", 2.0, [("mean", "wasted_tool_calls")]),
    ("model_busy_per_turn < 1", 2.0, [("mean", "model_busy")]),
    ("(max(turn_latency) + min(turn_latency)) / -mean(model_busy) * 3 < 1", -15.0,
     [("max", "turn_latency"), ("min", "turn_latency"), ("mean", "model_busy")]),
])
def test_evaluation_asks_for_the_right_statistics(text, value, calls):
    stats = Recorder()
    assert evaluate(one(text).stat, stats) == value
    assert stats.calls == calls


# Random expression trees: printing then parsing gives the same tree.
_LEAVES = st.one_of(
    st.floats(0, 1e6, allow_nan=False).map(lambda x: Num(x + 0.0)),
    st.sampled_from(sorted(SCALARS)).map(Scalar),
    st.builds(FunctionCall,
              st.sampled_from(["mean", "min", "max", "p50", "p99", "speedup_vs_sync"]),
              st.sampled_from(METRICS)),
)
_TREES = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.builds(Neg, inner),
    st.builds(BinOp, st.sampled_from("+-*/"), inner, inner)), max_leaves=8)


def _valid(tree) -> bool:
    """The tree uses a metric, divides by no constant zero, and its constants are finite."""
    try:
        constant(tree)
    except ArithmeticError:
        return False
    return any(isinstance(n, (Scalar, FunctionCall)) for n in walk(tree))


@given(_TREES.filter(_valid), st.sampled_from(["<", "<=", ">", ">="]),
       st.floats(allow_nan=False, allow_infinity=False))
def test_printing_then_parsing_gives_the_same_target(tree, op, threshold):
    comparison = Comparison(tree, op, threshold)
    text = format_comparison(comparison)
    assert one(text) == comparison
    assert format_comparison(one(text)) == text


def test_equality_parses_as_a_comparison():
    c = one("mean(wrong_unsafe_calls) == 0")
    assert (c.stat, c.op, c.threshold) == (FunctionCall("mean", "wrong_unsafe_calls"), "==", 0.0)
