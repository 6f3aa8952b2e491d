"""Running a sweep into a folder, point by point, so that an interrupted sweep can resume.

Layout of the folder:
  sweep.yaml          the resolved sweep, its table format and its trace files' SHA-256
                      (a resume must match them all)
  points/NNNNN.json   one file per finished point: its parameters, seed and summary rows
  results.parquet     (or .csv) one row per point x trace set x policy, in grid order,
                      rewritten as points finish (at most once a second, and at the end)
"""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import yaml

from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic
from rtsim.files.inputs import read_json, read_yaml
from rtsim.files.results import table_bytes
from rtsim.sweeps.spec import GridPoint, Sweep

WRITE_EVERY = 1.0


def _point_record(point: GridPoint, rows: list[dict]) -> dict:
    return {"point": point.id, "params": dict(point.params), "traces": point.traces,
            "seed": point.scenario.seed, "rows": rows}


class SweepStore:
    """The sweep folder: what is done, and writing each point and the results table."""

    def __init__(self, out: Path, sweep: Sweep, fmt: str):
        self.out, self.sweep, self.fmt = out, sweep, fmt
        self.done: dict[int, list[dict]] = {}
        self._written = 0.0

    def open(self, resume: bool) -> None:
        """Check the folder against the sweep; load finished points when resuming."""
        record_path = self.out / "sweep.yaml"
        record = {**self.sweep.record(), "format": self.fmt}
        if record_path.is_file():
            self._check_same(record_path, record, resume)
            self._load_points()
        elif self.out.exists() and any(self.out.iterdir()):
            raise InputError(f"{option('out')} {self.out}: folder exists and holds no sweep; "
                             "choose an empty or new folder")
        write_atomic(record_path, yaml.safe_dump(record, sort_keys=False))

    def _check_same(self, path: Path, record: dict, resume: bool) -> None:
        old = read_yaml(path)
        if not resume:
            raise InputError(f"{option('out')} {self.out}: holds a sweep already; pass "
                             f"{option('resume')} to continue it, or choose another "
                             f"{option('out')}")
        if not isinstance(old, dict):
            raise InputError(f"{path}: not a sweep record")
        differs = [k for k in record if old.get(k) != record[k]]
        if differs:
            raise InputError(f"{option('resume')}: {path} is a different sweep "
                             f"({differs[0]} differs); "
                             f"rerun with the same options or choose another {option('out')}")

    def _load_points(self) -> None:
        for point in self.sweep.points:
            path = self.out / "points" / f"{point.id}.json"
            if not path.is_file():
                continue
            try:
                saved = read_json(path)
            except InputError:
                raise InputError(f"{path}: unreadable point file; delete it to redo the point")\
                    from None
            if saved.get("params") != dict(point.params) or saved.get("traces") != point.traces:
                raise InputError(f"{path}: holds another point; delete it to redo the point")
            self.done[point.index] = saved["rows"]

    def add(self, index: int, rows: list[dict]) -> None:
        """Record a finished point; rewrite the results table if a second has passed."""
        point = self.sweep.points[index]
        data = json.dumps(_point_record(point, rows), indent=1) + "\n"
        write_atomic(self.out / "points" / f"{point.id}.json", data)
        self.done[index] = rows
        if time.monotonic() - self._written >= WRITE_EVERY:
            self.write_results()

    def results(self) -> pd.DataFrame:
        """The tidy results of the finished points, in grid order."""
        keys = [k for k, _ in self.sweep.grid]
        records = []
        for point in self.sweep.points:
            for row in self.done.get(point.index, []):
                records.append({"point": point.id, **dict(point.params),
                                "traces": point.traces, "seed": point.scenario.seed, **row})
        frame = pd.DataFrame.from_records(records)
        for key in keys:
            if key in frame and frame[key].map(type).nunique() > 1 and \
                    frame[key].map(lambda v: isinstance(v, str)).any():
                frame[key] = frame[key].astype(str)
        return frame

    def write_results(self) -> Path:
        """Write results.<fmt> atomically; return its path."""
        path = self.out / f"results.{self.fmt}"
        write_atomic(path, table_bytes(self.results(), self.fmt))
        self._written = time.monotonic()
        return path


def run_sweep(store: SweepStore, execute: Callable[[list], Iterator[tuple[int, list]]],
              episodes: dict, progress: Callable[[int], None] | None = None) -> int:
    """Run the points not done yet through `execute`; return how many ran."""
    todo = [(p.index, p.scenario, p.traces, store.sweep.policies)
            for p in store.sweep.points if p.index not in store.done]
    ran = 0
    try:
        for index, rows in execute(todo, {n: episodes[n] for n in {t[2] for t in todo}}):
            store.add(index, rows)
            ran += 1
            if progress:
                progress(1)
    finally:
        if store.done:
            store.write_results()
    return ran
