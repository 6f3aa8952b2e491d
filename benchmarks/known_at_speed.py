"""known_at speed: calls matched per second on short and on very long utterances.

Run: python benchmarks/known_at_speed.py [--words N] [--traces PATH]
Matches a call with a number, a time, a date-time, an amount and a text value against a
20-word utterance and against one of N words (default 2,000) that repeats number, time and
date phrases; the time per call should grow about linearly with N (no backtracking).
With --traces, also times loading that trace file (where known_at is computed).
"""

import argparse
import datetime as dt
import time

from rtsim.traces.knownat import compute_known_at
from rtsim.traces.schema import load_traces
from rtsim.traces.spoken.index import hear

PHRASE = ("on Friday the 14th at quarter past nine pm send two hundred and forty five dollars "
          "to flight two forty five").split()
ARGUMENTS = {"n": 245, "time": "21:15", "when": "2024-06-14 21:15:00", "amount": "$245",
             "text": "flight 245", "missing": 246}


def calls_per_second(words: tuple[str, ...], seconds: float = 1.0) -> float:
    today, calls, start = dt.date(2024, 6, 12), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        hear.cache_clear()
        compute_known_at(ARGUMENTS, words, (), today)
        calls += 1
    return calls / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--traces", help="a trace file to time the loading of")
    args = parser.parse_args()
    short = tuple(PHRASE)
    long = tuple((PHRASE * (args.words // len(PHRASE) + 1))[:args.words])
    for label, words in (("short", short), ("long", long)):
        rate = calls_per_second(words)
        print(f"{label:<6} {len(words):>6} words: {rate:>9,.0f} calls/s, "
              f"{1e6 / rate / len(words):.1f} us per word")
    if args.traces:
        start = time.perf_counter()
        episodes = load_traces(args.traces)
        calls = sum(len(t.calls) for e in episodes for t in e.turns)
        print(f"loaded {args.traces}: {calls:,} calls in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
