"""known_at hears values as a listener would: each kind of value, and what must not match."""

import datetime as dt

import pytest

from rtsim.traces.knownat import compute_known_at

WEDNESDAY = dt.date(2024, 6, 12)


def known(value, utterance: str, date=None, derived=()):
    return compute_known_at({"v": value}, tuple(utterance.split()), derived, date)


@pytest.mark.parametrize("value,utterance,expected", [
    (245, "order two hundred and forty-five units", 5),
    (245, "order two hundred forty five units", 5),
    (245, "flight two forty five please", 4),
    (25, "table for twenty five", 4),
    (1200, "about 1,200 rows", 2),
    (1200, "about twelve hundred rows", 3),
    ("1,200", "about one thousand two hundred rows", 5),
    (3.5, "three point five stars", 3),
    (12, "a dozen eggs", 2),
    (24, "two dozen eggs", 2),
    (2024, "back in twenty twenty four", 5),
    (1000000, "a million points", 2),
    ("5551234", "call five five five one two three four", 8),
    ("555-1234", "call 555 1234 now", 3),
    ("007", "agent double oh seven", 4),
    (7, "wake me at 7", 4),
    (0, "zero", 1),
    (5000, "5 thousand", 2),
    (3500000, "3.5 million", 2),
])
def test_numbers_in_words_or_digits(value, utterance, expected):
    assert known(value, utterance) == expected


@pytest.mark.parametrize("value,utterance", [
    (246, "order two hundred and forty-five units"),
    (45, "order two hundred and forty-five units"),
    (200, "order two hundred and forty-five units"),
    (5, "order two hundred and forty-five units"),
    (3.6, "three point five stars"),
    (13, "a dozen eggs"),
    (1234, "call five five five one two three four"),
    (21, "twenty one hundred"),
    (5, "5 thousand"),
])
def test_a_different_or_partial_number_is_not_heard(value, utterance):
    assert known(value, utterance) is None


@pytest.mark.parametrize("value,utterance,expected", [
    (3, "the third one", 2),
    (21, "on the 21st", 3),
    (21, "on the twenty-first", 3),
    (21, "on the twenty first", 4),
    (100, "the hundredth visitor", 2),
])
def test_ordinals(value, utterance, expected):
    assert known(value, utterance) == expected


@pytest.mark.parametrize("value,utterance,expected", [
    ("09:15", "wake me at 9:15 am tomorrow", 5),
    ("09:15", "wake me at nine fifteen", 5),
    ("09:15", "wake me at quarter past nine", 6),
    ("9:15 am", "wake me at 9:15", 4),
    ("08:45", "at quarter to nine", 4),
    ("15:00", "call at 3 PM", 4),
    ("15:00", "call at three pm", 4),
    ("3 pm", "call at 15:00", 3),
    ("15:00", "call at three o'clock", 4),
    ("19:00", "dinner at 7 tonight", 4),
    ("19:30", "dinner at seven thirty in the evening", 7),
    ("12:00", "lunch at noon", 3),
    ("00:00", "stop at midnight", 3),
    ("09:05", "at nine oh five", 4),
    ("7:15 am", "Let's say 7:15 am, and go", 4),
])
def test_times_in_12_and_24_hour_forms(value, utterance, expected):
    assert known(value, utterance) == expected


@pytest.mark.parametrize("value,utterance", [
    ("09:00", "wake me at nine fifteen"),
    ("09:00", "wake me at quarter past nine"),
    ("21:15", "wake me at 9:15 am"),
    ("15:00", "call at 3 AM"),
    ("09:15", "wake me at 9:15 pm"),
    ("17:00", "ten past five in the evening"),
    ("15:00", "a table for three"),
    ("15:00", "at fifteen o'clock"),
])
def test_a_time_that_only_shares_the_hour_is_not_heard(value, utterance):
    assert known(value, utterance) is None


@pytest.mark.parametrize("value,utterance,expected", [
    ("2024-06-13", "book it for tomorrow", 4),
    ("2024-06-12", "book it for today", 4),
    ("2024-06-14", "book it for the day after tomorrow", 7),
    ("2024-06-14", "book it for Friday", 4),
    ("2024-06-14", "book it for this Friday", 5),
    ("2024-06-21", "book it for next Friday", 5),
    ("2024-06-07", "what happened last Friday", 4),
    ("2024-06-14", "June 14th works", 2),
    ("2024-06-14", "the 14th of June works", 4),
    ("2024-06-14", "the fourteenth works", 2),
    ("2024-06-14", "on 14 June 2024", 4),
    ("2024-06-14", "on 6/14", 2),
    ("2024-06-14", "on Friday the 14th", 4),
    ("2024-06-15", "in 3 days", 3),
    ("2024-06-14 15:00:00", "Friday at 3 PM please", 4),
    ("2024-06-14T15:00", "at 3 PM on Friday please", 5),
    ("2024-06-14 00:00:00", "Friday please", 1),
    ("2024-06", "sometime in June", 3),
    ("2024-06", "in June 2024", 3),
])
def test_dates_against_the_conversations_date(value, utterance, expected):
    assert known(value, utterance, WEDNESDAY) == expected


