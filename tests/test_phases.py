"""Per-request phases of a measured run against the latency model's for the same requests."""

import pytest

from rtsim.engine.draws import realize
from rtsim.engine.eventlog import EventRow
from rtsim.real.phases import request_phases
from tests.helpers import call, episode, scenario

SC = scenario(model={"prefill_rate": 100.0, "decode_rate": 10.0, "request_overhead": 0.05,
                     "template_tokens": 6, "message_tokens": 5, "system_tokens": 20,
                     "decode_slowdown_per_1k": 0.5},
              network={"rtt": 0.01})
EP = episode([[call("c0", 8)]])


def rows():
    """A read of 5 tokens, a call written from it (9 tokens), a read of 4 tokens after it,
    a stopped request that wrote one token (not counted), and a read of 2 tokens."""
    return [EventRow(0.0, 0, "gen_start", 1, "", 0, 5, 0.0, "input"),
            EventRow(0.3, 0, "gen_reply", 1, "", 0, 40, 0.25, "input"),
            EventRow(0.3, 0, "gen_end", 1, "", 0, 0, 0.0, "input"),
            EventRow(0.3, 0, "gen_start", 2, "c0", 0, 0, 0.0, "call"),
            EventRow(1.3, 0, "gen_reply", 2, "c0", 0, 41, 0.2, "call"),
            EventRow(1.3, 0, "gen_end", 2, "c0", 0, 9, 0.0, "call"),
            EventRow(1.3, 0, "gen_start", 3, "", 0, 4, 0.0, "input"),
            EventRow(1.5, 0, "gen_reply", 3, "", 0, 60, 0.2, "input"),
            EventRow(1.5, 0, "gen_end", 3, "", 0, 0, 0.0, "input"),
            EventRow(1.5, 0, "gen_start", 4, "", 0, 0, 0.0, "answer"),
            EventRow(1.6, 0, "gen_stop", 4, "", 0, 1, 0.0, "answer"),
            EventRow(1.6, 0, "gen_start", 5, "", 0, 2, 0.0, "input"),
            EventRow(1.8, 0, "gen_reply", 5, "", 0, 70, 0.2, "input"),
            EventRow(1.8, 0, "gen_end", 5, "", 0, 0, 0.0, "input")]


def test_each_request_gets_the_models_phases_on_the_simulators_context():
    out = request_phases(rows(), realize(SC, EP, 0, 0), SC)
    assert [(p["gen"], p["prefill"], p["template"], p["context"]) for p in out] == [
        (1, 5, 6, 20), (2, 0, 0, 25), (3, 4, 11, 34), (5, 2, 11, 50)]
    # 34: the call's 9 tokens; 50: 4 read, the call's message (6) and the new one (5)
    # kept, and the stopped request's token
    per_token = [(1 + 0.5 * p["context"] / 1000) / 10.0 for p in out]
    assert [p["ttft_sim"] for p in out[:3]] == pytest.approx(
        [0.06 + (5 + 6) / 100 + per_token[0], 0.06 + per_token[1],
         0.06 + (4 + 11) / 100 + per_token[2]])
    assert out[1]["per_token_real"] == pytest.approx((1.3 - 0.3 - 0.2) / 8)
    assert out[1]["per_token_sim"] == pytest.approx(per_token[1])
    assert out[0]["per_token_real"] is None and out[0]["ttft_real"] == 0.25
