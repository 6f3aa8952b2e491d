"""Every random stream rtsim draws from, named, under the scenario's root seed.

Per-episode streams: `SeedSequence(root, spawn_key=(replication, episode, component))`, one
per component below, so any process can rebuild any episode's draws and every policy sees
the same speech, tool latencies and server speed (common random numbers).

Whole-run streams: `SeedSequence(root, spawn_key=(BRANCH, ...))`, with branch numbers from
2**31 up, beyond any replication index, so they never meet a per-episode stream.
"""

from functools import lru_cache

import numpy as np
from numpy.random.bit_generator import ISeedSequence

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
    """The stream of one component of one episode of one replication: the stream of
    `default_rng(SeedSequence(root, spawn_key=(replication, episode, component)))`."""
    seed = EpisodeSeed(root, replication, episode, component)
    return np.random.Generator(np.random.PCG64(seed))


# numpy's SeedSequence (numpy/random/bit_generator.pyx): a 4-word pool of 32-bit hashes
POOL, MASK = 4, 0xFFFFFFFF
INIT_A, MULT_A, INIT_B, MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
MIX_L, MIX_R = 0xCA01F9DD, 0x4973F715


class EpisodeSeed(ISeedSequence):
    """`SeedSequence(root, spawn_key=(replication, episode, component))`, computed the same
    way but with the pool of each episode cached: the streams of an episode share all but
    the last key word, so building one costs a few us instead of tens (the tests hold it to
    numpy's)."""

    __slots__ = ("pool",)

    def __init__(self, root: int, replication: int, episode: int, component: int):
        pool, h = _episode_pool(root, replication, episode)
        if component <= MASK:  # one word (every component): no loop
            pool, h = _mix_in(pool, h, component)
        else:
            for word in _words(component):
                pool, h = _mix_in(pool, h, word)
        self.pool = pool

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if dtype is np.uint64 or np.dtype(dtype) == _U64:  # little-endian pairs of words
            pool = self.pool
            return np.array([(a := (pool[i] ^ h) * nxt & MASK) ^ a >> 16
                             | ((b := (pool[j] ^ g) * nxt2 & MASK) ^ b >> 16) << 32
                             for i, h, nxt, j, g, nxt2 in _pair_constants(n_words)], _U64)
        if np.dtype(dtype) != _U32:
            raise ValueError("only uint32 and uint64 are supported")
        pool = self.pool
        return np.array([(v := (pool[i] ^ h) * nxt & MASK) ^ v >> 16
                         for i, h, nxt in _hash_constants(n_words)], _U32)


_U32, _U64 = np.dtype(np.uint32), np.dtype(np.uint64)


@lru_cache(maxsize=8)
def _pair_constants(n: int) -> tuple[tuple[int, ...], ...]:
    """`_hash_constants` of 2n words, as the pairs of each 64-bit word."""
    words = _hash_constants(2 * n)
    return tuple(words[k] + words[k + 1] for k in range(0, 2 * n, 2))


@lru_cache(maxsize=8)
def _hash_constants(n: int) -> tuple[tuple[int, int, int], ...]:
    """For each of n output words: its pool word, and the hash constant before and after
    it (the same for any pool)."""
    out, h = [], INIT_B
    for i in range(n):
        out.append((i % POOL, h, h * MULT_B & MASK))
        h = out[-1][2]
    return tuple(out)


def _words(n: int, pad: bool = False) -> tuple[int, ...]:
    """An int as 32-bit words, lowest first (0 is one word); the root padded to the pool."""
    if n < 0:
        raise ValueError("seeds are non-negative")
    words = [n & MASK]
    while n > MASK:
        n >>= 32
        words.append(n & MASK)
    return tuple(words) + (0,) * (POOL - len(words)) if pad else tuple(words)


def _hashmix(value: int, h: int) -> tuple[int, int]:
    """(the hash of `value` under hash constant `h`, the next constant)."""
    value ^= h
    h = h * MULT_A & MASK
    value = value * h & MASK
    return value ^ value >> 16, h


@lru_cache(maxsize=256)
def _episode_pool(root: int, replication: int, episode: int) -> tuple[tuple[int, ...], int]:
    """The pool and hash constant after mixing in the root (padded to the pool), the
    replication and the episode."""
    entropy = _words(root, pad=True) + _words(replication) + _words(episode)
    pool, h = [], INIT_A
    for word in entropy[:POOL]:
        hashed, h = _hashmix(word, h)
        pool.append(hashed)
    for src in range(POOL):
        for dst in range(POOL):
            if src != dst:
                hashed, h = _hashmix(pool[src], h)
                pool[dst] = _mix(pool[dst], hashed)
    pool = tuple(pool)
    for word in entropy[POOL:]:
        pool, h = _mix_in(pool, h, word)
    return pool, h


def _mix_in(pool: tuple[int, ...], h: int, word: int) -> tuple[tuple[int, ...], int]:
    """The pool and hash constant after mixing in one more entropy word."""
    out = []
    for x in pool:
        value = (word ^ h) * (h := h * MULT_A & MASK) & MASK
        result = (MIX_L * x - MIX_R * (value ^ value >> 16)) & MASK
        out.append(result ^ result >> 16)
    return tuple(out), h


def _mix(x: int, y: int) -> int:
    result = (MIX_L * x - MIX_R * y) & MASK
    return result ^ result >> 16


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
        return (self._generator or self.generator).random(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.generator, name)


def branch_sequence(root: int, branch: int, *key: int) -> np.random.SeedSequence:
    """The seed sequence of a whole-run branch, optionally keyed further."""
    return np.random.SeedSequence(root, spawn_key=(branch, *key))


def branch_stream(root: int, branch: int, *key: int) -> np.random.Generator:
    """The stream of a whole-run branch, optionally keyed further."""
    return np.random.default_rng(branch_sequence(root, branch, *key))
