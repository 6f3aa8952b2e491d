"""What a text says, read once: its tokens and the numbers, times, dates and amounts in it."""

import datetime as dt
from functools import lru_cache

from rtsim.traces.spoken.amounts import read_amounts
from rtsim.traces.spoken.clock import read_times
from rtsim.traces.spoken.dates import read_dates
from rtsim.traces.spoken.numbers import read_numbers
from rtsim.traces.spoken.values import (
    AmountValue,
    Atom,
    DateValue,
    MonthValue,
    NumberAtom,
    Target,
    TimeAtom,
    Words,
)
from rtsim.traces.spoken.words import tokens


class Heard:
    """An utterance (or any text) indexed for finding argument values in it."""

    def __init__(self, words: tuple[str, ...], today: dt.date | None):
        self.tokens, self.ends = tokens(words)
        self.today = today
        self.numbers = read_numbers(self.tokens)
        self.times = read_times(self.tokens, self.numbers)
        self.dates = read_dates(self.tokens, self.numbers)
        self.amounts = read_amounts(self.tokens, self.numbers)
        self.at: dict[str, list[int]] = {}
        for p, token in enumerate(self.tokens):
            self.at.setdefault(token, []).append(p)

    def word_end(self, alternatives: tuple[Target, ...]) -> int | None:
        """1-based index of the word where the first alternative heard is complete, or None."""
        ends = [e for e in (self._end(t) for t in alternatives) if e is not None]
        return self.ends[min(ends) - 1] if ends else None

    def _end(self, target: Target) -> int | None:
        """Token position just after the earliest place `target` is heard, or None."""
        if isinstance(target, Words):
            return self._words_end(target.atoms)
        if isinstance(target, DateValue):
            return self._date_end(target)
        if isinstance(target, MonthValue):
            return _first(e for e, said in self.dates.values() if said.month == target.month
                          and said.year in (None, target.year))
        if isinstance(target, AmountValue):
            return _first(e for e, value, currency in self.amounts.values()
                          if value == target.value and currency == target.currency)
        raise TypeError(target)

    def _date_end(self, target: DateValue) -> int | None:
        day = _first(e for e, said in self.dates.values()
                     if said.names_a_day and said.fits(target.date, self.today))
        if day is None or target.times is None:
            return day
        time = self._atom_starts(TimeAtom(target.times))
        return None if not time else max(day, min(e for _, e in time))

    def _words_end(self, atoms: tuple[Atom, ...]) -> int | None:
        best = None
        for _, end in self._atom_starts(atoms[0]):
            frontier = {end}
            for atom in atoms[1:]:
                frontier = {e for p in frontier for e in self._atom_at(atom, p)}
                if not frontier:
                    break
            else:
                best = min(frontier) if best is None else min(best, *frontier)
        return best

    def _atom_starts(self, atom: Atom) -> list[tuple[int, int]]:
        """(start, end) of every place `atom` is heard."""
        if isinstance(atom, str):
            return [(p, p + 1) for p in self.at.get(atom, ())]
        starts = self.numbers if isinstance(atom, NumberAtom) else self.times
        return [(p, e) for p in starts for e in self._atom_at(atom, p)]

    def _atom_at(self, atom: Atom, p: int) -> list[int]:
        """Ends of the ways `atom` is heard from token `p`."""
        if isinstance(atom, str):
            return [p + 1] if p < len(self.tokens) and self.tokens[p] == atom else []
        if isinstance(atom, NumberAtom):
            return [r.end for r in self.numbers.get(p, ())
                    if atom.value is not None and r.value == atom.value
                    or atom.digits is not None and r.digits == atom.digits]
        found = self.times.get(p)
        return [found[0]] if found and found[1] & atom.times else []


def _first(ends) -> int | None:
    return min(ends, default=None)


@lru_cache(maxsize=1024)
def hear(words: tuple[str, ...], today: dt.date | None) -> Heard:
    """The index of `words`, kept for the texts read most recently."""
    return Heard(words, today)
