"""Values the loader accepts cannot hang a run: loops driven by input are bounded."""

import pytest

from rtsim.errors import InputError
from rtsim.policies import POLICIES
from rtsim.scenario.distributions import parse_dist
from tests import helpers as h


def test_partials_are_bounded_by_the_words_however_slow_the_speech():
    # 0.001 words/min and a partial every 1e-7 s would be 6e17 partials of audio; only
    # the ones that cover a new word are scheduled, and finding them is bounded too
    sc = h.scenario(speech={"words_per_minute": 0.001}, asr={"interval": 1e-7})
    ep = h.episode([[h.call("a", 2, known_at=1)]], user="find my keys")
    rows = h.run(ep, POLICIES["speculative"], sc)
    partials = [r.tokens for r in rows if r.event == "transcript"]
    assert partials == [1, 2]  # the last word comes with the final transcript
    assert [r.event for r in rows][-1] == "playback_end"


@pytest.mark.parametrize("raw", [
    {"dist": "normal", "mean": 1, "sd": 1, "low": 1, "high": 1},
    {"dist": "normal", "mean": 0, "sd": 1, "low": 0, "high": 0.001},
])
def test_a_truncated_normal_that_keeps_almost_nothing_is_refused(raw):
    with pytest.raises(InputError, match=r"x: \[low, high\] keeps 0\.\d\d% of the normal"):
        parse_dist(raw, "x")


def test_a_degenerate_normal_is_fine():
    dist = parse_dist({"dist": "normal", "mean": 2, "sd": 0, "low": 2, "high": 2}, "x")
    assert dist.kept == 1.0
