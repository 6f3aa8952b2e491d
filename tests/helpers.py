"""Builders shared by the tests: tiny traces and deterministic scenarios."""

from rtsim.engine.batch_server import Job
from rtsim.engine.draws import realize
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.scenario.schema import parse_scenario
from rtsim.traces.schema import parse_episode

FAST_PREFILL = 1e12  # prefill takes (almost) no time


def scenario(**sections):
    """A deterministic scenario: fixed 600 words/min, no ASR lag, no endpoint wait."""
    raw = {"speech": {"words_per_minute": 600}, "model": {"decode_rate": 10,
                                                           "prefill_rate": FAST_PREFILL}}
    for key, value in sections.items():
        raw.setdefault(key, {}).update(value) if isinstance(value, dict) else raw.update(
            {key: value})
    return parse_scenario(raw, "test")


def call(cid, tokens, output_tokens=10, deps=(), safe=True, known_at=None, name="tool"):
    """A call dict with explicit token counts."""
    return {"id": cid, "name": name, "arguments": {}, "tokens": tokens,
            "output_tokens": output_tokens, "depends_on": list(deps), "safe": safe,
            "known_at": known_at}


def episode(steps, user="one two three four five six seven eight", answer_tokens=5,
            reasoning=0):
    """A one-turn episode with the given steps (lists of call dicts)."""
    raw = {"id": "ep", "turns": [{
        "user": user, "answer_tokens": answer_tokens, "answer_reasoning_tokens": reasoning,
        "steps": [{"calls": calls} for calls in steps]}]}
    return parse_episode(raw, "test")


def run(ep, policy_cls, sc):
    """Event rows of one episode."""
    return simulate_episode(realize(sc, ep, 0, 0), policy_cls, sc)


def times(rows, event):
    return [r.t for r in rows if r.event == event]


def turn_latency(rows):
    return times(rows, "turn_end")[0] - times(rows, "speech_end")[0]


def submit_jobs(env, server, jobs, cancels=()):
    """Submit (arrival, prefill_s, tokens, per_token[, mark]) jobs to a BatchServer and
    cancel (time, job index) pairs; return the end times, cancelled token counts and jobs,
    filled in as `env` runs."""
    ends, kept, made = {}, {}, []
    for i, (arrival, prefill, tokens, per_token, *mark) in enumerate(jobs):
        job = Job(prefill, tokens, per_token, lambda j, i=i: ends.__setitem__(i, env.now),
                  mark[0] if mark else None)
        made.append(job)
        env.timeout(arrival).callbacks.append(lambda _e, job=job: server.submit(job))
    for t, i in cancels:
        env.timeout(t).callbacks.append(
            lambda _e, i=i: kept.__setitem__(i, server.cancel(made[i])))
    return ends, kept, made
