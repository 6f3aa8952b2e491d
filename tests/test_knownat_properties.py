"""Properties of known_at: bounded by the utterance, numbers and times spoken in any
generated form are heard at their last word, and words after the utterance change nothing."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from rtsim.traces.knownat import compute_known_at

UNITS = "zero one two three four five six seven eight nine".split()
TEENS = ("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen "
         "nineteen").split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
PLAIN = ["please", "thanks", "okay", "really", "blue", "car", "soon", "then", "well"]
"""Words that are no part of a number, a time, a date or an amount."""
MIXED = PLAIN + ["two", "hundred", "and", "forty", "five", "at", "9:15", "pm", "the", "14th",
                 "June", "Friday", "tomorrow", "$25", "dollars", "1,200", "quarter", "past",
                 "nine", "a", "dozen", "point", "oh", "Bob", "twenty", "first", "noon",
                 "o'clock", "fifteen", "thousand", "million", "3.5", "12:30", "am", "in",
                 "days", "next", "of", "May", "$", "€", "cents", "2024-06-14", "6/14", "7"]
SETTINGS = settings(max_examples=200, deadline=None)


def spell_below_thousand(n: int, joined: bool, with_and: bool) -> list[str]:
    words = []
    if n >= 100:
        words += [UNITS[n // 100], "hundred"] + (["and"] if with_and and n % 100 else [])
        n %= 100
    if n >= 20:
        tens, unit = TENS[n // 10 - 2], n % 10
        words += [f"{tens}-{UNITS[unit]}"] if unit and joined else \
            [tens] + ([UNITS[unit]] if unit else [])
    elif n >= 10:
        words.append(TEENS[n - 10])
    elif n or not words:
        words.append(UNITS[n])
    return words


def spell(n: int, joined: bool, with_and: bool) -> list[str]:
    """English words of 0 <= n < 10**12, hyphenated tens when `joined`."""
    words = []
    for scale, name in ((10 ** 9, "billion"), (10 ** 6, "million"), (10 ** 3, "thousand")):
        if n >= scale:
            words += spell_below_thousand(n // scale, joined, with_and) + [name]
            n %= scale
    if n or not words:
        words += spell_below_thousand(n, joined, with_and)
    return words


@SETTINGS
@given(st.integers(0, 10 ** 11), st.booleans(), st.booleans(), st.lists(st.sampled_from(PLAIN),
                                                                      max_size=4))
def test_a_number_spoken_in_words_is_heard_at_its_last_word(n, joined, with_and, before):
    words = tuple(before + ["order"] + spell(n, joined, with_and) + ["units"])
    assert compute_known_at({"n": n}, words) == len(words) - 1
    assert compute_known_at({"n": str(n)}, words) == len(words) - 1
    assert compute_known_at({"n": n + 1}, words) is None


@SETTINGS
@given(st.text("0123456789", min_size=2, max_size=12))
def test_digits_spoken_one_by_one_are_heard(digits):
    words = ("my", "number", "is", *(UNITS[int(d)] for d in digits))
    assert compute_known_at({"phone": digits}, words) == len(words)


@SETTINGS
@given(st.integers(0, 23), st.integers(0, 59), st.booleans())
def test_a_time_spoken_in_12_hour_form_is_heard_and_its_neighbours_are_not(hour, minute, words):
    twelve, part = (hour % 12 or 12), ("am" if hour < 12 else "pm")
    if words:
        spoken = spell(twelve, True, False) + (
            [] if minute == 0 else ["oh", UNITS[minute]] if minute < 10
            else spell(minute, True, False))
    else:
        spoken = [f"{twelve}:{minute:02d}"]
    utterance = tuple(["call", "at", *spoken, part, "please"])
    assert compute_known_at({"t": f"{hour:02d}:{minute:02d}"}, utterance) == len(utterance) - 1
    other = (hour * 60 + minute + 1) % (24 * 60)
    assert compute_known_at({"t": f"{other // 60:02d}:{other % 60:02d}"}, utterance) is None


@SETTINGS
@given(st.dates(dt.date(2000, 1, 1), dt.date(2090, 1, 1)), st.integers(0, 6))
def test_a_weekday_is_heard_for_its_date_only(today, ahead):
    day = today + dt.timedelta(days=ahead)
    words = ("on", WEEKDAYS[day.weekday()], "please")
    assert compute_known_at({"d": day.isoformat()}, words, (), today) == 2
    wrong = day + dt.timedelta(days=1)
    assert compute_known_at({"d": wrong.isoformat()}, words, (), today) is None


VALUES = st.one_of(st.integers(-5, 3000), st.sampled_from(
    ["245", "09:15", "21:15", "2024-06-14", "2024-06-14 15:00:00", "$25", "1200", "Bob",
     "June", "Friday", "twenty first", "12:00", "555-1234"]), st.text(max_size=10))


@SETTINGS
@given(st.lists(st.sampled_from(MIXED), min_size=1, max_size=30),
       st.dictionaries(st.sampled_from("abc"), VALUES, max_size=3),
       st.lists(st.sampled_from(PLAIN), min_size=1, max_size=5),
       st.none() | st.dates(dt.date(2024, 6, 1), dt.date(2024, 6, 30)))
def test_bounded_and_unchanged_by_words_after_the_utterance(words, arguments, after, today):
    known = compute_known_at(arguments, tuple(words), (), today)
    assert known is None or 0 <= known <= len(words)
    if not any(w in PLAIN for value in arguments.values() for w in str(value).lower().split()):
        assert compute_known_at(arguments, tuple(words + after), (), today) == known


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 15, 10 ** 15)
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=8)
TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(" :/-,.$€£0123456789"),
               max_size=60)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.dictionaries(st.text(max_size=3), JSON, max_size=3), st.lists(TEXT, max_size=2),
       st.none() | st.dates())
def test_any_text_and_values_give_a_word_position_or_none(text, arguments, derived, today):
    words = tuple(text.split())
    known = compute_known_at(arguments, words, tuple(derived), today)
    assert known is None or 0 <= known <= len(words)
