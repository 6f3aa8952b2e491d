"""The folder of a check: each real run as it finishes, and the tables built from them.

  profile.yaml            the calibrated scenario the simulation uses (kept for --resume)
  real/NNNN-POLICY.json   one measured run: its event rows, or the reason it failed
  real_events.csv, real_turns.csv, sim_events.csv, sim_turns.csv, check.json
  real_phases.csv         per measured request, both sides' phases (rtsim.real.phases)
  measured.jsonl          the measured episodes as traces (rtsim.real.measured_traces)
"""

import json
from pathlib import Path

from rtsim.engine.draws import realize
from rtsim.engine.eventlog import EventRow
from rtsim.errors import InputError
from rtsim.files.atomic import write_atomic
from rtsim.files.inputs import read_json
from rtsim.real.episodes import RealRun
from rtsim.real.measured_traces import recorded_episode
from rtsim.traces.schema import write_traces


def run_path(out: Path, index: int, policy: str) -> Path:
    return out / "real" / f"{index:04d}-{policy}.json"


def save_run(out: Path, run: RealRun) -> None:
    """Write one measured run atomically."""
    record = {"policy": run.policy, "index": run.index, "episode": run.episode,
              "error": run.error, "seconds": run.seconds,
              "rows": [list(r) for r in run.rows] if run.rows is not None else None}
    write_atomic(run_path(out, run.index, run.policy), json.dumps(record) + "\n")


def load_runs(out: Path) -> list[RealRun]:
    """The measured runs saved in `out` (failed ones included)."""
    runs = []
    for path in sorted((out / "real").glob("*.json")):
        try:
            r = read_json(path)
            rows = None if r["rows"] is None else [EventRow(*row) for row in r["rows"]]
            runs.append(RealRun(r["policy"], r["index"], r["episode"], rows, r["error"],
                                r["seconds"]))
        except (InputError, KeyError, TypeError):
            raise InputError(f"{path}: unreadable run record; delete it to measure again") \
                from None
    return runs


def record_measured(path: Path, scenario, episodes: list, runs: list[RealRun]) -> None:
    """Write each measured episode as a trace row (its sync run, else its first run)."""
    chosen: dict[int, RealRun] = {}
    for run in runs:
        if run.rows is not None and (run.index not in chosen or run.policy == "sync"):
            chosen[run.index] = run
    rows = [recorded_episode(episodes[i], realize(scenario, episodes[i], i, 0), chosen[i].rows)
            for i in sorted(chosen)]
    if rows:
        write_traces(rows, path)
