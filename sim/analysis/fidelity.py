"""Simulated against measured: latency and speedup errors, per policy, on paired turns.

Both tables hold one row per (policy, episode, turn) of replication 0, measured by the real
driver and simulated with the calibrated profile on the same draws. Only episodes that
finished under every policy count, so speedups compare the same turns. A relative error is
(simulated - measured) / measured; MAPE is the mean over turns of |error|.
"""

import numpy as np
import pandas as pd

PAIR = ["policy", "episode", "turn"]
TURN_TAKING = ("false_endpoints", "cut_off")
SPEEDUP_TOLERANCE = 0.10
MAPE_TOLERANCE = 0.15


def _stats(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()), "p50": float(np.percentile(values, 50)),
            "p90": float(np.percentile(values, 90))}


def _rel(sim: float, real: float) -> float:
    return (sim - real) / real


def paired(real: pd.DataFrame, sim: pd.DataFrame, policies: list[str]) -> pd.DataFrame:
    """Turns measured and simulated side by side, for episodes every policy finished."""
    done = real.groupby("episode").policy.nunique()
    complete = set(done[done == len(policies)].index)
    cols = PAIR + ["turn_latency", "first_audio_latency", *TURN_TAKING]
    both = real[real.episode.isin(complete)][cols].merge(
        sim[sim.episode.isin(complete)][cols], on=PAIR, suffixes=("_real", "_sim"))
    return both.sort_values(PAIR, kind="stable").reset_index(drop=True)


def compare(both: pd.DataFrame, policies: list[str]) -> dict:
    """Per policy: measured and simulated latencies, their errors, MAPE and speedups."""
    out = {}
    sync = both[both.policy == "sync"]
    for name in policies:
        rows = both[both.policy == name]
        if rows.empty:
            continue
        real, sim = rows.turn_latency_real.to_numpy(), rows.turn_latency_sim.to_numpy()
        m, s = _stats(real), _stats(sim)
        entry = {
            "turns": int(len(rows)),
            "measured": m, "simulated": s,
            "relative_error": {k: _rel(s[k], m[k]) for k in m},
            "mape": float(np.mean(np.abs(sim - real) / real)),
            "first_audio_mean": {"measured": float(rows.first_audio_latency_real.mean()),
                                 "simulated": float(rows.first_audio_latency_sim.mean())},
        }
        entry["turn_taking"] = {k: {"measured": int(rows[f"{k}_real"].sum()),
                                    "simulated": int(rows[f"{k}_sim"].sum())}
                                for k in TURN_TAKING}
        if not sync.empty:
            measured = sync.turn_latency_real.sum() / real.sum()
            simulated = sync.turn_latency_sim.sum() / sim.sum()
            entry["speedup_vs_sync"] = {"measured": float(measured),
                                        "simulated": float(simulated),
                                        "relative_error": float(_rel(simulated, measured))}
        out[name] = entry
    return out


def fidelity_verdict(result: dict) -> dict:
    """Whether the simulation met the fidelity targets: speedups within 10%, MAPE <= 15%."""
    speed = [abs(p["speedup_vs_sync"]["relative_error"]) for n, p in result.items()
             if n != "sync" and "speedup_vs_sync" in p]
    mape = [p["mape"] for p in result.values()]
    worst_speed = max(speed, default=None)
    worst_mape = max(mape, default=None)
    return {
        "speedup_error_max": worst_speed, "speedup_tolerance": SPEEDUP_TOLERANCE,
        "mape_max": worst_mape, "mape_tolerance": MAPE_TOLERANCE,
        "passed": worst_speed is not None and worst_speed <= SPEEDUP_TOLERANCE
        and worst_mape <= MAPE_TOLERANCE,
    }


def check_table(result: dict) -> str:
    """The side-by-side table printed by `rtsim check`."""
    head = (f"{'policy':<12} {'turns':>5}  {'turn latency s: measured / simulated (error)':<52}"
            f"{'MAPE':>6}  {'speedup vs sync: meas / sim (error)':<34}")
    lines = [head]
    for name, p in result.items():
        m, s, e = p["measured"], p["simulated"], p["relative_error"]
        lat = "  ".join(f"{k} {m[k]:.2f}/{s[k]:.2f} ({e[k]:+.0%})" for k in ("mean", "p90"))
        sp = p.get("speedup_vs_sync")
        speed = (f"{sp['measured']:.2f} / {sp['simulated']:.2f} ({sp['relative_error']:+.1%})"
                 if sp else "-")
        lines.append(f"{name:<12} {p['turns']:>5}  {lat:<52}{p['mape']:>6.1%}  {speed:<34}")
    return "\n".join(lines)


def turn_taking_lines(result: dict) -> list[str]:
    """Per policy, the false endpoints and cut-offs measured and simulated (the same
    draws give the same false endpoints; whether the answer's audio had begun when the
    user spoke on depends on the timing)."""
    lines = []
    for name, p in result.items():
        t = p["turn_taking"]
        lines.append(f"{name:<12} false endpoints {t['false_endpoints']['measured']} / "
                     f"{t['false_endpoints']['simulated']}, turns cut off "
                     f"{t['cut_off']['measured']} / {t['cut_off']['simulated']} "
                     f"(measured / simulated)")
    return lines


def call_arguments(events: pd.DataFrame) -> dict:
    """Per policy, forced calls and how many wrote the trace's arguments (call_args rows)."""
    rows = events[events.event == "call_args"]
    return {policy: {"forced": int(len(g)), "match": int((g.label == "match").sum()),
                     "invalid": int((g.label == "invalid").sum())}
            for policy, g in rows.groupby("policy", sort=False)}


def judged_guesses(events: pd.DataFrame) -> dict:
    """Per policy, speculative calls judged against the model's own final call (call_guess
    rows of `rtsim check --speculation model`), and how many were right, with the
    speculative attempts then revised or withdrawn."""
    out = {}
    for policy, g in events.groupby("policy", sort=False):
        judged = g[g.event == "call_guess"]
        if len(judged):
            discarded = g[(g.event == "discard") & g.label.isin(["revised", "withdrawn"])]
            out[policy] = {"judged": int(len(judged)), "right": int((judged.label == "right")
                                                                    .sum()),
                           "discarded": int(len(discarded))}
    return out
