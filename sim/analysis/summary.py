"""Summaries of the per-turn table: percentiles per policy and paired speedups vs sync.

`speedup` is mean sync turn latency / mean policy turn latency over the same turns and
seeds (a ratio of means), with a 95% percentile interval from a paired bootstrap that
resamples episodes (replication x episode), keeping each episode's turns together.
"""

import numpy as np
import pandas as pd

from rtsim.engine.seeds import SUMMARY_BOOTSTRAP, branch_stream
from rtsim.traces.tokens import tokenizer_name

BOOTSTRAP_SAMPLES = 2000
UNIT = ["replication", "episode"]


def _stats(values: pd.Series, quantiles=(50, 90, 99)) -> dict:
    arr = values.to_numpy(dtype=float)
    out = {"mean": float(arr.mean())}
    out.update({f"p{q}": float(np.percentile(arr, q)) for q in quantiles})
    return out


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
    """Per-policy figures; speedups need a `sync` run over the same episodes."""
    rng = branch_stream(seed, SUMMARY_BOOTSTRAP)
    has_sync = (turns.policy == "sync").any()
    out = {}
    for policy, rows in turns.groupby("policy", sort=False):
        guesses = int(rows.spec_guesses.sum())
        entry = {
            "turns": int(len(rows)),
            "turn_latency": _stats(rows.turn_latency),
            "first_token_latency": _stats(rows.first_token_latency, (50, 90)),
            "first_audio_latency": _stats(rows.first_audio_latency, (50, 90)),
            "episode_latency": {"mean": float(rows.groupby(UNIT).turn_latency.sum().mean())},
            "model_busy_per_turn": float(rows.model_busy.mean()),
            "wasted_tokens_per_turn": float(rows.wasted_tokens.mean()),
            "wasted_tool_calls_per_turn": float(rows.wasted_tool_calls.mean()),
            "speculation": {
                "guesses": guesses,
                "hits": int(rows.spec_hits.sum()),
                "hit_rate": float(rows.spec_hits.sum() / guesses) if guesses else None,
                "revisions": int(rows.spec_revisions.sum()),
                "withdrawals": int(rows.spec_withdrawals.sum()),
                "cascades": int(rows.spec_cascades.sum()),
            },
        }
        if has_sync:
            entry["speedup_vs_sync"] = speedup(turns, policy, rng)
        out[policy] = entry
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
    """Per policy, the shared server's load figures averaged over replications."""
    figures = load.drop(columns=["replication"]).groupby("policy", sort=False).mean()
    return {policy: {k: float(v) for k, v in row.items()} for policy, row in figures.iterrows()}
