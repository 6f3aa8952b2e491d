"""Episode streams are numpy's SeedSequence streams, computed faster."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rtsim.engine.seeds import EpisodeSeed, episode_stream

WORDS = st.integers(0, 2**140)


@given(WORDS, WORDS, WORDS, st.integers(0, 13), st.integers(1, 9))
def test_episode_seed_is_numpys_seed_sequence(root, replication, episode, component, n):
    ref = np.random.SeedSequence(root, spawn_key=(replication, episode, component))
    seed = EpisodeSeed(root, replication, episode, component)
    assert seed.pool == tuple(ref.pool)
    for dtype in (np.uint32, np.uint64):
        mine, theirs = seed.generate_state(n, dtype), ref.generate_state(n, dtype)
        assert mine.dtype == theirs.dtype and mine.tolist() == theirs.tolist()


@given(st.integers(0, 2**64), st.integers(0, 99), st.integers(0, 10**6), st.integers(0, 13))
def test_episode_stream_draws_as_default_rng(root, replication, episode, component):
    ref = np.random.default_rng(np.random.SeedSequence(root, spawn_key=(replication, episode,
                                                                        component)))
    rng = episode_stream(root, replication, episode, component)
    assert rng.bit_generator.state == ref.bit_generator.state
    assert rng.random(3).tolist() == ref.random(3).tolist()
