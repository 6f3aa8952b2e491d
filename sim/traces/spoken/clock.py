"""Times of day in tokens: "9:15 am", "nine fifteen", "quarter past nine", "3 PM", "noon".

A time is a set of (hour, minute) pairs on a 24-hour clock: "3 pm" is {(15, 0)}, "15:00"
is {(15, 0)}, a 12-hour time said without am or pm is both ("nine fifteen" is
{(9, 15), (21, 15)}). A bare hour ("at three") counts only after a word that introduces a
time. Each reading is the longest from its first token, so "nine fifteen" is never 9:00.
"""

from rtsim.traces.spoken.numbers import Number

Times = frozenset[tuple[int, int]]
_NAMED = {"noon": (12, 0), "midday": (12, 0), "midnight": (0, 0)}
_INTRODUCERS = {"at", "by", "around", "until", "till", "before", "after", "from", "about"}
_PAST, _TO = {"past", "after"}, {"to", "till", "of", "before"}
_PARTS = {"morning": "am", "afternoon": "pm", "evening": "pm", "night": "pm", "tonight": "pm"}


def read_times(toks: tuple[str, ...], numbers: dict[int, list[Number]],
               bare: bool = False) -> dict[int, tuple[int, Times]]:
    """(end, times) of the time read from each token where one starts.

    `bare` lets an hour alone count anywhere (for reading an argument value).
    """
    out, p = {}, 0
    while p < len(toks):
        found = _read_at(toks, numbers, p, bare or p > 0 and toks[p - 1] in _INTRODUCERS)
        if found:
            out[p] = found
        p = found[0] if found else p + 1
    return out


def _read_at(toks, numbers, p: int, bare: bool) -> tuple[int, Times] | None:
    word = toks[p]
    if word in _NAMED:
        return p + 1, frozenset({_NAMED[word]})
    if ":" in word:
        hour, minute = (int(x) for x in word.split(":")[:2])
        if hour > 23 or minute > 59:
            return None
        return _suffix(toks, p + 1, hour, minute,
                       exact=word.startswith("0") or hour == 0 or hour > 12)
    relative = _relative(toks, numbers, p)
    if relative:
        return relative
    hour = _whole(numbers, p, 0, 23)
    if hour is None:
        return None
    end, h = hour
    if end < len(toks) and toks[end] == "oclock":
        return _suffix(toks, end + 1, h, 0, exact=False)
    minutes = _minutes(toks, numbers, end)
    if minutes and h <= 12:
        return _suffix(toks, minutes[0], h, minutes[1], exact=h == 0)
    after = _suffix(toks, end, h, 0, exact=h == 0 or h > 12)
    if after and (after[0] > end or bare):
        return after
    return None


def _whole(numbers, p: int, low: int, high: int) -> tuple[int, int] | None:
    """(end, value) of the cardinal at `p` when it is a whole number in [low, high]."""
    for n in numbers.get(p, ()):
        if n.value is not None and not n.ordinal and n.value == int(n.value) \
                and low <= n.value <= high:
            return n.end, int(n.value)
    return None


def _minutes(toks, numbers, p: int) -> tuple[int, int] | None:
    """Minutes after an hour: "fifteen", "forty five", "oh five"."""
    if p + 1 < len(toks) and toks[p] in ("oh", "o"):
        found = _whole(numbers, p + 1, 1, 9)
        return (found[0], found[1]) if found else None
    found = _whole(numbers, p, 10, 59)
    return found


def _relative(toks, numbers, p: int) -> tuple[int, Times] | None:
    """"quarter past nine", "half past six", "ten to five", "twenty minutes past four"."""
    i = p + (toks[p] == "a")
    if i < len(toks) and toks[i] in ("quarter", "half"):
        minutes, i = (15 if toks[i] == "quarter" else 30), i + 1
    else:
        found = _whole(numbers, p, 1, 29)
        if not found:
            return None
        i, minutes = found
        i += i < len(toks) and toks[i] in ("minute", "minutes")
    if i >= len(toks) or toks[i] not in _PAST | _TO or minutes == 30 and toks[i] in _TO:
        return None
    hour = _whole(numbers, i + 1, 1, 12)
    if not hour:
        return None
    h, m = (hour[1], minutes) if toks[i] in _PAST else (hour[1] - 1 or 12, 60 - minutes)
    return _suffix(toks, hour[0], h, m, exact=False)


def _suffix(toks, p: int, hour: int, minute: int, exact: bool) -> tuple[int, Times] | None:
    """The time with what follows it resolved: "am", "pm", "in the evening", "tonight"."""
    part, end = _part_of_day(toks, p)
    if part and not exact and 1 <= hour <= 12:
        return end, frozenset({(hour % 12 + (12 if part == "pm" else 0), minute)})
    if exact:
        return p, frozenset({(hour, minute)})
    if hour > 12:
        return None
    other = (hour + 12) % 24 if hour else 12
    return p, frozenset({(hour, minute), (other, minute)})


def _part_of_day(toks, p: int) -> tuple[str | None, int]:
    if p < len(toks) and toks[p] in ("am", "pm"):
        return toks[p], p + 1
    if p < len(toks) and toks[p] == "tonight":
        return "pm", p + 1
    for lead in (("in", "the"), ("this",), ("at",)):
        k = p + len(lead)
        if tuple(toks[p:k]) == lead and k < len(toks) and toks[k] in _PARTS:
            return _PARTS[toks[k]], k + 1
    return None, p
