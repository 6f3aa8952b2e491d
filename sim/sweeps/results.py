"""The sweep results table: one row per point x trace set x policy, its columns defined here
from the metric declarations (rtsim.engine.metrics.METRICS) and read by the reports."""

from rtsim.analysis.summary import load_summary, summarize
from rtsim.engine.metrics import METRICS
from rtsim.engine.runner import simulate

SERVER_FIGURES = ("arrival_rate", "mean_in_system", "utilization", "mean_batch",
                  "tokens_per_s", "mean_queue_wait")
SERVER_COLUMNS = tuple(f"server_{k}" for k in SERVER_FIGURES)
STEADY_FIGURES = ("steady_from", "steady_to", "steady_utilization", "steady_mean_batch",
                  "steady_tokens_per_s", "steady_turn_latency_mean", "steady_too_short")
STEADY_COLUMNS = tuple(f"server_{k}" for k in STEADY_FIGURES)  # too_short: 1.0 or 0.0
_LATENCY = [m for kind in ("headline", "latency") for m in METRICS if m.summary == kind]
_PER_TURN = [m for group in ("turn_taking", "waste", "cost", "accuracy") for m in METRICS
             if m.summary == "per_turn" and m.sweep and m.group == group]
LATENCY_COLUMNS = tuple(f"{m.name}_{stat}" for m in _LATENCY for stat in m.sweep)
PER_TURN_COLUMNS = tuple(f"{m.name}_per_turn" for m in _PER_TURN)
RESULT_COLUMNS = ("policy", "episodes", "turns", *LATENCY_COLUMNS, "speedup", "speedup_lo",
                  "speedup_hi", "spec_hit_rate", *PER_TURN_COLUMNS, *SERVER_COLUMNS,
                  *STEADY_COLUMNS)
"""Columns of a point's rows; the results table adds `point`, the swept keys, `traces` and
`seed` in front."""


def point_rows(episodes, scenario, policies) -> list[dict]:
    """Simulate one point on its trace set's episodes; one row per policy (RESULT_COLUMNS)."""
    sim = simulate(scenario, episodes, list(policies))
    summary = summarize(sim.turns, scenario.seed)
    server = load_summary(sim.load) if not sim.load.empty else {}
    return [result_row(policy, entry, len(set(sim.turns.episode)), server.get(policy, {}))
            for policy, entry in summary.items()]


def result_row(policy: str, p: dict, episodes: int, server: dict) -> dict:
    """One policy's row from its summary entry and its shared-server figures."""
    nan = float("nan")
    speed = p.get("speedup_vs_sync") or {"mean": nan, "ci95": [nan, nan]}
    hit = p["speculation"]["hit_rate"]
    row = {"policy": policy, "episodes": episodes, "turns": p["turns"]}
    row.update({f"{m.name}_{stat}": p[m.name][stat] for m in _LATENCY for stat in m.sweep})
    row.update({"speedup": speed["mean"], "speedup_lo": speed["ci95"][0],
                "speedup_hi": speed["ci95"][1], "spec_hit_rate": nan if hit is None else hit})
    row.update({c: p[c] for c in PER_TURN_COLUMNS})
    row.update({f"server_{k}": float(server.get(k, nan))
                for k in SERVER_FIGURES + STEADY_FIGURES})
    return row
