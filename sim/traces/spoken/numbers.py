"""Numbers in tokens: cardinals in words or digits, ordinals, decimals, digit strings.

A cardinal is read greedily from the first word of a number phrase ("two hundred and
forty five" is 245, not 2, 200 or 45); a digit string concatenates spoken digit groups
("five five five one two", "two forty five", "twenty twenty four"). Phrases are bounded
in length, so reading is linear in the number of tokens.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

MAX_PHRASE = 32
"""Most tokens one number phrase may span."""
MAX_RUN = 24
"""Most tokens one digit string may span."""

_UNITS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine".split())}
_TEENS = {w: i + 10 for i, w in enumerate("ten eleven twelve thirteen fourteen fifteen sixteen "
                                           "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty "
                                                "ninety".split())}
_ORDINAL_UNITS = {w: i + 1 for i, w in enumerate("first second third fourth fifth sixth seventh "
                                                  "eighth ninth".split())}
_ORDINAL_TEENS = {w: i + 10 for i, w in enumerate(
    "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
    "nineteenth".split())}
_ORDINAL_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split())}
_SCALES = {"thousand": 10 ** 3, "million": 10 ** 6, "billion": 10 ** 9}
_ORDINAL_SCALES = {"thousandth": 10 ** 3, "millionth": 10 ** 6, "billionth": 10 ** 9}
_DIGIT_WORDS = {**_UNITS, "oh": 0, "o": 0}
_WRITTEN = re.compile(r"(\d+)(?:\.(\d+))?(st|nd|rd|th)?")


@dataclass(frozen=True, slots=True)
class Number:
    """One reading of a number phrase: tokens [start, end), its value and its digits."""

    start: int
    end: int
    value: Decimal | None
    digits: str | None
    ordinal: bool = False


def read_numbers(toks: tuple[str, ...]) -> dict[int, list[Number]]:
    """Readings of every number phrase, by the token it starts at."""
    out: dict[int, list[Number]] = {}
    p = run_end = 0
    while p < len(toks):
        run = digit_string(toks, p) if p >= run_end else None
        found = [r for r in (cardinal(toks, p), run) if r is not None]
        if found:
            out[p] = found
        run_end = run.end if run else run_end
        p = found[0].end if found and found[0].value is not None else p + 1
    return out


def cardinal(toks: tuple[str, ...], p: int) -> Number | None:
    """The longest cardinal or ordinal read from token `p`, or None."""
    state = _Cardinal()
    best = None
    limit = min(len(toks), p + MAX_PHRASE)
    i = p
    while i < limit:
        step = state.take(toks, i, limit)
        if step == 0:
            break
        i += step
        if state.complete:
            value = state.value
            digits = toks[p] if i == p + 1 and toks[p].isdigit() else \
                str(int(value)) if value == value.to_integral_value() else None
            best = Number(p, i, value, digits, state.ordinal)
        if state.closed:
            break
    return best


class _Cardinal:
    """The running state of a cardinal being read word by word."""

    def __init__(self):
        self.total = 0
        self.group: Decimal | int | None = None
        self.last = None
        self.scale = float("inf")
        self.hundred = False
        self.ordinal = False
        self.closed = False

    @property
    def complete(self) -> bool:
        return self.last not in (None, "a")

    @property
    def value(self) -> Decimal:
        return Decimal(self.total) + Decimal(self.group or 0)

    def take(self, toks, i: int, limit: int) -> int:
        """Consume the token(s) at `i`; how many (0: the phrase ends before `i`)."""
        word, after = toks[i], toks[i + 1] if i + 1 < limit else None
        if word == "a" and self.last is None and after in ("hundred", "dozen", *_SCALES):
            self.group, self.last = 1, "a"
            return 1
        if word == "and" and self.last in ("hundred", "scale") and _small(after) is not None:
            return 1
        if word == "point" and self.complete and not self.ordinal and after in _DIGIT_WORDS:
            return self._point(toks, i + 1, limit)
        if self.last is None and (written := _WRITTEN.fullmatch(word)):
            return self._written(written)
        return self._word(word)

    def _written(self, match: re.Match) -> int:
        self.group = Decimal(match.group(0).rstrip("stndrh"))
        self.last = "digits" if match.group(2) is None else "decimal"
        if match.group(3):
            self.ordinal = self.closed = True
        return 1

    def _point(self, toks, i: int, limit: int) -> int:
        digits = []
        while i + len(digits) < limit and toks[i + len(digits)] in _DIGIT_WORDS:
            digits.append(str(_DIGIT_WORDS[toks[i + len(digits)]]))
        self.group = Decimal(self.group or 0) + Decimal("0." + "".join(digits))
        self.last, self.closed = "decimal", True
        return 1 + len(digits)

    def _word(self, word: str) -> int:
        small = _small(word)
        if small is not None:
            ordinal = word in _ORDINAL_UNITS or word in _ORDINAL_TEENS or word in _ORDINAL_TENS
            return self._below_hundred(small, ordinal)
        if word in ("hundred", "hundredth"):
            if self.last is None:
                self.group = 1
            elif self.last not in ("unit", "teen", "tens", "a", "digits") or self.hundred \
                    or not 0 < self.group < 100:
                return 0
            self.group, self.hundred, self.last = self.group * 100, True, "hundred"
            self.ordinal = self.closed = word == "hundredth"
            return 1
        scale = _SCALES.get(word) or _ORDINAL_SCALES.get(word)
        if scale:
            if not self.complete and self.last != "a" or not self.group or scale >= self.scale:
                return 0
            self.total, self.group = self.total + self.group * scale, 0
            self.scale, self.hundred, self.last = scale, False, "scale"
            self.ordinal = self.closed = word in _ORDINAL_SCALES
            return 1
        if word == "dozen" and self.last in ("unit", "teen", "tens", "a", "digits") \
                and not self.total:
            self.group, self.last, self.closed = self.group * 12, "dozen", True
            return 1
        return 0

    def _below_hundred(self, value: int, ordinal: bool) -> int:
        kind = "unit" if value < 10 else "teen" if value < 20 else "tens"
        allowed = {"unit": (None, "tens", "hundred", "scale"),
                   "teen": (None, "hundred", "scale"), "tens": (None, "hundred", "scale")}
        if self.last not in allowed[kind] or (value == 0 and self.last is not None):
            return 0
        if kind == "unit" and self.last == "tens" and self.group % 10:
            return 0
        self.group = (self.group or 0) + value
        self.last, self.ordinal, self.closed = kind, ordinal, ordinal
        return 1


def _small(word) -> int | None:
    """The value of a number word below a hundred (cardinal or ordinal), else None."""
    for table in (_UNITS, _TEENS, _TENS, _ORDINAL_UNITS, _ORDINAL_TEENS, _ORDINAL_TENS):
        if word in table:
            return table[word]
    return None


def digit_string(toks: tuple[str, ...], p: int) -> Number | None:
    """Two or more spoken digit groups from token `p`, concatenated ("nine one one")."""
    groups: list[str] = []
    i, limit = p, min(len(toks), p + MAX_RUN)
    while i < limit:
        group, used = _digit_group(toks, i, limit)
        if not used:
            break
        groups.append(group)
        i += used
    if len(groups) < 2:
        return None
    return Number(p, i, None, "".join(groups))


def _digit_group(toks, i: int, limit: int) -> tuple[str, int]:
    word = toks[i]
    if word.isdigit():
        return word, 1
    if word in ("double", "triple") and i + 1 < limit and toks[i + 1] in _DIGIT_WORDS:
        return str(_DIGIT_WORDS[toks[i + 1]]) * (2 if word == "double" else 3), 2
    if word in _DIGIT_WORDS:
        return str(_DIGIT_WORDS[word]), 1
    if word in _TEENS:
        return str(_TEENS[word]), 1
    if word in _TENS:
        if i + 1 < limit and toks[i + 1] in _UNITS and toks[i + 1] != "zero":
            return str(_TENS[word] + _UNITS[toks[i + 1]]), 2
        return str(_TENS[word]), 1
    return "", 0
