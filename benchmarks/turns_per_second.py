"""Turn simulations per second per policy on one core, beside SimPy's raw event rate.

Run: python benchmarks/turns_per_second.py [--scenario NAME] [--seeds N] [--set KEY=VALUE]
(e.g. `--set speech.hesitation.rate=0 --set speech.pause=0.3` for speech without
hesitations or false endpoints, as before turn-taking was modelled).
Prints, per policy, turns simulated per CPU second (realisation, SimPy driver and metrics
included) and the ratio to this machine's raw SimPy timeout rate, so figures from different
machines can be compared. Both are measured in CPU time (`time.process_time`), and the raw
rate is sampled before and after every policy's run (interleaved with the measured work),
so a busy machine moves the two alike; min/median/max of the raw samples are printed, and
each policy's ratio uses the median of the samples around it.
"""

import argparse
import statistics
import time

import simpy

from rtsim.engine.draws import realize
from rtsim.engine.metrics import turn_metrics
from rtsim.engine.simpy_driver import simulate_episode
from rtsim.policies import POLICIES
from rtsim.scenario.load import load_scenario
from rtsim.traces.sets import load_trace_set


def simpy_timeouts_per_second(n: int = 200_000) -> float:
    """Raw SimPy rate in CPU time: one process yielding n zero-work timeouts."""
    env = simpy.Environment()

    def proc():
        for _ in range(n):
            yield env.timeout(1)

    env.process(proc())
    start = time.process_time()
    env.run()
    return n / (time.process_time() - start)


def turns_per_second(scenario, episodes, policy_cls) -> float:
    turns, start = 0, time.process_time()
    for rep in range(scenario.seeds):
        for index, episode in enumerate(episodes):
            rows = simulate_episode(realize(scenario, episode, index, rep), policy_cls, scenario)
            turns += len(turn_metrics(rows))
    return turns / (time.process_time() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="cloud-realtime")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="a scenario override (repeatable)")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario, [f"seeds={args.seeds}", *args.overrides])
    episodes = load_trace_set(scenario.traces)
    print(f"scenario {scenario.name}, traces {scenario.traces}, {args.seeds} seeds"
          + "".join(f", --set {o}" for o in args.overrides))
    samples = [simpy_timeouts_per_second()]
    lines = []
    for name, cls in POLICIES.items():
        rate = turns_per_second(scenario, episodes, cls)
        samples.append(simpy_timeouts_per_second())
        raw = statistics.median(samples[-3:])
        lines.append(f"{name:<12} {rate:>10,.0f} {1000 * rate / raw:>26.2f}")
    print(f"raw SimPy timeouts per CPU second: min {min(samples):,.0f}, "
          f"median {statistics.median(samples):,.0f}, max {max(samples):,.0f} "
          f"({len(samples)} samples)")
    print(f"{'policy':<12} {'turns/s':>10} {'turns per 1k raw timeouts':>26}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
