"""Summary statistics of a trace set: sizes, call mix and how early calls are known."""

import statistics
from collections import Counter

from rtsim.traces.schema import Episode


def trace_stats(episodes: list[Episode]) -> dict:
    """Counts and shares of a list of episodes, as a JSON-ready dict.

    Shares are fractions of all calls (None when there are no calls). A call is known
    before the end of speech when its `known_at` is a word position before the last word.
    """
    turns = [turn for episode in episodes for turn in episode.turns]
    calls = [(call, len(turn.words)) for turn in turns for call in turn.calls]
    words = [len(turn.words) for turn in turns]
    histogram = Counter(len(turn.calls) for turn in turns)
    return {
        "episodes": len(episodes),
        "turns": len(turns),
        "calls": len(calls),
        "steps": sum(turn.steps for turn in turns),
        "calls_per_turn": {str(k): histogram[k] for k in sorted(histogram)},
        "words_per_utterance": {"mean": _round(statistics.fmean(words)) if words else None,
                                "median": statistics.median(words) if words else None},
        "known_before_end": _share(calls, lambda c, n: c.known_at is not None and c.known_at < n),
        "known_at_last_word": _share(calls, lambda c, n: c.known_at == n),
        "unknown_until_end": _share(calls, lambda c, n: c.known_at is None),
        "safe": _share(calls, lambda c, n: c.safe),
        "unsafe": _share(calls, lambda c, n: not c.safe),
        "dependent": _share(calls, lambda c, n: bool(c.depends_on)),
    }


def _share(calls, test) -> float | None:
    if not calls:
        return None
    return _round(sum(1 for call, n in calls if test(call, n)) / len(calls))


def _round(value: float) -> float:
    return round(value, 4)


def format_stats(stats: dict) -> str:
    """The stats as aligned text lines for the terminal."""
    histogram = ", ".join(f"{k}: {v}" for k, v in stats["calls_per_turn"].items())
    words = stats["words_per_utterance"]
    lines = [
        ("episodes", stats["episodes"]),
        ("turns", stats["turns"]),
        ("calls", stats["calls"]),
        ("steps", stats["steps"]),
        ("calls per turn", histogram),
        ("words per utterance", f"mean {words['mean']}, median {words['median']}"),
        ("known before end of speech", _percent(stats["known_before_end"])),
        ("known at the last word", _percent(stats["known_at_last_word"])),
        ("not in the words", _percent(stats["unknown_until_end"])),
        ("safe / unsafe calls", f"{_percent(stats['safe'])} / {_percent(stats['unsafe'])}"),
        ("dependent calls", _percent(stats["dependent"])),
    ]
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in lines)


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"
