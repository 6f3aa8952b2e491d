"""Garbage collection while a simulation plays.

Nothing the simulator builds is kept alive by a reference cycle (tests/test_run_workers.py
checks it), so the collector's default young-generation threshold of 700 allocations only
costs time: a simulation allocates millions of short-lived objects, and every collection
also walks the ones still alive (1,024 conversations on a shared server spend 17% of their
CPU in the collector). While a piece plays the thresholds are raised; cycles a user's policy
might make are still collected, only less often.
"""

import gc
from contextlib import contextmanager

THRESHOLDS = (100_000, 50, 1_000)


@contextmanager
def rare_collections():
    """Raise the collector's thresholds to `THRESHOLDS` for the block, then restore them."""
    before = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
