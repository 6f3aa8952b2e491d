"""Values the loader accepts cannot hang a run: loops driven by input are bounded."""

import pytest

from rtsim.errors import InputError
from rtsim.policies import POLICIES
from rtsim.scenario.distributions import parse_dist
from rtsim.scenario.schema import parse_scenario
from tests import helpers as h


def test_partials_are_bounded_by_the_words_however_slow_the_speech():
    # at the limits, 1 word/min and a partial every 1 ms, 180,000 partials of audio; only
    # the ones that cover a new word are scheduled, and finding them is bounded too
    sc = h.scenario(speech={"words_per_minute": 1}, asr={"interval": 1e-3})
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


@pytest.mark.parametrize("key, value, message", [
    ("network.rtt", 1e308, r"network\.rtt: must stay within \[0, 100000\], got 1e\+308"),
    ("model.decode_rate", 1e-320, r"model\.decode_rate: must stay within \[0\.01, 1e\+15\]"),
    ("speech.words_per_minute", 0.001, r"speech\.words_per_minute: must stay within \[1, "),
    ("server.episodes", 10**20, r"server\.episodes: must stay within \[0, 1e\+07\]"),
    ("tools.default.latency", {"dist": "uniform", "low": 1, "high": 1e9}, r"latency: must stay"),
])
def test_values_beyond_any_setup_are_refused(key, value, message):
    section, _, leaf = key.rpartition(".")
    raw = {"network": {}, "model": {}, "speech": {}, "server": {}}
    target = raw
    for part in section.split("."):
        target = target.setdefault(part, {})
    target[leaf] = value
    with pytest.raises(InputError, match=message):
        parse_scenario(raw, "s")
