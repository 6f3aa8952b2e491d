"""Question-set workloads: one-turn episodes of independent entity searches.

Input: a JSON list (or JSON Lines) of `{id, question, answer}` rows, as in LLMCompiler's
HotpotQA comparison and ParallelQA files; a row's `branch` gives the number of look-ups,
else two. Each question becomes one turn whose one step searches, in parallel, every
entity named in it.
Entity rule and sizes: docs/importers.md.
"""

import re
from pathlib import Path

from rtsim.errors import InputError
from rtsim.files.inputs import json_values
from rtsim.traces.importers.skips import RecordError, skip_of

SEARCH_TOOL = "search"
SEARCH_OUTPUT_TOKENS = 180
"""A Wikipedia search result cut to its first 5 sentences (~125 words), as LLMCompiler's."""
DEFAULT_LOOKUPS = 2
STARTERS = frozenset({
    "a", "after", "an", "and", "are", "as", "assume", "assuming", "at", "between", "both", "by",
    "calculate", "can", "compare", "compute", "consider", "considering", "could", "determine",
    "did", "do", "does", "factoring", "find", "for", "from", "given", "had", "has", "have", "how",
    "identify", "if", "imagine", "in", "is", "let", "name", "of", "on", "or", "out", "suppose",
    "take", "taking", "tell", "the", "using", "was", "were", "what", "when", "where", "which",
    "who", "will", "with", "would",
})
"""Capitalised words that start a sentence without starting a name."""
CONNECTORS = frozenset({"of", "the", "de", "la", "le", "von", "van", "der", "du", "del", "da",
                        "y", "&", "for", "v.", "vs."})
"""Lowercase words allowed inside a name when a capitalised word follows them."""
ABBREVIATIONS = frozenset({"st", "jr", "sr", "dr", "mr", "mrs", "ms", "co", "inc", "ltd", "mt",
                           "v", "vs"})
"""Words whose final period does not end a name."""
_CLOSERS = tuple(",?;:)\"”.!")
_ALTERNATIVES = re.compile(
    r"(?:,|:|\bbetween\b)\s*([^,:?]+?)\s*,?\s*\b(or|and)\b\s*([^?,]+?)\s*[?.]?\s*$")


def import_questions(path: str | Path, limit: int | None = None,
                     skipped: list | None = None) -> list[dict]:
    """One-turn episodes (raw trace dicts) for the first `limit` questions of the file.

    A row that cannot be used raises InputError, or, given a `skipped` list, is left out
    and recorded there.
    """
    path = Path(path)
    episodes, ids = [], set()
    for where, row in json_values(path)[:limit]:
        try:
            episode = question_episode(row, where, path.stem)
            if episode["id"] in ids:
                raise RecordError(f"{where}: id: duplicate id {episode['id']!r}",
                                  "with a duplicate id")
        except InputError as exc:
            if skipped is None:
                raise
            skipped.append(skip_of(exc, where))
            continue
        ids.add(episode["id"])
        episodes.append(episode)
    return episodes


def question_episode(row, where: str, source: str) -> dict:
    """The episode of one question row."""
    if not isinstance(row, dict):
        raise InputError(f"{where}: must be an object with id, question and answer")
    for key in ("id", "question", "answer"):
        if not isinstance(row.get(key), (str, int)) or isinstance(row.get(key), bool):
            raise InputError(f"{where}: {key}: missing or not a string")
    question = str(row["question"]).strip()
    if not question:
        raise RecordError(f"{where}: question: empty", "empty")
    lookups = row.get("branch", DEFAULT_LOOKUPS)
    if not isinstance(lookups, int) or isinstance(lookups, bool) or lookups < 1:
        raise InputError(f"{where}: branch: must be a positive integer")
    entities = find_entities(question, lookups) or [question]
    calls = [{"id": f"c{k}", "name": SEARCH_TOOL, "arguments": {"entity": entity},
              "safe": True, "output_tokens": SEARCH_OUTPUT_TOKENS}
             for k, entity in enumerate(entities, start=1)]
    turn = {"user": question, "steps": [{"calls": calls}]}
    answer = str(row["answer"]).strip()
    turn.update({"answer": answer} if answer else {"answer_tokens": 1})
    return {"id": str(row["id"]), "source": f"questions:{source}", "turns": [turn]}


