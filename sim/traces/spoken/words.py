"""Tokens of spoken text: lowercased, punctuation dropped, each with the word it ends in."""

import re

_TOKEN = re.compile(
    r"(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
    r"|(?P<slash>\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
    r"|(?P<clock>\d{1,2}:\d{2}(?::\d{2})?)"
    r"|(?P<grouped>\d{1,3}(?:,\d{3})+(?:\.\d+)?)"
    r"|(?P<number>\d+(?:\.\d+)?(?:st|nd|rd|th)?)"
    r"|(?P<money>[$€£])"
    r"|(?P<word>[^\W_]+(?:['.][^\W_]+)*)", re.UNICODE)
_DATE_TIME = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})t(\d{1,2}:\d{2})")
_SPELLING = {"a.m": "am", "p.m": "pm", "o'clock": "oclock", "oclock": "oclock"}
_SYNONYMS = """usd $ dollar dollars usd bucks | eur € euro euros eur | gbp £ pound pounds gbp quid
| january jan | february feb | april apr | june jun | july jul | august aug
| september sep sept | october oct | november nov | december dec
| tuesday tue tues | thursday thu thur thurs | friday fri"""
CANONICAL = {spelling: group.split()[0] for group in _SYNONYMS.split("|")
             for spelling in group.split()[1:]}
"""Spellings that name the same thing (a currency, a month, a weekday) and their one form.

Abbreviations that are also words ("mar", "wed", "sat", "sun", "mon") are left out."""


def tokens(words) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Canonical tokens of raw words, and for each the 1-based index of its word."""
    out, ends = [], []
    for i, word in enumerate(words, start=1):
        for match in _TOKEN.finditer(_DATE_TIME.sub(r"\1 \2", word.lower())):
            out.append(_canonical(match))
            ends.append(i)
    return tuple(out), tuple(ends)


def _canonical(match: re.Match) -> str:
    text = match.group()
    kind = match.lastgroup
    if kind == "grouped":
        return text.replace(",", "")
    if kind == "word":
        text = _SPELLING.get(text, text)
        if text.endswith("'s"):
            text = text[:-2]
        return CANONICAL.get(text, text)
    if kind == "money":
        return CANONICAL[text]
    return text
