"""The `speculation.accuracy_curve` section: the chance of a right guess against the words
heard past a call's `known_at`, parsed and checked with the key at fault named."""

import math

from rtsim.errors import InputError
from rtsim.policies.base import AccuracyCurve

MAX_POINTS = 1000
WORD_LIMIT = 10**6  # words before or after known_at


def parse_curve(raw, where: str) -> AccuracyCurve | None:
    """An AccuracyCurve from `{words: [...], accuracy: [...]}`, or None for null."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be a mapping with words and accuracy, got {raw!r}")
    for key in raw:
        if key not in ("words", "accuracy"):
            raise InputError(f"{where}.{key}: unknown key (known: words, accuracy)")
    words = _points(raw, "words", where, _word)
    accuracy = _points(raw, "accuracy", where, _chance)
    if len(accuracy) != len(words):
        raise InputError(f"{where}.accuracy: must have one value per point of words "
                         f"({len(words)}), got {len(accuracy)}")
    for i in range(1, len(words)):
        if words[i] <= words[i - 1]:
            raise InputError(f"{where}.words[{i}]: must be greater than the point before "
                             f"({words[i - 1]}), got {words[i]}")
    return AccuracyCurve(words, accuracy)


def _points(raw: dict, key: str, where: str, check) -> tuple:
    where = f"{where}.{key}"
    if key not in raw:
        raise InputError(f"{where}: missing (a list of 1 to {MAX_POINTS} points)")
    values = raw[key]
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_POINTS:
        raise InputError(f"{where}: must be a list of 1 to {MAX_POINTS} points, got "
                         f"{values!r:.80}")
    return tuple(check(v, f"{where}[{i}]") for i, v in enumerate(values))


def _word(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > WORD_LIMIT:
        raise InputError(f"{where}: must be a whole number of words within "
                         f"[-{WORD_LIMIT}, {WORD_LIMIT}], got {value!r}")
    return value


def _chance(value, where: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0 <= value <= 1):
        raise InputError(f"{where}: must be a chance within [0, 1], got {value!r}")
    return float(value)
