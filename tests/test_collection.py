"""The collector's thresholds while a simulation plays, and after."""

import gc

import pytest

from rtsim.engine import pieces
from rtsim.engine.collection import THRESHOLDS, rare_collections
from rtsim.scenario.load import load_scenario
from rtsim.traces.sets import load_trace_set

EPISODES = load_trace_set("assistant")


def test_thresholds_are_raised_in_the_block_and_restored_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), rare_collections():
        assert gc.get_threshold() == THRESHOLDS
        raise RuntimeError
    assert gc.get_threshold() == before


@pytest.mark.parametrize("play", ["episodes", "shared"])
def test_pieces_play_under_rare_collections(monkeypatch, play):
    seen, name = [], "simulate_episode" if play == "episodes" else "simulate_shared"
    real = getattr(pieces, name)

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    before = gc.get_threshold()
    if play == "episodes":
        monkeypatch.setattr(pieces, name, spy)
        pieces.play_episodes(EPISODES, load_scenario("edge-3b"), ["sync"], 0, 0, 1, False)
    else:
        monkeypatch.setattr(pieces, name, spy)
        scenario = load_scenario("selfhosted-8b", ["server.sessions=2", "server.episodes=2"])
        pieces.play_shared(EPISODES, scenario, "sync", 0, False)
    assert seen == [THRESHOLDS]
    assert gc.get_threshold() == before
