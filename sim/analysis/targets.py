"""Latency targets: a small expression language over the per-turn metrics (docs/targets.md).

A target compares a statistic with a number, e.g. `p90(first_audio_latency) < 1.0` or
`speedup_vs_sync >= 1.3`; `and` joins several comparisons on one line. The text is read by
a tokenizer and a recursive-descent parser into a small tree (never `eval`):

    target     := comparison ("and" comparison)*
    comparison := expr ("<" | "<=" | ">" | ">=" | "==") ["-"] NUMBER
    expr       := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | NUMBER | SCALAR | FUNCTION "(" METRIC ")" | "(" expr ")"

A target is at most MAX_LENGTH characters and its expression tree at most MAX_DEPTH levels
deep (each term, factor, minus sign and parenthesis a level); numbers must be finite, and
constant parts (`1/0`, `1e300 * 1e300`) must be finite numbers.
"""

import math
import operator
import re
from dataclasses import dataclass, field

from rtsim.engine.metrics import METRICS as DECLARED
from rtsim.engine.metrics import TURN_COLUMNS
from rtsim.errors import InputError

METRICS = tuple(c for c in TURN_COLUMNS if c not in ("turn", "speech_start", "speech_end"))
SCALARS = {  # name: (statistic method, its arguments)
    "speedup_vs_sync": ("speedup", ("turn_latency",)),
    **{f"{m.name}_per_turn": ("mean", (m.name,)) for m in DECLARED if m.summary == "per_turn"},
    "hit_rate": ("ratio", ("spec_hits", "spec_guesses")),
}
FUNCTIONS = ("mean", "min", "max", "speedup_vs_sync", "pNN")
BASELINE_NAME = "speedup_vs_sync"
COMPARISONS = ("<", "<=", ">", ">=", "==")
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
                    r"|(?P<name>[A-Za-z_]\w*)|(?P<op><=|>=|==|[-+*/()<>,]))")
_PERCENTILE = re.compile(r"p([1-9]\d?)")
MAX_LENGTH = 1000
MAX_DEPTH = 50
_SHOWN = 80  # characters of a long target an error message shows


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Scalar:
    """A named statistic of the policy's turns, e.g. `hit_rate`."""

    name: str


@dataclass(frozen=True)
class FunctionCall:
    """A function of one metric column, e.g. `p90(first_audio_latency)`."""

    func: str
    metric: str


@dataclass(frozen=True)
class Neg:
    operand: object


@dataclass(frozen=True)
class BinOp:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Comparison:
    """`stat op threshold`; `text` is the source of this comparison, `name` the target's."""

    stat: object
    op: str
    threshold: float
    text: str = field(default="", compare=False)
    name: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _Token:
    kind: str  # num, name, op or end
    text: str
    pos: int


def _tokenize(text: str, fail) -> list[_Token]:
    tokens, pos = [], 0
    while text[pos:].strip():
        match = _TOKEN.match(text, pos)
        if not match:
            at = len(text) - len(text[pos:].lstrip())
            hint = ": use <, <=, >, >= or ==" if text[at] in "=!" else ""
            fail(f"unexpected character {text[at]!r}{hint}", at)
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens + [_Token("end", "", len(text))]


