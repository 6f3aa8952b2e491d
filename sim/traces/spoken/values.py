"""Argument values as what a listener must hear: words, numbers, times, dates, amounts."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from rtsim.traces.spoken.amounts import read_amounts
from rtsim.traces.spoken.clock import Times, read_times
from rtsim.traces.spoken.dates import read_dates
from rtsim.traces.spoken.numbers import read_numbers
from rtsim.traces.spoken.words import tokens

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?"
                  r"(?:Z|[+-]\d{2}:?\d{2})?")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class NumberAtom:
    """A number heard by value (245 = "two hundred forty five") or by its digits."""

    value: Decimal | None
    digits: str | None


@dataclass(frozen=True, slots=True)
class TimeAtom:
    """A time of day: heard when a spoken time shares one of its (hour, minute) pairs."""

    times: Times


Atom = str | NumberAtom | TimeAtom


@dataclass(frozen=True, slots=True)
class Words:
    """Atoms heard one after the other."""

    atoms: tuple[Atom, ...]


@dataclass(frozen=True, slots=True)
class DateValue:
    """A calendar date, and the time of day when the value has one."""

    date: dt.date
    times: Times | None = None


@dataclass(frozen=True, slots=True)
class MonthValue:
    """A month of a year ("2024-06")."""

    year: int
    month: int


@dataclass(frozen=True, slots=True)
class AmountValue:
    """An amount of money in a currency."""

    value: Decimal
    currency: str


Target = Words | DateValue | MonthValue | AmountValue


def targets(text: str) -> tuple[Target, ...]:
    """Ways of hearing the value `text`, any one of which is enough; () if none is spoken."""
    text = text.strip()
    written = _written_date(text)
    if written:
        return (written,)
    toks = tokens(text.split())[0]
    if not toks:
        return ()
    numbers = read_numbers(toks)
    n = len(toks)
    whole = [r for r in numbers.get(0, ()) if r.end == n]
    if whole:
        return tuple(Words((_number_atom(r.value, r.digits),)) for r in whole)
    amount = read_amounts(toks, numbers).get(0)
    if amount and amount[0] == n:
        return (AmountValue(amount[1], amount[2]),)
    time = read_times(toks, numbers, bare=True).get(0)
    if time and time[0] == n:
        return (Words((TimeAtom(time[1]),)),)
    said = read_dates(toks, numbers).get(0)
    if said and said[0] == n and None not in (said[1].year, said[1].month, said[1].day):
        date = _date(said[1].year, said[1].month, said[1].day)
        if date:
            return (DateValue(date),)
    return _words(toks, numbers)


def _number_atom(value: Decimal | None, digits: str | None) -> NumberAtom:
    """A number; one written with a leading zero ("007") is heard by its digits only."""
    if digits and len(digits) > 1 and digits.startswith("0"):
        return NumberAtom(None, digits)
    return NumberAtom(value, digits)


def _written_date(text: str) -> DateValue | MonthValue | None:
    match = _ISO.fullmatch(text)
    if match:
        date = _date(*(int(x) for x in match.group(1, 2, 3)))
        if date is None:
            return None
        hour, minute = (int(x) if x else 0 for x in match.group(4, 5))
        midnight = hour == minute == 0
        return DateValue(date, None if midnight else frozenset({(hour, minute)}))
    match = _YEAR_MONTH.fullmatch(text)
    if match and 1 <= int(match.group(2)) <= 12:
        return MonthValue(int(match.group(1)), int(match.group(2)))
    return None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _words(toks: tuple[str, ...], numbers) -> tuple[Words, ...]:
    atoms: list[Atom] = []
    p = 0
    times = read_times(toks, numbers, bare=False)
    while p < len(toks):
        number = next((r for r in numbers.get(p, ()) if r.value is not None), None)
        if number:
            atoms.append(_number_atom(number.value, number.digits))
            p = number.end
        elif ":" in toks[p] and p in times:
            atoms.append(TimeAtom(times[p][1]))
            p = times[p][0]
        else:
            atoms.append(toks[p])
            p += 1
    out = [Words(tuple(atoms))]
    if len(toks) > 1 and all(t.isdigit() for t in toks):
        out.append(Words((NumberAtom(None, "".join(toks)),)))
    return tuple(out)
