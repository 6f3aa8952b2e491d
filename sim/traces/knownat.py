"""When every argument value of a call has been spoken (`known_at`, docs/trace-format.md).

`find_end` is the literal whole-word search importers use on tool outputs.
"""

import datetime as dt
import re

from rtsim.traces.spoken.index import hear
from rtsim.traces.spoken.values import targets

_WORD = re.compile(r"[^\W_]+(?:['.][^\W_]+)*", re.UNICODE)
_NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve "
                 "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()


def split_words(text: str, keep_case: bool = False) -> list[str]:
    """Words of `text`: split on white space (keep_case) or normalised for matching."""
    if keep_case:
        return text.split()
    return [w.strip(".").replace("'s", "") for w in _WORD.findall(text.lower())]


def _spoken_values(value) -> list[str]:
    """The values inside an argument that a user would say aloud."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [_number_text(value)]
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _spoken_values(item)]
    return [str(value)]


def _number_text(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _variants(word: str) -> set[str]:
    """A normalised word and its spoken-number twin (3 <-> three)."""
    out = {word}
    if word.isdigit() and int(word) < len(_NUMBER_WORDS):
        out.add(_NUMBER_WORDS[int(word)])
    elif word in _NUMBER_WORDS:
        out.add(str(_NUMBER_WORDS.index(word)))
    return out


def find_end(value: str, spoken: list[str]) -> int | None:
    """1-based end position of the first place `value`'s words occur in `spoken`, or None."""
    target = split_words(value)
    if not target:
        return 0
    n = len(target)
    for start in range(len(spoken) - n + 1):
        if all(spoken[start + i] in _variants(target[i]) for i in range(n)):
            return start + n
    return None


def compute_known_at(arguments: dict, words: tuple[str, ...], derived: tuple[str, ...] = (),
                     date: dt.date | None = None) -> int | None:
    """Words after which all spoken argument values are heard; None if one never is.

    `words` are the utterance's raw words and `date` the conversation's date. A value not
    heard in the utterance but found in one of the `derived` texts (outputs of the calls
    this one depends on, earlier turns) comes from there and is skipped.
    """
    heard = hear(tuple(words), date)
    known = 0
    for value in _spoken_values(arguments):
        ways = targets(value)
        if not ways:
            continue
        end = heard.word_end(ways)
        if end is None:
            if any(hear(tuple(text.split()), date).word_end(ways) is not None
                   for text in derived):
                continue
            return None
        known = max(known, end)
    return known
