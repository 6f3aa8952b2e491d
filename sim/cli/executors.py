"""Where a command's work runs: `--executor local|dask`, `--workers N`, `--scheduler ADDRESS`,
declared once for the commands that spread work (run, sweep)."""

import contextlib
import functools
import os

import click

from rtsim.engine.executors import connect_dask, run_dask, run_here, run_local
from rtsim.errors import InputError


def executor_options(workers_help: str):
    """The three options, as one decorator."""
    options = (
        click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
                     show_default=True, help="Local process pool, or an existing Dask cluster."),
        click.option("--workers", type=click.IntRange(min=1), default=None, help=workers_help),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
                          "(with --executor dask)."),
    )

    def apply(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return apply


def check_executor(executor: str, scheduler: str | None, workers: int | None) -> None:
    """One clear line for options that do not go together."""
    if executor == "local" and scheduler:
        raise InputError("--scheduler: only with --executor dask")
    if executor == "dask" and not scheduler:
        raise InputError("--executor dask: give the cluster's --scheduler ADDRESS")
    if executor == "dask" and workers:
        raise InputError("--workers: only with --executor local (the cluster has its own)")


@contextlib.contextmanager
def executor(kind: str, scheduler: str | None, workers: int | None):
    """(execute, slots) for the block: the local pool of `workers` (all cores by default;
    one worker runs here, without a pool) or the Dask cluster, closed on exit; `slots` is
    how many tasks run at once."""
    check_executor(kind, scheduler, workers)
    if kind == "local":
        slots = workers or os.cpu_count() or 1
        yield (run_here if slots == 1 else functools.partial(run_local, workers=slots)), slots
        return
    client = connect_dask(scheduler)
    try:
        yield functools.partial(run_dask, client=client), max(1, sum(client.nthreads().values()))
    finally:
        client.close()
