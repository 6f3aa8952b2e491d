"""Per kind of request, measured against simulated: how long a prompt read takes and how
fast the written tokens come, which show where a shared server's model errs.

A request is (kind, sent, first, end, tokens), times in seconds: "read" (a prompt read, one
token asked of a real server, none of the simulated one) or "write"; `first` when the prompt
was read (a real server: its first token), None if it never was.
"""

import numpy as np

KINDS = ("read", "write")
FIGURES = ("count", "ttft_median_ms", "ttft_mean_ms", "ms_per_token")


def measured_requests(rows: list) -> list[tuple]:
    """check --sessions' request records ([slot, kind, sent, first, end, prompt tokens,
    tokens, ...]) as requests, episodes' warm-up reads left out (the simulation has none); a
    real write's first token is its prompt read, so it is not counted as written after it."""
    out = []
    for r in rows:
        kind, sent, first, end, tokens = r[1], r[2], r[3], r[4], r[6]
        if kind == "warm":
            continue
        if kind == "read":
            out.append(("read", sent, end, end, 0))
        else:
            out.append(("write", sent, first, end, max(0, tokens - 1)))
    return out


def kind_figures(requests) -> dict:
    """Per kind: how many, time from sending to the prompt read (median and mean, ms), and
    ms per token written after it (requests that wrote none left out)."""
    out = {}
    for kind in KINDS:
        rows = [r for r in requests if r[0] == kind]
        ttft = np.array([r[2] - r[1] for r in rows if r[2] is not None], float)
        spans = [(r[3] - r[2], r[4]) for r in rows if r[2] is not None and r[4] > 0]
        written = sum(t for _, t in spans)
        out[kind] = {
            "count": len(rows),
            "ttft_median_ms": float(np.median(ttft)) * 1e3 if len(ttft) else None,
            "ttft_mean_ms": float(ttft.mean()) * 1e3 if len(ttft) else None,
            "ms_per_token": sum(s for s, _ in spans) / written * 1e3 if written else None,
        }
    return out


def pair(measured, simulated) -> dict:
    """A figure measured and simulated, with the relative error (simulated - measured) /
    measured (None when either is missing or the measured one is 0)."""
    error = (simulated - measured) / measured if measured and simulated is not None else None
    return {"measured": measured, "simulated": simulated, "relative_error": error}


def compare_kinds(measured: dict, simulated: dict) -> dict:
    """{kind: {figure: {measured, simulated, relative_error}}} of two kind_figures."""
    return {kind: {f: pair(measured[kind][f], simulated[kind][f]) for f in FIGURES}
            for kind in KINDS}


def kinds_table(load: dict) -> str:
    """Lines per N, policy and kind: measured/simulated count, TTFT median and ms per
    token."""
    def cell(p: dict) -> str:
        real, sim = p["measured"], p["simulated"]
        if real is None or sim is None:
            return "-"
        e = p["relative_error"]
        return f"{real:.0f}/{sim:.0f}" + ("" if e is None else f" ({e:+.0%})")

    lines = [f"{'N':>3} {'policy':<12}{'kind':<7}{'requests':<12}{'prompt read ms (median)':<26}"
             f"{'ms per token':<18}", "    (measured/simulated (error))"]
    for n, at in load.items():
        for name, p in at.items():
            for kind, f in p.get("requests", {}).items():
                counts = f"{f['count']['measured']}/{f['count']['simulated']}"
                lines.append(f"{n:>3} {name:<12}{kind:<7}{counts:<12}"
                             f"{cell(f['ttft_median_ms']):<26}{cell(f['ms_per_token']):<18}")
    return "\n".join(lines)
