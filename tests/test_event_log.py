"""Exact event logs of deterministic turns (600 words/min, 10 tokens/s, instant prefill)."""

from rtsim.policies import SpeculativePolicy, SyncPolicy
from tests.helpers import call, episode, run, scenario

SC = scenario(tools={"lookup": {"latency": 1.0}, "send": {"latency": 0.5, "safe": False}},
              speculation={"accuracy": 1.0})
USER = "text Bob that I am late"  # 6 words, 8 tokens, spoken in 0.6 s


def log(rows):
    """(time rounded to ms, event, gen, call, attempt, tokens) of each row."""
    return [(round(r.t, 3), r.event, r.gen, r.call, r.attempt, r.tokens) for r in rows]


def test_sync_blocks_on_each_step():
    ep = episode([[call("a", 10, output_tokens=4, name="lookup", known_at=2)],
                  [call("b", 5, deps=["a"], name="send", known_at=4)]],
                 user=USER, answer_tokens=3)
    assert log(run(ep, SyncPolicy, SC)) == [
        (0.0, "speech_start", 0, "", 0, 0),
        (0.6, "speech_end", 0, "", 0, 0),
        (0.6, "endpoint", 0, "", 0, 6),
        (0.6, "gen_start", 1, "", 0, 8),      # prefill the 8 tokens, write call a
        (1.6, "gen_end", 1, "", 0, 10),
        (1.6, "tool_start", 0, "a", 0, 0),
        (2.6, "tool_end", 0, "a", 0, 0),
        (2.6, "gen_start", 2, "", 0, 4),      # read a's 4 result tokens, write b
        (3.1, "gen_end", 2, "", 0, 5),
        (3.1, "tool_start", 0, "b", 0, 0),
        (3.6, "tool_end", 0, "b", 0, 0),
        (3.6, "gen_start", 3, "", 0, 10),     # read b's result, answer
        (3.9, "gen_end", 3, "", 0, 3),
        (3.7, "first_token", 3, "", 0, 0),
        (3.9, "turn_end", 0, "", 0, 0),
        (3.7, "first_audio", 0, "", 0, 0),
        (4.518, "playback_end", 0, "", 0, 0),  # 2.25 words at 165 words/min
    ]


def test_speculative_holds_an_unsafe_call_until_the_commit_point():
    ep = episode([[call("s", 3, output_tokens=4, name="send", known_at=2)]],
                 user=USER, answer_tokens=3)
    assert log(run(ep, SpeculativePolicy, SC)) == [
        (0.0, "speech_start", 0, "", 0, 0),
        (0.25, "transcript", 0, "", 0, 2),
        (0.25, "gen_start", 1, "s", 0, 2),    # arguments heard: write the call
        (0.5, "transcript", 0, "", 0, 5),
        (0.55, "gen_end", 1, "s", 0, 3),      # unsafe: held
        (0.55, "gen_start", 2, "", 0, 4),     # read the words heard meanwhile
        (0.55, "gen_end", 2, "", 0, 0),
        (0.6, "speech_end", 0, "", 0, 0),
        (0.6, "endpoint", 0, "", 0, 6),
        (0.6, "confirm", 0, "s", 0, 0),
        (0.6, "tool_start", 0, "s", 0, 1),    # released at the commit point
        (0.6, "gen_start", 3, "", 0, 2),
        (0.6, "gen_end", 3, "", 0, 0),
        (1.1, "tool_end", 0, "s", 0, 0),
        (1.1, "gen_start", 4, "", 0, 4),
        (1.4, "gen_end", 4, "", 0, 3),
        (1.2, "first_token", 4, "", 0, 0),
        (1.4, "turn_end", 0, "", 0, 0),
        (1.2, "first_audio", 0, "", 0, 0),
        (2.018, "playback_end", 0, "", 0, 0),
    ]


def test_speculative_revises_a_premature_guess_when_the_arguments_are_heard():
    sc = scenario(tools={"lookup": {"latency": 1.0}},
                  speculation={"accuracy": 1.0, "premature_rate": 1.0})
    ep = episode([[call("a", 2, output_tokens=4, name="lookup", known_at=5)]],
                 user=USER, answer_tokens=3)
    assert log(run(ep, SpeculativePolicy, sc))[:12] == [
        (0.0, "speech_start", 0, "", 0, 0),
        (0.25, "transcript", 0, "", 0, 2),
        (0.25, "gen_start", 1, "a", 0, 2),    # guessed early: wrong
        (0.45, "gen_end", 1, "a", 0, 2),
        (0.45, "tool_start", 0, "a", 0, 1),
        (0.5, "transcript", 0, "", 0, 5),     # arguments heard: revise
        (0.5, "tool_cancel", 0, "a", 0, 0),
        (0.5, "discard", 0, "a", 0, 0),
        (0.5, "gen_start", 2, "a", 1, 4),     # attempt 1, from the 4 new tokens
        (0.6, "speech_end", 0, "", 0, 0),
        (0.6, "endpoint", 0, "", 0, 6),
        (0.6, "confirm", 0, "a", 1, 0),
    ]
