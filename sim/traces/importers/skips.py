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


def refuse(skipped: list[Skip]) -> None:
    """InputError naming the first skipped record (the strict import's one-line error)."""
    if skipped:
        raise InputError(skipped[0].line())
