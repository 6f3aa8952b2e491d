"""Per-request phases of measured runs against the latency model's for the same requests.

A measured run's `gen_start`, `gen_reply` and `gen_end` rows give each request's input
(prefill tokens), its time to the first chunk and its decode time per token. The latency
model (rtsim.engine.simpy_driver) is evaluated on the same request: the context the
simulator would hold at that point of the run, the chat-template tokens it would charge,
and the episode's draws. Every request is a new one (a chat-completions API, as the
profiles of `rtsim calibrate` say). Only requests read to their end in one reply count.
"""

import pandas as pd

from rtsim.engine.draws import EpisodeDraws
from rtsim.engine.simpy_driver import template_tokens
from rtsim.scenario.schema import Scenario

COLUMNS = ["policy", "episode", "turn", "gen", "purpose", "prefill", "template", "context",
           "decoded", "ttft_real", "ttft_sim", "per_token_real", "per_token_sim"]


def request_phases(rows, draws: EpisodeDraws, scenario: Scenario) -> list[dict]:
    """One dict per request of `rows` (a measured run) read to its end (COLUMNS but the
    first two)."""
    m = scenario.model
    system = draws.episode.system_tokens
    ctx, wrote, out, open_ = (m.system_tokens if system is None else system), False, [], {}
    for r in rows:
        if r.event == "gen_start":
            template, kept = template_tokens(m, r.tokens, wrote)
            open_[r.gen] = [r, template, ctx, []]
            ctx += r.tokens + kept
            wrote = False
        elif r.event == "gen_reply" and r.gen in open_:
            open_[r.gen][3].append(r)
        elif r.event in ("gen_end", "gen_stop") and r.gen in open_:
            start, template, at, replies = open_.pop(r.gen)
            if r.event == "gen_end" and len(replies) == 1:
                out.append(_phases(start, template, at, replies[0], r, draws, m))
            ctx += r.tokens
            wrote = wrote or r.tokens > 0
    return out


def _phases(start, template, ctx, reply, end, draws, m) -> dict:
    d = draws.turns[start.turn]
    per_token = (1 + m.decode_slowdown_per_1k * ctx / 1000) / d.decode_rate
    read = start.tokens + template if m.prompt_cache else ctx + start.tokens + template
    prefill = read / d.prefill_rate * (1 + m.prefill_slowdown_per_1k * ctx / 1000)
    n = end.tokens
    return {"turn": start.turn, "gen": start.gen, "purpose": start.label,
            "prefill": start.tokens, "template": template, "context": ctx, "decoded": n,
            "ttft_real": reply.seconds,
            "ttft_sim": d.rtt + d.request_overhead + prefill + per_token,
            "per_token_real": (reply.t - start.t - reply.seconds) / (n - 1) if n > 1 else None,
            "per_token_sim": per_token if n > 1 else None}


def phases_table(runs, draws: dict[int, EpisodeDraws], scenario: Scenario) -> pd.DataFrame:
    """Every measured run's request phases (runs: rtsim.real.episodes.RealRun; draws by
    episode index)."""
    rows = [{"policy": run.policy, "episode": run.episode, **p} for run in runs
            if run.rows is not None
            for p in request_phases(run.rows, draws[run.index], scenario)]
    return pd.DataFrame(rows, columns=COLUMNS)


def phase_summary(table: pd.DataFrame) -> dict:
    """Per policy and purpose: requests, mean measured and simulated TTFT and decode time
    per token, and their relative errors."""
    out = {}
    for (policy, purpose), g in table.groupby(["policy", "purpose"], sort=False):
        entry = {"requests": int(len(g))}
        for phase in ("ttft", "per_token"):
            real, sim = g[f"{phase}_real"].dropna(), g[f"{phase}_sim"].dropna()
            if len(real):
                entry[phase] = {"measured": float(real.mean()), "simulated": float(sim.mean()),
                                "relative_error": float((sim.mean() - real.mean()) / real.mean())}
        out.setdefault(policy, {})[purpose] = entry
    return out
