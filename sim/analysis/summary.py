"""Summaries of the per-turn table: percentiles per policy and paired speedups vs sync.

`speedup` is mean sync turn latency / mean policy turn latency over the same turns and
seeds (a ratio of means), with a 95% percentile interval from a paired bootstrap that
resamples episodes (replication x episode), keeping each episode's turns together.
"""

import numpy as np
import pandas as pd

from rtsim.analysis.steady_load import steady_figures
from rtsim.engine.metrics import METRICS, Metric
from rtsim.engine.seeds import SUMMARY_BOOTSTRAP, branch_stream
from rtsim.traces.tokens import tokenizer_name

BOOTSTRAP_SAMPLES = 2000
UNIT = ["replication", "episode"]


def _stats(values: pd.Series, stats: tuple[str, ...]) -> dict:
    arr = values.to_numpy(dtype=float)
    return {k: float(arr.mean()) if k == "mean" else float(np.percentile(arr, int(k[1:])))
            for k in stats}


def speedup(turns: pd.DataFrame, policy: str, rng: np.random.Generator,
            metric: str = "turn_latency", baseline: str = "sync") -> dict:
    """Ratio of mean `metric` of `baseline` to `policy`, with a paired bootstrap 95% CI."""
    base = turns[turns.policy == baseline].groupby(UNIT)[metric].sum()
    mine = turns[turns.policy == policy].groupby(UNIT)[metric].sum()
    base, mine = base.align(mine, join="inner")
    b, m = base.to_numpy(dtype=float), mine.to_numpy(dtype=float)
    idx = rng.integers(0, len(b), size=(BOOTSTRAP_SAMPLES, len(b)))
    ratios = b[idx].sum(axis=1) / m[idx].sum(axis=1)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return {"mean": float(b.sum() / m.sum()), "ci95": [float(lo), float(hi)]}


def summarize(turns: pd.DataFrame, seed: int) -> dict:
    """Per-policy figures, as each metric's declaration asks (rtsim.engine.metrics.METRICS);
    speedups need a `sync` (or `preemptive`) run over the same episodes."""
    rng = branch_stream(seed, SUMMARY_BOOTSTRAP)
    rng_preemptive = branch_stream(seed, SUMMARY_BOOTSTRAP, 1)
    has_sync = (turns.policy == "sync").any()
    has_preemptive = (turns.policy == "preemptive").any()
    out = {}
    for policy, rows in turns.groupby("policy", sort=False):
        entry = {"turns": int(len(rows))}
        for kind in ("headline", "latency"):
            entry.update({m.name: _stats(rows[m.name], m.stats) for m in _kind(kind)})
        entry["episode_latency"] = {"mean": float(rows.groupby(UNIT).turn_latency.sum().mean())}
        entry.update({f"{m.name}_per_turn": float(rows[m.name].mean())
                      for m in _kind("per_turn")})
        entry["speculation"] = _speculation(rows)
        if has_sync:
            entry["speedup_vs_sync"] = speedup(turns, policy, rng)
        if has_preemptive:
            entry["speedup_vs_preemptive"] = speedup(turns, policy, rng_preemptive,
                                                     baseline="preemptive")
        out[policy] = entry
    return out


def _kind(summary: str) -> list[Metric]:
    return [m for m in METRICS if m.summary == summary]


def _speculation(rows: pd.DataFrame) -> dict:
    """Totals of the speculation counts, with the hit rate after the hits."""
    out = {}
    for m in _kind("speculation"):
        out[m.name.removeprefix("spec_")] = int(rows[m.name].sum())
        if m.name == "spec_hits":
            guesses = int(rows.spec_guesses.sum())
            out["hit_rate"] = float(rows.spec_hits.sum() / guesses) if guesses else None
    return out


def run_summary(scenario, episodes: int, sim) -> dict:
    """The summary.json of a run: what ran, the tokenizer, per-policy figures, server load."""
    summary = {"scenario": scenario.name, "traces": scenario.traces, "episodes": episodes,
               "tokenizer": tokenizer_name(), "seed": scenario.seed, "seeds": scenario.seeds,
               "policies": summarize(sim.turns, scenario.seed)}
    if not sim.load.empty:
        summary["server"] = load_summary(sim.load)
    return summary


def load_summary(load: pd.DataFrame) -> dict:
    """Per policy, the shared server's load figures averaged over replications: whole-run
    figures, and steady-state ones (rtsim.analysis.steady_load) with `steady_too_short`
    true when any replication has no steady state."""
    steady = pd.DataFrame([steady_figures(s) for s in load.series], index=load.index)
    figures = pd.concat([load.drop(columns=["series"]), steady], axis=1)
    short = figures.groupby("policy", sort=False).steady_too_short.any()
    means = figures.drop(columns=["replication", "steady_too_short"]).groupby(
        "policy", sort=False).mean()
    return {policy: {**{k: float(v) for k, v in row.items()},
                     "steady_too_short": bool(short[policy])}
            for policy, row in means.iterrows()}


def steady_warning(server: dict, run: str) -> str | None:
    """One line naming `run` and its policies whose shared-server run is too short for a
    steady state; None when every one has one."""
    short = [policy for policy, p in server.items() if p["steady_too_short"]]
    if not short:
        return None
    return (f"warning: {run}: too short for a steady state under {', '.join(short)} (MSER-5: "
            "the warm-up may last past half the run, or under 20 batches of 5): steady-state "
            "figures unreliable; raise server.episodes")