def find_entities(question: str, count: int = DEFAULT_LOOKUPS) -> list[str]:
    """Up to `count` entities named in `question`, in order of appearance.

    Two-way questions ("X or Y", "between X and Y") take the capitalised spans on either
    side of the last "or"/"and"; otherwise the first `count` distinct capitalised spans
    (see `spans`). With no capitalised span, the text around a final "..., X or Y?".
    """
    tokens = question.split()
    found = spans(tokens)
    if count == 2:
        pair = _around_choice(tokens, found)
        if pair:
            return pair
    names = _distinct(text for _, _, text in found)
    if names:
        return names[:count]
    pair = _alternatives(question) if count == 2 else None
    return pair or []


def _around_choice(tokens: list[str], found: list[tuple[int, int, str]]) -> list[str] | None:
    """The spans ending just before and starting just after the last "or" (or "between's"
    "and")."""
    words = [t.lower() for t in tokens]
    joints = [i for i, w in enumerate(words) if w == "or"]
    if not joints and "between" in words:
        joints = [i for i, w in enumerate(words) if w == "and" and i > words.index("between")]
    for joint in reversed(joints):
        before = [text for _, end, text in found if end == joint]
        after = [text for start, _, text in found if start == joint + 1]
        if before and after:
            return [before[0], after[0]]
    return None


def _alternatives(question: str) -> list[str] | None:
    match = _ALTERNATIVES.search(question)
    if not match:
        return None
    if match.group(2) == "and" and not re.search(r"\bbetween\b", match.group(0)):
        return None
    pair = [_trim(match.group(1)), _trim(match.group(3))]
    return pair if all(0 < len(p.split()) <= 10 for p in pair) else None


def _trim(text: str) -> str:
    text = text.strip(" \"'“”")
    return re.sub(r"^(?:the|a|an) ", "", text)


def spans(tokens: list[str]) -> list[tuple[int, int, str]]:
    """Runs of capitalised words as (first token, token after the last, text).

    A run may hold digits after its first word or before a capitalised word ("277 Park
    Avenue") and connectors followed by a capitalised word ("Statue of the Unity"). A
    possessive or a punctuation mark ends it (not the period of an initial or of an
    ABBREVIATIONS word); a sentence's first word is skipped when it is a STARTER.
    """
    found, start, words, closed = [], None, [], False
    for i, token in enumerate(tokens):
        word, closes = _clean(token)
        sentence_start = i == 0 or tokens[i - 1].endswith((".", "?", "!", ":"))
        inside = start is not None and not closed
        if _starts_name(word, sentence_start, inside, tokens[i + 1:]):
            if start is not None and closed:
                found.append((start, i, " ".join(words)))
                start, words = None, []
            start = i if start is None else start
            words.append(word)
            closed = closes
            continue
        if inside and word.lower() in CONNECTORS and _capital_ahead(tokens[i + 1:]):
            words.append(word)
            continue
        if start is not None:
            found.append((start, i, " ".join(words)))
        start, words, closed = None, [], False
    if start is not None:
        found.append((start, len(tokens), " ".join(words)))
    return found


def _clean(token: str) -> tuple[str, bool]:
    """A token's word and whether it ends a name (punctuation, possessive)."""
    word = token.strip(",?!;:()\"'“”")
    possessive = word.endswith(("'s", "’s"))
    word = word[:-2] if possessive else word
    abbreviation = word.endswith(".") and (
        len(word) == 2 or word[:-1].lower() in ABBREVIATIONS)
    if not abbreviation:
        word = word.rstrip(".")
    closes = possessive or (token.endswith(_CLOSERS) and not abbreviation)
    return word, closes


def _capital_ahead(rest: list[str]) -> bool:
    """True when a capitalised word follows after connectors only."""
    for token in rest:
        word = _clean(token)[0]
        if word[:1].isupper():
            return True
        if word.lower() not in CONNECTORS:
            return False
    return False


def _starts_name(word: str, sentence_start: bool, inside: bool, rest: list[str]) -> bool:
    if not word:
        return False
    if word[0].isupper():
        return not (sentence_start and word.lower() in STARTERS)
    numeric = (word[0].isdigit() or word[0] == "+") and "%" not in word
    return numeric and (inside or (bool(rest) and rest[0][:1].isupper()))


def _distinct(names) -> list[str]:
    out: list[str] = []
    for name in names:
        if name.lower() not in (seen.lower() for seen in out):
            out.append(name)
    return out
