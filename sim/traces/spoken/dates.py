"""Dates in tokens: "tomorrow", "next Friday", "June 14th", "the 14th", "2024-06-14".

A spoken date is a set of constraints (year, month, day of month, weekday, days from the
conversation's date); a written date is consistent with it when it meets every constraint.
Without a conversation date, a constraint relative to it ("tomorrow", "next Friday" as a
day count) is consistent with any date; a weekday or day of month still has to agree.
"""

import datetime as dt
from dataclasses import dataclass

from rtsim.traces.spoken.numbers import Number

MONTHS = ("january february march april may june july august september october november "
          "december").split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_OFFSETS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
_WINDOWS = {None: (-7, 7), "on": (-7, 7), "this": (0, 7), "coming": (0, 7), "next": (1, 14),
            "last": (-14, -1)}
"""Days from the conversation's date a weekday may name, by the word before it."""


@dataclass(frozen=True, slots=True)
class Spoken:
    """What a spoken date says; None where it says nothing."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    relation: str | None = None
    offset: int | None = None

    @property
    def names_a_day(self) -> bool:
        return self.day is not None or self.weekday is not None or self.offset is not None

    def fits(self, when: dt.date, today: dt.date | None) -> bool:
        """Whether the written date `when` is consistent with what was said."""
        for said, actual in ((self.year, when.year), (self.month, when.month),
                             (self.day, when.day), (self.weekday, when.weekday())):
            if said is not None and said != actual:
                return False
        if today is None:
            return True
        if self.offset is not None and (when - today).days != self.offset:
            return False
        if self.weekday is not None and self.day is None:
            low, high = _WINDOWS[self.relation]
            return low <= (when - today).days <= high
        return True


def read_dates(toks: tuple[str, ...],
               numbers: dict[int, list[Number]]) -> dict[int, tuple[int, Spoken]]:
    """(end, date) of the longest date read from each token where one starts."""
    out, p = {}, 0
    while p < len(toks):
        found = _read_at(toks, numbers, p)
        if found:
            out[p] = found
        p = found[0] if found else p + 1
    return out


def _read_at(toks, numbers, p: int) -> tuple[int, Spoken] | None:
    word = toks[p]
    if word in _OFFSETS:
        return p + 1, Spoken(offset=_OFFSETS[word])
    if toks[p:p + 3] in (("day", "after", "tomorrow"), ("day", "before", "yesterday")):
        return p + 3, Spoken(offset=2 if toks[p + 2] == "tomorrow" else -2)
    if word == "in" and p + 2 < len(toks):
        count = _whole(numbers, p + 1, 1, 366)
        if count and count[0] < len(toks) and toks[count[0]] in ("day", "days"):
            return count[0] + 1, Spoken(offset=count[1])
    relation = word if word in ("this", "next", "last", "coming", "on") else None
    q = p + (relation is not None)
    if q < len(toks) and toks[q] in WEEKDAYS:
        weekday = WEEKDAYS.index(toks[q])
        calendar = _calendar(toks, numbers, q + 1) if q + 1 < len(toks) else None
        if calendar:
            end, said = calendar
            return end, Spoken(said.year, said.month, said.day, weekday, relation)
        return q + 1, Spoken(weekday=weekday, relation=relation)
    return _calendar(toks, numbers, p)


def _calendar(toks, numbers, p: int) -> tuple[int, Spoken] | None:
    """"June 14th [2024]", "14 June", "the 14th [of June]", "June 2024", ISO and 6/14."""
    word = toks[p]
    if word.count("-") == 2:
        year, month, day = (int(x) for x in word.split("-"))
        return p + 1, Spoken(year, month, day)
    if word.count("/") >= 1:
        parts = [int(x) for x in word.split("/")]
        year = parts[2] + (2000 if parts[2] < 100 else 0) if len(parts) == 3 else None
        return p + 1, Spoken(year, parts[0], parts[1])
    if word in MONTHS:
        return _after_month(toks, numbers, p)
    lead = p + (word == "the")
    day = _day(numbers, lead, ordinal_only=word == "the")
    if not day:
        return None
    end = day[0] + (day[0] < len(toks) and toks[day[0]] == "of")
    if end < len(toks) and toks[end] in MONTHS:
        month = MONTHS.index(toks[end]) + 1
        year = _whole(numbers, end + 1, 1900, 2100)
        return (year[0] if year else end + 1), Spoken(year and year[1], month, day[1])
    if word == "the":
        return day[0], Spoken(day=day[1])
    return None


def _after_month(toks, numbers, p: int) -> tuple[int, Spoken] | None:
    month = MONTHS.index(toks[p]) + 1
    k = p + 1 + (p + 1 < len(toks) and toks[p + 1] == "the")
    day = _day(numbers, k, ordinal_only=False)
    if day:
        year = _whole(numbers, day[0], 1900, 2100)
        return (year[0] if year else day[0]), Spoken(year and year[1], month, day[1])
    year = _whole(numbers, p + 1, 1900, 2100)
    if year:
        return year[0], Spoken(year[1], month)
    return (p + 1, Spoken(month=month)) if toks[p] != "may" else None


def _day(numbers, p: int, ordinal_only: bool) -> tuple[int, int] | None:
    for n in numbers.get(p, ()):
        if n.value is not None and n.value == int(n.value) and 1 <= n.value <= 31 \
                and (n.ordinal or not ordinal_only):
            return n.end, int(n.value)
    return None


def _whole(numbers, p: int, low: int, high: int) -> tuple[int, int] | None:
    """(end, value) of a whole number in [low, high] read at `p` (cardinal or digits)."""
    for n in numbers.get(p, ()):
        value = n.value if n.value is not None else int(n.digits)
        if not n.ordinal and value == int(value) and low <= value <= high:
            return n.end, int(value)
    return None
