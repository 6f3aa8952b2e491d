"""`rtsim run` on a large trace set: wall-clock and CPU seconds on 1 and all cores.

Run: python benchmarks/run_wall.py [--traces FILE] [--seeds 10] [--repeats 3]
Without --traces it imports BFCL multi_turn_base (needs the bfcl-eval package, as the tests
do). Each run is the command a user types (`rtsim run -t FILE --seeds N -p
sync,async,speculative --workers W`, a fresh process: start-up, trace loading, the
simulation, the summary and the files all count); min/median/max of the repeats are
printed, with the raw SimPy timeout rate measured (CPU time) before and after each run, and
the runs' CPU seconds as raw-timeout equivalents, so figures from different machines can be
compared. Wall time on a busy machine is worth little: run it on an idle one.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from turns_per_second import simpy_timeouts_per_second

POLICIES = "sync,async,speculative"


def rtsim() -> str:
    return shutil.which("rtsim") or "rtsim"


def import_bfcl(folder: Path) -> Path:
    path = folder / "bfcl-multi_turn_base.jsonl"
    subprocess.run([rtsim(), "traces", "import", "bfcl", "--category", "multi_turn_base",
                    "--out", str(path)], check=True, capture_output=True)
    return path


def timed_run(traces: Path, seeds: int, workers: int, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the run and its workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([rtsim(), "run", "-t", str(traces), "--seeds", str(seeds), "-p", POLICIES,
                    "--workers", str(workers), "-o", str(out)], check=True,
                   capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def spread(values: list[float]) -> str:
    return (f"{min(values):6.2f} {statistics.median(values):6.2f} {max(values):6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        traces = args.traces or import_bfcl(Path(tmp))
        print(f"rtsim run -t {traces.name} --seeds {args.seeds} -p {POLICIES}; "
              f"{args.repeats} repeats; {cores} cores")
        raw = [simpy_timeouts_per_second()]
        print(f"{'workers':>7} {'wall s (min med max)':>21} {'CPU s (min med max)':>21} "
              f"{'CPU in M raw timeouts':>22}")
        for workers in sorted({1, cores}):
            walls, cpus = [], []
            for i in range(args.repeats):
                wall, cpu = timed_run(traces, args.seeds, workers, Path(tmp) / f"run{i}")
                walls.append(wall)
                cpus.append(cpu)
                raw.append(simpy_timeouts_per_second())
            rate = statistics.median(raw)
            print(f"{workers:>7} {spread(walls):>21} {spread(cpus):>21} "
                  f"{statistics.median(cpus) * rate / 1e6:>22.1f}")
        print(f"raw SimPy timeouts per CPU second: min {min(raw):,.0f}, "
              f"median {statistics.median(raw):,.0f}, max {max(raw):,.0f} ({len(raw)} samples)")


if __name__ == "__main__":
    main()