@pytest.mark.parametrize("value,utterance", [
    ("2024-06-14", "book it for tomorrow"),
    ("2024-06-13", "book it for Friday"),
    ("2024-06-28", "book it for next Friday"),
    ("2024-06-15", "the 14th works"),
    ("2024-07-14", "June 14th works"),
    ("2025-06-14", "on 14 June 2024"),
    ("2024-06-14 16:00:00", "Friday at 3 PM please"),
    ("2024-06-14 15:00:00", "Thursday at 3 PM please"),
    ("2024-06-14 15:00:00", "Friday please"),
    ("2024-06-14", "in June"),
    ("2024-05-14", "may I book it"),
])
def test_a_weekday_or_day_that_is_not_that_date_is_not_heard(value, utterance):
    assert known(value, utterance, WEDNESDAY) is None


def test_dates_at_the_ends_of_the_calendar():
    assert known("2024-01-01", "tomorrow", dt.date.max) is None
    assert known("0001-01-01", "yesterday", dt.date.min) is None
    assert known("9999-12-30", "in 300 days", dt.date.max) is None
    assert known("9999-12-31", "on 9999-12-31", dt.date.max) == 2


def test_without_a_conversation_date_relative_days_fit_any_date():
    assert known("2024-06-14", "book it for tomorrow") == 4
    assert known("2030-01-01", "book it for today") == 4
    assert known("2024-06-14", "book it for next Friday") == 5
    assert known("2024-06-13", "book it for next Friday") is None
    assert known("2024-06-14", "on the 14th") == 3
    assert known("2024-06-13", "on the 14th") is None


@pytest.mark.parametrize("value,utterance,expected", [
    ("$25", "send twenty-five dollars to mom", 3),
    ("$25", "send $25 to mom", 2),
    ("25 USD", "send 25 bucks to mom", 3),
    ("USD 25.50", "send twenty five dollars and fifty cents", 7),
    ("€30", "it costs thirty euros", 4),
    (25, "send $25 to mom", 2),
    ("USD", "pay in dollars", 3),
])
def test_amounts_with_currency(value, utterance, expected):
    assert known(value, utterance) == expected


@pytest.mark.parametrize("value,utterance", [
    ("$25", "send 25 euros to mom"),
    ("$25", "send twenty six dollars"),
    ("$25", "send twenty five"),
])
def test_a_different_amount_or_currency_is_not_heard(value, utterance):
    assert known(value, utterance) is None


@pytest.mark.parametrize("value,utterance,expected", [
    ("Bob", "call Bob's phone", 2),
    ("New York", "fly to new york tomorrow", 4),
    ("flight 245", "flight two forty five", 4),
    ("June", "in jun", 2),
    ("Friday", "see you fri", 3),
    ("meet at 9:15", "we meet at nine fifteen", 5),
    ("Tuesday", "on Tuesday", 2),
])
def test_text_values_word_by_word(value, utterance, expected):
    assert known(value, utterance) == expected


@pytest.mark.parametrize("value,utterance", [
    ("art", "a party tonight"),
    ("York", "new yorker magazine"),
    ("Bob", "bobby called"),
    ("March", "the marching band"),
])
def test_no_partial_matches_inside_other_words(value, utterance):
    assert known(value, utterance) is None


def test_values_from_dependencies_are_skipped_in_any_written_form():
    args = {"to": "+1 (416) 555-0199", "who": "Ben"}
    words = tuple("text Ben that I'm late".split())
    assert compute_known_at(args, words, ('{"phone": "+1 416 555 0199"}',)) == 2
    assert compute_known_at(args, words, ('{"phone": "+1 416 555 0100"}',)) is None
    dated = {"when": "2024-06-14 15:00", "id": "r-17"}
    assert compute_known_at(dated, ("book", "it"), ("slot 2024-06-14T15:00 id r-17",)) == 0
    assert compute_known_at({"n": 7}, ("book", "it"), ("seven seats left",)) == 0


def test_a_value_spoken_now_counts_where_it_is_spoken_even_if_a_result_has_it():
    output = ("flights: 244, 245, 246",)
    assert compute_known_at({"flight": 245}, tuple("book two forty five".split()), output) == 4
