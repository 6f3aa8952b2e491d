"""The figures of a probe, from the model's answers (rtsim.real.probe): pure functions.

A guess is right when it equals the model's own call on the complete utterance (values
compared as `--calls forced` does: strings without case). Per call: the empirical
`known_at` (the first partial from which every guess is right; the whole utterance if the
last partial's is wrong); wrong guesses per partial before it (the premature rate); at the
commit point, a wrong guess written again unchanged (confirmed) or a right one changed
(revised). Hit curves pool the partials by words heard minus the utterance's length, and
minus the trace's (heuristic) `known_at`.
"""

from collections import defaultdict

from rtsim.real.forced_calls import arguments_verdict
from rtsim.real.probe import CallAnswers

MIN_CURVE_SAMPLES = 3  # partials a point of the fitted accuracy curve needs


def _same(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and arguments_verdict(a, b) == "match"


def call_record(a: CallAnswers) -> dict:
    """One call's figures, with one row per partial; `error` set if it has none."""
    p = a.probed
    base = {"key": p.key, "episode": p.episode, "turn": p.turn, "call": p.call.id,
            "tool": p.call.name, "words": len(p.words), "known_at": p.call.known_at}
    error = a.error or (None if a.reference is not None else
                        "the reply on the complete utterance is not a JSON object of arguments")
    if error:
        return {**base, "error": error}
    right = [_same(g, a.reference) for g in a.guesses]
    empirical = next((w for k, w in enumerate(p.partials) if all(right[k:])), len(p.words))
    points = [{"heard": w, "right": r, "valid": g is not None,
               "confirmed": None if c is None and g is None else _same(c, g)}
              for w, r, g, c in zip(p.partials, right, a.guesses, a.commits, strict=True)]
    before = [pt for pt in points if pt["heard"] < empirical]
    return {**base, "error": None, "empirical_known_at": empirical,
            "trace_match": _same(a.reference, p.call.arguments),
            "reference": a.reference, "points": points,
            "premature": sum(not pt["right"] for pt in before), "before": len(before)}


def hit_curve(records: list[dict], relative_to: str) -> list[dict]:
    """[{x, n, hits, rate}] over the partials of scored calls, x = words heard minus the
    utterance's length ("end") or minus the heuristic known_at ("known_at")."""
    bins: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in _scored(records):
        origin = r["words"] if relative_to == "end" else r["known_at"]
        if origin is None:
            continue
        for pt in r["points"]:
            b = bins[pt["heard"] - origin]
            b[0] += 1
            b[1] += pt["right"]
    return [{"x": x, "n": n, "hits": h, "rate": h / n} for x, (n, h) in sorted(bins.items())]


def _scored(records: list[dict]) -> list[dict]:
    return [r for r in records if r["error"] is None]


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def commit_errors(records: list[dict]) -> dict:
    """Wrong guesses confirmed and right ones revised at the commit point, with counts."""
    pts = [pt for r in _scored(records) for pt in r["points"] if pt["confirmed"] is not None]
    wrong = [pt for pt in pts if not pt["right"]]
    right = [pt for pt in pts if pt["right"]]
    confirmed = sum(pt["confirmed"] for pt in wrong)
    revised = sum(not pt["confirmed"] for pt in right)
    return {"wrong": len(wrong), "confirmed": confirmed, "right": len(right),
            "revised": revised, "confirm_error": _ratio(confirmed, len(wrong)),
            "revise_error": _ratio(revised, len(right))}


def group_figures(records: list[dict]) -> dict:
    """Calls, hits and rates of a group of call records."""
    scored = _scored(records)
    after = [pt["right"] for r in scored if r["known_at"] is not None
             for pt in r["points"] if pt["heard"] >= r["known_at"]]
    early = [r["words"] - r["empirical_known_at"] for r in scored]
    return {
        "calls": len(records), "failed": len(records) - len(scored),
        "partials": sum(len(r["points"]) for r in scored),
        "trace_match": _ratio(sum(r["trace_match"] for r in scored), len(scored)),
        "accuracy": _ratio(sum(after), len(after)), "accuracy_partials": len(after),
        "premature_rate": _ratio(sum(r["premature"] for r in scored),
                                 sum(r["before"] for r in scored)),
        "known_early": _ratio(sum(e > 0 for e in early), len(early)),
        "words_before_end": _ratio(sum(early), len(early)),
        "invalid": sum(not pt["valid"] for r in scored for pt in r["points"]),
    }


def summarize(records: list[dict]) -> dict:
    """Every figure of the probe: overall, per tool, hit curves, commit errors."""
    tools = sorted({r["tool"] for r in records})
    return {**group_figures(records),
            "tools": {t: group_figures([r for r in records if r["tool"] == t]) for t in tools},
            "curve_end": hit_curve(records, "end"),
            "curve_known_at": hit_curve(records, "known_at"),
            "commit": commit_errors(records)}


def speculation_section(summary: dict) -> dict:
    """The `speculation:` keys the probe measured (a key without data is left out)."""
    curve = [p for p in summary["curve_known_at"] if p["n"] >= MIN_CURVE_SAMPLES]
    values = {
        "accuracy": summary["accuracy"],
        "premature_rate": summary["premature_rate"],
        "accuracy_curve": {"words": [p["x"] for p in curve],
                           "accuracy": [round(p["rate"], 4) for p in curve]} if curve else None,
        "confirm_error": summary["commit"]["confirm_error"],
        "revise_error": summary["commit"]["revise_error"],
    }
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()
            if v is not None}
