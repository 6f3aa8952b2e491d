"""Sweep throughput: points per second on the local pool with 1 and 2 workers.

Run: python benchmarks/sweep_throughput.py [--points N] [--seeds N]
Sweeps N values of tools.default.latency over the built-in scenario and traces (all three
policies) through the same code as `rtsim sweep`, once per pool size, and prints points/s,
the scaling ratio, and points per million raw SimPy timeouts (this machine's raw rate
measured in the same process), so figures from different machines can be compared.
"""

import argparse
import functools
import tempfile
import time
from pathlib import Path

from turns_per_second import simpy_timeouts_per_second

from rtsim.engine.executors import run_local
from rtsim.sweeps.spec import resolve
from rtsim.sweeps.store import SweepStore, run_sweep
from rtsim.traces.sets import load_trace_set


def points_per_second(points: int, seeds: int, workers: int) -> float:
    values = tuple(round(0.25 + 0.25 * i, 2) for i in range(points))
    sweep = resolve("cloud-realtime", [], [("tools.default.latency", values)],
                    ["sync", "async", "speculative"], [], seeds, 0)
    episodes = {name: load_trace_set(name) for name in sweep.traces}
    with tempfile.TemporaryDirectory() as tmp:
        store = SweepStore(Path(tmp) / "sweep", sweep, "csv")
        store.open(resume=False)
        start = time.perf_counter()
        run_sweep(store, functools.partial(run_local, workers=workers), episodes)
        return points / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    raw = simpy_timeouts_per_second()
    print(f"{args.points} points x 3 policies x {args.seeds} seeds, cloud-realtime/assistant")
    print(f"raw SimPy timeouts/s: {raw:,.0f}")
    print(f"{'workers':>7} {'points/s':>9} {'points per 1M raw timeouts':>27}")
    rates = {}
    for workers in (1, 2):
        rates[workers] = points_per_second(args.points, args.seeds, workers)
        print(f"{workers:>7} {rates[workers]:>9.2f} {1e6 * rates[workers] / raw:>27.2f}")
    print(f"scaling 2 vs 1 workers: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