class _Parser:
    """Recursive descent over the tokens of one target line."""

    def __init__(self, text: str, where: str):
        self.text, self.where = text, where
        self.nesting = 0
        if len(text) > MAX_LENGTH:
            self.fail(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
        self.tokens = _tokenize(text, self.fail)
        self.i = 0

    def fail(self, problem: str, pos: int):
        shown = self.text if len(self.text) <= _SHOWN else self.text[:_SHOWN] + "..."
        raise InputError(f"{self.where}target {shown!r}, column {pos + 1}: {problem}")

    def number(self) -> float:
        tok = self.take()
        value = float(tok.text)
        if not math.isfinite(value):
            self.fail(f"number {tok.text} is out of range", tok.pos)
        return value

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        self.i += 1
        return self.tokens[self.i - 1]

    def expect(self, text: str, what: str) -> _Token:
        if self.tok.text != text or self.tok.kind == "end":
            self.fail(f"expected {what}, found {_show(self.tok)}", self.tok.pos)
        return self.take()

    def target(self) -> list[Comparison]:
        if self.tok.kind == "end":
            self.fail("empty target", 0)
        out = [self.comparison()]
        while self.tok.kind == "name" and self.tok.text == "and":
            self.take()
            out.append(self.comparison())
        if self.tok.kind != "end":
            self.fail(f"unexpected {_show(self.tok)}", self.tok.pos)
        return out

    def comparison(self) -> Comparison:
        start = self.tok.pos
        stat = self.expr()
        if depth(stat) > MAX_DEPTH:
            self.fail(f"nested deeper than {MAX_DEPTH} levels", start)
        try:
            constant(stat)
        except ArithmeticError as exc:
            self.fail(str(exc), start)
        if not any(isinstance(n, (Scalar, FunctionCall)) for n in walk(stat)):
            self.fail("the left side uses no metric", start)
        if self.tok.text not in COMPARISONS or self.tok.kind != "op":
            self.fail(f"expected a comparison (<, <=, >, >=, ==), found {_show(self.tok)}",
                      self.tok.pos)
        op = self.take().text
        sign = -1.0 if self.tok.text == "-" and self.tok.kind == "op" else 1.0
        if sign < 0:
            self.take()
        if self.tok.kind != "num":
            self.fail(f"expected a number after {op!r}, found {_show(self.tok)}", self.tok.pos)
        end = self.tok.pos + len(self.tok.text)
        threshold = sign * self.number()
        return Comparison(stat, op, threshold, self.text[start:end])

    def expr(self):
        node = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            node = BinOp(self.take().text, node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            node = BinOp(self.take().text, node, self.unary())
        return node

    def unary(self):
        tok = self.tok
        if tok.kind == "op" and tok.text in "-(":
            self.nesting += 1
            if self.nesting > MAX_DEPTH:
                self.fail(f"nested deeper than {MAX_DEPTH} levels", tok.pos)
            self.take()
            node = Neg(self.unary()) if tok.text == "-" else self.expr()
            if tok.text == "(":
                self.expect(")", "')'")
            self.nesting -= 1
            return node
        if tok.kind == "num":
            return Num(self.number())
        if tok.kind == "name" and tok.text != "and":
            return self.named()
        self.fail(f"expected a number, a name or '(', found {_show(tok)}", tok.pos)

    def named(self):
        tok = self.take()
        is_function = tok.text in FUNCTIONS or _PERCENTILE.fullmatch(tok.text)
        if self.tok.text != "(" or self.tok.kind != "op":
            if tok.text in SCALARS:
                return Scalar(tok.text)
            if is_function:
                self.fail(f"{tok.text} needs a metric: {tok.text}(METRIC)", tok.pos)
            self.fail(f"unknown name {tok.text!r} (statistics: {', '.join(SCALARS)}; "
                      f"functions: {', '.join(FUNCTIONS)})", tok.pos)
        if tok.text in SCALARS and not is_function:
            self.fail(f"{tok.text} takes no argument", self.tok.pos)
        if not is_function:
            self.fail(f"unknown function {tok.text!r} (functions: {', '.join(FUNCTIONS)}, "
                      f"pNN for a percentile 1-99)", tok.pos)
        self.take()
        arg = self.tok
        if arg.kind != "name" or arg.text not in METRICS:
            what = f"unknown metric {arg.text!r}" if arg.kind == "name" else (
                f"{tok.text}() takes one metric, found {_show(arg)}")
            self.fail(f"{what} (metrics: {', '.join(METRICS)})", arg.pos)
        self.take()
        if self.tok.text == ",":
            self.fail(f"{tok.text}() takes one metric", self.tok.pos)
        self.expect(")", "')'")
        return FunctionCall(tok.text, arg.text)


def _show(tok: _Token) -> str:
    return "the end" if tok.kind == "end" else repr(tok.text)


def parse_target(text: str, name: str | None = None, where: str = "") -> list[Comparison]:
    """The comparisons of one target line; InputError names the text and the column.

    `where` prefixes error messages (e.g. the file and entry the target came from).
    """
    if not isinstance(text, str):
        raise InputError(f"{where}target {text!r}: must be a string")
    return [Comparison(c.stat, c.op, c.threshold, c.text, name)
            for c in _Parser(text, where).target()]


def depth(node) -> int:
    """Levels of the expression tree under `node` (counted without recursion)."""
    deepest, todo = 0, [(node, 1)]
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in _children(item))
    return deepest


def _children(node) -> list:
    return [c for c in (getattr(node, "operand", None), getattr(node, "left", None),
                        getattr(node, "right", None)) if c is not None]


def constant(node) -> float | None:
    """The value of a metric-free expression (None if it uses a metric); ArithmeticError
    when a part divides by zero or is not a finite number."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Neg):
        value = constant(node.operand)
        return None if value is None else -value
    if not isinstance(node, BinOp):
        return None
    left, right = constant(node.left), constant(node.right)
    if node.op == "/" and right == 0:
        raise ZeroDivisionError(f"division by zero in {format_expr(node)}")
    if left is None or right is None:
        return None
    value = _ARITH[node.op](left, right)
    if not math.isfinite(value):
        raise OverflowError(f"{format_expr(node)} is not a finite number")
    return value


def walk(node):
    """The node and all nodes below it."""
    yield node
    for child in _children(node):
        yield from walk(child)


def uses_baseline(comparisons: list[Comparison]) -> bool:
    """Whether any comparison needs the sync baseline (a speedup)."""
    return any(getattr(n, "name", getattr(n, "func", None)) == BASELINE_NAME
               for c in comparisons for n in walk(c.stat))


def format_expr(node, parent: int = 0, right: bool = False) -> str:
    """Canonical text of an expression, with only the parentheses it needs."""
    if isinstance(node, Num):
        return repr(node.value)
    if isinstance(node, Scalar):
        return node.name
    if isinstance(node, FunctionCall):
        return f"{node.func}({node.metric})"
    if isinstance(node, Neg):
        return "-" + format_expr(node.operand, 3)
    prec = _PRECEDENCE[node.op]
    text = f"{format_expr(node.left, prec)} {node.op} {format_expr(node.right, prec, True)}"
    return f"({text})" if prec < parent or (right and prec == parent) else text


def evaluate(node, stats):
    """The value of an expression; `stats` provides the statistics (validate.Bootstrap).

    Values may be numbers or numpy arrays (one entry per bootstrap resample).
    """
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Scalar):
        method, args = SCALARS[node.name]
        return getattr(stats, method)(*args)
    if isinstance(node, FunctionCall):
        percentile = _PERCENTILE.fullmatch(node.func)
        if percentile:
            return stats.percentile(int(percentile.group(1)), node.metric)
        method = "speedup" if node.func == BASELINE_NAME else node.func
        return getattr(stats, method)(node.metric)
    if isinstance(node, Neg):
        return -evaluate(node.operand, stats)
    return _ARITH[node.op](evaluate(node.left, stats), evaluate(node.right, stats))
