"""Running a sweep into a folder, point by point, so that an interrupted sweep can resume.

Layout of the folder:
  sweep.yaml          the resolved sweep, its table format and its trace files' SHA-256
                      (a resume must match them all)
  points/NNNNN.json   one file per finished point: its parameters, seed and summary rows
                      (on resume, a damaged one is redone; one of another sweep stops it)
  results.parquet     (or .csv) one row per point x trace set x policy, in grid order,
                      rewritten as points finish (at most once a second, and at the end)
"""

import contextlib
import json
import time
from collections.abc import Callable, Generator
from pathlib import Path

import pandas as pd
import yaml

from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic
from rtsim.files.inputs import read_json, read_yaml
from rtsim.files.results import table_bytes
from rtsim.sweeps.results import RESULT_COLUMNS, point_rows
from rtsim.sweeps.spec import GridPoint, Sweep

WRITE_EVERY = 1.0
_RECORD_KEYS = ("point", "params", "traces", "seed", "rows")
_COUNTS = ("episodes", "turns")


def _point_record(point: GridPoint, rows: list[dict]) -> dict:
    return {"point": point.id, "params": dict(point.params), "traces": point.traces,
            "seed": point.scenario.seed, "rows": rows}


def _damage(saved, policies: tuple[str, ...]) -> str | None:
    """What makes a point file's content unusable (cut short, edited, another version's
    columns or types), or None."""
    if not isinstance(saved, dict) or set(saved) != set(_RECORD_KEYS):
        return f"not a point record (expected the keys {', '.join(_RECORD_KEYS)})"
    rows = saved["rows"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return "rows: must be a list of objects"
    if sorted(r.get("policy") for r in rows if isinstance(r.get("policy"), str)) != sorted(
            policies) or len(rows) != len(policies):
        return f"rows: must hold one row for each of the policies {', '.join(policies)}"
    for i, row in enumerate(rows):
        missing = [c for c in RESULT_COLUMNS if c not in row]
        unknown = [c for c in row if c not in RESULT_COLUMNS]
        if missing or unknown:
            what = f"misses {missing[0]}" if missing else f"has the unknown column {unknown[0]}"
            return f"rows[{i}]: {what} (not this version's result columns)"
        for column in RESULT_COLUMNS[1:]:
            value, counted = row[column], column in _COUNTS
            if isinstance(value, bool) or not isinstance(value, int if counted else (int, float)):
                kind = "an integer" if counted else "a number"
                return f"rows[{i}].{column}: must be {kind}, got {value!r}"
    return None


class SweepStore:
    """The sweep folder: what is done, and writing each point and the results table."""

    def __init__(self, out: Path, sweep: Sweep, fmt: str):
        self.out, self.sweep, self.fmt = out, sweep, fmt
        self.done: dict[int, list[dict]] = {}
        self.damaged: list[str] = []
        """`FILE: problem` of each damaged point file found on resume (those points are
        redone and their files replaced)."""
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
            except InputError as exc:
                self.damaged.append(exc.template)
                continue
            problem = _damage(saved, self.sweep.policies)
            if problem:
                self.damaged.append(f"{path}: {problem}")
                continue
            expected = json.loads(json.dumps(_point_record(point, [])))
            differs = [k for k in _RECORD_KEYS[:-1] if saved[k] != expected[k]]
            if differs:
                raise InputError(f"{path}: holds a point of another sweep ({differs[0]} "
                                 f"{saved[differs[0]]!r}, expected {expected[differs[0]]!r}); "
                                 f"move it away or delete it to redo the point")
            self.done[point.index] = saved["rows"]

    def damaged_summary(self, shown: int = 3) -> str:
        """One line: how many point files are damaged and redone, and why."""
        n = len(self.damaged)
        more = f"; and {n - shown} more" if n > shown else ""
        return (f"redoing {n} damaged point {'file' if n == 1 else 'files'}: "
                + "; ".join(self.damaged[:shown]) + more)

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


def run_sweep(store: SweepStore,
              execute: Callable[[list, dict], Generator[tuple[int, list], None, None]],
              episodes: dict, progress: Callable[[int], None] | None = None) -> int:
    """Run the points not done yet through `execute`; return how many ran.

    The results table is written at the end, also when the sweep stops (Ctrl-C, a point
    file that cannot be written); the error that stopped it is the one raised.
    """
    todo = [(p.index, point_rows, p.traces, (p.scenario, store.sweep.policies))
            for p in store.sweep.points if p.index not in store.done]
    ran = 0
    results = execute(todo, {n: episodes[n] for n in {t[2] for t in todo}})
    try:
        for index, rows in results:
            store.add(index, rows)
            ran += 1
            if progress:
                progress(1)
    except BaseException:
        results.close()  # stop the workers
        if store.done:
            with contextlib.suppress(InputError):
                store.write_results()
        raise
    if store.done:
        store.write_results()
    return ran
