"""Every random stream rtsim draws from, named, under the scenario's root seed.

Per-episode streams: `SeedSequence(root, spawn_key=(replication, episode, component))`, one
per component below, so any process can rebuild any episode's draws and every policy sees
the same speech, tool latencies and server speed (common random numbers).

Whole-run streams: `SeedSequence(root, spawn_key=(BRANCH, ...))`, with branch numbers from
2**31 up, beyond any replication index, so they never meet a per-episode stream.
"""

import numpy as np

# components of an episode's draws
(SPEECH, ASR, ENDPOINT, NETWORK, MODEL, TOOLS, TTS, USER, SPECULATION, RETRIES, HESITATION,
 DETECTOR, INTERRUPTION, COMMIT) = range(14)

# whole-run branches
SUMMARY_BOOTSTRAP = 2**31      # resamples of the speedup intervals in summaries
VALIDATE_BOOTSTRAP = 2**31 + 1  # resamples of `rtsim validate`
SWEEP_POINTS = 2**31 + 2        # each sweep point's root seed
ARRIVALS = 2**31 + 3            # start times of conversations on a shared server


def episode_stream(root: int, replication: int, episode: int,
                   component: int) -> np.random.Generator:
    """The stream of one component of one episode of one replication."""
    seq = np.random.SeedSequence(root, spawn_key=(replication, episode, component))
    return np.random.default_rng(seq)


class LazyStream:
    """An episode component's stream, built when first drawn from: most runs never draw
    from some components (retries, speculation), and building a stream costs tens of us."""

    __slots__ = ("_address", "_generator")

    def __init__(self, root: int, replication: int, episode: int, component: int):
        self._address = (root, replication, episode, component)
        self._generator: np.random.Generator | None = None

    @property
    def generator(self) -> np.random.Generator:
        if self._generator is None:
            self._generator = episode_stream(*self._address)
        return self._generator

    def random(self, *args, **kwargs):
        return self.generator.random(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.generator, name)


def branch_sequence(root: int, branch: int, *key: int) -> np.random.SeedSequence:
    """The seed sequence of a whole-run branch, optionally keyed further."""
    return np.random.SeedSequence(root, spawn_key=(branch, *key))


def branch_stream(root: int, branch: int, *key: int) -> np.random.Generator:
    """The stream of a whole-run branch, optionally keyed further."""
    return np.random.default_rng(branch_sequence(root, branch, *key))
