"""Where independent pieces of work run: in this process, a local process pool, or an
existing Dask cluster.

A task is `(index, fn, traces, args)`: `fn(episodes, *args)` runs with the episodes of the
trace set named `traces`. Every executor yields `(index, result)` as tasks finish, in
completion order; the caller orders the results. Episodes travel once per worker (pool
initializer) or once per trace set (Dask scatter), not once per task. `fn` must be a
module-level function (it is pickled by name).
"""

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from rtsim.errors import InputError, option
from rtsim.processes import die_with_parent
from rtsim.text import install_hint

_EPISODES: dict = {}


def run_here(tasks: list, episodes: dict) -> Iterator[tuple[int, object]]:
    """Run tasks one after another in this process."""
    for index, fn, traces, args in tasks:
        yield index, fn(episodes[traces], *args)


def _init_worker(episodes: dict, parent: int) -> None:
    die_with_parent(parent)  # a run killed by a signal leaves no worker behind
    _EPISODES.update(episodes)


def _pool_task(index, fn, traces, args):
    return index, fn(_EPISODES[traces], *args)


def run_local(tasks: list, episodes: dict, workers: int | None) -> Iterator[tuple[int, object]]:
    """Run tasks on a pool of `workers` processes (default: all cores)."""
    workers = min(workers or os.cpu_count() or 1, max(1, len(tasks)))
    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(episodes, os.getpid()))
    pending = set()
    try:
        pending = {pool.submit(_pool_task, *task) for task in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        # all done: wait for the workers to exit cleanly; interrupted: do not wait for them
        pool.shutdown(wait=not pending, cancel_futures=True)


def connect_dask(address: str):
    """A client of the Dask scheduler at `address`; one clear line if it cannot be reached."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError(f"{option('executor')} dask: needs the dask extra "
                         f"({install_hint('dask')})") from None
    try:
        return Client(address, timeout="5s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"{option('scheduler')} {address}: cannot reach the Dask scheduler "
                         f"({exc.__class__.__name__})") from None


def _dask_task(index, fn, episodes, args):
    return index, fn(episodes, *args)


def run_dask(tasks: list, episodes: dict, client) -> Iterator[tuple[int, object]]:
    """Run tasks on the Dask cluster behind `client`."""
    from distributed import as_completed

    shared = {name: client.scatter(eps, broadcast=True) for name, eps in episodes.items()}
    futures = [client.submit(_dask_task, index, fn, shared[traces], args, pure=False)
               for index, fn, traces, args in tasks]
    try:
        for future in as_completed(futures, loop=client.loop):
            yield future.result()
    finally:
        client.cancel(futures)
