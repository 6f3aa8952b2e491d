"""The shared server under a growing load: time, memory and cost per simulated turn.

Run: python benchmarks/shared_server.py [--sessions 64,1024,4096] [--policies sync,...]
For each N, `selfhosted-8b` with N conversations at once and 4N episodes (one
replication), each policy in a
fresh process (so its peak memory is its own): CPU seconds, peak resident memory, turns
simulated, and CPU per simulated turn in raw SimPy timeouts (this machine's raw rate,
measured in CPU time before and after every run), with its ratio to the smallest N: a cost
per turn that grows with N is a scheduler or bookkeeping cost that should not be there.
"""

import argparse
import multiprocessing
import resource
import statistics
import time

from turns_per_second import simpy_timeouts_per_second


def _one(sessions: int, policy: str, queue) -> None:
    from rtsim.engine.runner import simulate
    from rtsim.scenario.load import load_scenario
    from rtsim.traces.sets import load_trace_set

    scenario = load_scenario("selfhosted-8b", ["seeds=1", f"server.sessions={sessions}",
                                               f"server.episodes={4 * sessions}"])
    episodes = load_trace_set(scenario.traces)
    start = time.process_time()
    sim = simulate(scenario, episodes, [policy])
    cpu = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux: KB)
    queue.put((cpu, peak, len(sim.turns)))


def measure(sessions: int, policy: str) -> tuple[float, float, int]:
    """(CPU seconds, peak MB, turns) of one policy at N sessions, in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_one, args=(sessions, policy, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="64,1024,4096")
    parser.add_argument("--policies", default="sync,async,speculative")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sessions.split(",")]
    raw = [simpy_timeouts_per_second()]
    print("selfhosted-8b, N conversations at once, 4N episodes, 1 replication; "
          "one process per run")
    print(f"{'policy':<12} {'N':>6} {'CPU s':>8} {'peak MB':>8} {'turns':>8} "
          f"{'raw timeouts/turn':>18} {'vs smallest N':>14}")
    for policy in args.policies.split(","):
        first = None
        for n in sizes:
            cpu, peak, turns = measure(n, policy)
            raw.append(simpy_timeouts_per_second())
            per_turn = cpu * statistics.median(raw[-2:]) / turns
            first = first or per_turn
            print(f"{policy:<12} {n:>6} {cpu:>8.1f} {peak:>8.0f} {turns:>8} {per_turn:>18.0f} "
                  f"{per_turn / first:>14.2f}", flush=True)
    print(f"raw SimPy timeouts per CPU second: min {min(raw):,.0f}, "
          f"median {statistics.median(raw):,.0f}, max {max(raw):,.0f} ({len(raw)} samples)")


if __name__ == "__main__":
    main()
