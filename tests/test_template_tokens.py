"""Chat-template tokens (model.template_tokens, model.message_tokens): what each request
reads beyond its input, in closed form, and nothing when unset."""

import pytest

from rtsim.policies import AsyncPolicy, SyncPolicy
from tests.helpers import call, episode, run, scenario, turn_latency

PREFILL = 100.0  # tokens/s


def sc(template=0, message=0, **model):
    return scenario(model={"prefill_rate": PREFILL, "template_tokens": template,
                           "message_tokens": message, **model},
                    tools={"t0": {"latency": 0.7}, "t1": {"latency": 1.3}})


def three_steps():
    return episode([[call("c0", 8, output_tokens=20, name="t0")],
                    [call("c1", 12, output_tokens=30, name="t1")]], answer_tokens=15)


def gen_starts(rows):
    return [r for r in rows if r.event == "gen_start"]


def test_sync_turn_rises_by_the_template_tokens_of_each_request():
    """Sync: the call reads the utterance (the prompt grew); the next call and the answer
    read a result after the model wrote: template and message tokens each."""
    base = turn_latency(run(three_steps(), SyncPolicy, sc()))
    more = turn_latency(run(three_steps(), SyncPolicy, sc(template=6, message=5)))
    assert more - base == pytest.approx((3 * 6 + 2 * 5) / PREFILL, abs=1e-9)


def test_each_request_reads_its_input_and_the_template_tokens_its_prompt_needs():
    """Async reads the words as heard: every request reads its input plus the template
    tokens when its prompt grew (new input, or the model wrote since the last request), plus
    the message tokens when new input follows the model's output; nothing more otherwise."""
    rows = run(three_steps(), AsyncPolicy, sc(template=6, message=5))
    wrote, kinds = False, set()
    ends = [r for r in rows if r.event in ("gen_end", "gen_stop")]  # stopped after prefill
    for start, end in zip(gen_starts(rows), ends, strict=True):
        extra = (6 if start.tokens or wrote else 0) + (5 if start.tokens and wrote else 0)
        assert end.seconds == pytest.approx((start.tokens + extra) / PREFILL, abs=1e-12)
        kinds.add(extra)
        wrote = end.tokens > 0
    assert kinds == {6, 11}  # every request here reads input or follows a write


@pytest.mark.parametrize("policy", [SyncPolicy, AsyncPolicy])
def test_unset_keys_leave_the_log_unchanged(policy):
    assert run(three_steps(), policy, sc(0, 0)) == run(three_steps(), policy, scenario(
        model={"prefill_rate": PREFILL}, tools={"t0": {"latency": 0.7},
                                                "t1": {"latency": 1.3}}))
