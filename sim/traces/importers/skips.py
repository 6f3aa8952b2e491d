"""Records an import skipped: one summary line, or (strict) the error of the first."""

from collections import Counter

from rtsim.errors import InputError
from rtsim.traces.importers.otlp import Skip

SHOWN = 3
"""Skipped records named, with their location, in the summary line."""


def summary(skipped: list[Skip], total: int, unit: str) -> str:
    """'skipped 3 of 2,000 conversations: 2 empty, 1 with no answered user turn (first:
    FILE:LINE: ...)'."""
    reasons = Counter(s.reason for s in skipped)
    kinds = ", ".join(f"{n:,} {reason}" for reason, n in reasons.most_common())
    first = "; ".join(s.line() for s in skipped[:SHOWN])
    more = f"; and {len(skipped) - SHOWN:,} more" if len(skipped) > SHOWN else ""
    plural = unit if total == 1 else unit + "s"
    return f"skipped {len(skipped):,} of {total:,} {plural}: {kinds} ({first}{more})"


class RecordError(InputError):
    """A record an import can skip; `reason` says why in a few words, for counting."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def skip_of(exc: InputError, where: str) -> Skip:
    """The Skip of a record that raised `exc` (a RecordError's reason, else "malformed")."""
    detail = str(exc).removeprefix(f"{where}: ")
    return Skip(where, getattr(exc, "reason", "malformed"), detail)


def refuse(skipped: list[Skip], kept: int = 0, strict: bool = True) -> None:
    """InputError naming the first skipped record when `strict` or when none was `kept`
    (the strict import's one-line error)."""
    if skipped and (strict or not kept):
        first = skipped[0]
        raise InputError(f"{first.where}: {first.detail or first.reason}")
