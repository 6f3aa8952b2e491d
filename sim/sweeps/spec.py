"""Sweep specifications: a grid over dotted scenario keys, times trace sets and policies.

A sweep is read from a YAML file and/or CLI options, resolved (scenario loaded, every
point's scenario built and checked) before any work starts, and expanded into points.
Each point has its own root seed, derived from the sweep's seed and the point's own
parameters, so adding values to a grid never changes the points already there; with
common seeds every point plays the sweep's own root seed instead (common random numbers:
the same speech, pauses and tool latencies at every point, for smooth curves).
"""

import copy
import hashlib
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtsim.engine.seeds import SWEEP_POINTS, branch_sequence
from rtsim.errors import InputError, option
from rtsim.files.inputs import parse_yaml, read_yaml
from rtsim.scenario.load import read_scenario_yaml, scenario_yaml
from rtsim.scenario.overrides import (
    apply_overrides,
    blame_keys,
    blame_override,
    run_overrides,
    set_dotted,
)
from rtsim.scenario.schema import Scenario, parse_scenario
from rtsim.traces.sets import resolve_traces

MAX_POINTS = 100_000
FILE_KEYS = ("scenario", "traces", "policies", "seeds", "seed", "set", "grid", "common_seeds")
NOT_SWEPT = {  # keys a point sets itself
    "traces": f"not a grid key; give the trace sets with {option('traces')} A,B",
    "seed": f"not a grid key; every point derives its own seed from {option('seed')}",
}


@dataclass(frozen=True)
class GridPoint:
    """One grid point on one trace set: its parameters and its resolved scenario."""

    index: int
    params: tuple[tuple[str, object], ...]
    traces: str
    scenario: Scenario

    @property
    def id(self) -> str:
        return f"{self.index:05d}"


@dataclass(frozen=True)
class Sweep:
    """A resolved sweep: what is recorded in sweep.yaml, and its expanded points."""

    scenario: str
    overrides: tuple[str, ...]
    grid: tuple[tuple[str, tuple], ...]
    policies: tuple[str, ...]
    traces: tuple[str, ...]
    seeds: int
    seed: int
    base_digest: str
    traces_digest: tuple[tuple[str, str], ...]
    points: tuple[GridPoint, ...]
    common_seeds: bool = False

    def record(self) -> dict:
        """The sweep as written to sweep.yaml; a resume must match it exactly."""
        return {"scenario": self.scenario, "set": list(self.overrides),
                "grid": {k: list(v) for k, v in self.grid}, "policies": list(self.policies),
                "traces": list(self.traces), "seeds": self.seeds, "seed": self.seed,
                "base_sha256": self.base_digest, "points": len(self.points),
                "traces_sha256": dict(self.traces_digest),
                **({"common_seeds": True} if self.common_seeds else {})}


def parse_values(key: str, text: str, label: str) -> tuple:
    """`v1,v2,...` (each read as YAML) or an inclusive range `start:stop:step`."""
    text = text.strip()
    if not text:
        raise InputError(f"{label} {key}: no values")
    if text.count(":") == 2 and "," not in text:
        return _range(key, text, label)
    values = []
    for item in text.split(","):
        values.append(parse_yaml(item.strip(), f"{label} {key}: value {item.strip()!r}"))
    return _check_values(key, values, label)


def _range(key: str, text: str, label: str) -> tuple:
    try:
        start, stop, step = (float(x) for x in text.split(":"))
    except ValueError:
        raise InputError(f"{label} {key}={text}: a range is start:stop:step numbers") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise InputError(f"{label} {key}={text}: start, stop and step must be finite numbers")
    if step <= 0 or stop < start:
        raise InputError(f"{label} {key}={text}: need step > 0 and stop >= start")
    count = int(round((stop - start) / step)) + 1
    if count > MAX_POINTS:
        raise InputError(f"{label} {key}={text}: {count} values, more than {MAX_POINTS}")
    values = [round(start + i * step, 12) for i in range(count)]
    whole = all(float(v).is_integer() for v in (start, stop, step))
    return tuple(int(v) if whole else v for v in values)


def _check_values(key: str, values, label: str) -> tuple:
    if not isinstance(values, list) or not values:
        raise InputError(f"{label} {key}: expected a non-empty list of values")
    for v in values:
        if isinstance(v, (dict, list)) or v is None:
            raise InputError(f"{label} {key}: value {v!r} is not a number, string or bool "
                             f"(sweep a distribution's parameters, e.g. {key}.median)")
    if len(set(map(repr, values))) != len(values):
        raise InputError(f"{label} {key}: repeated values")
    return tuple(values)


def parse_grid(raw, where: str) -> list[tuple[str, tuple]]:
    """A grid given as a mapping of dotted keys to value lists or "start:stop:step" ranges;
    errors start with `where`."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: grid: expected a mapping of dotted keys to values")
    grid = []
    for key, values in raw.items():
        label = f"{where}: grid"
        if isinstance(values, str):
            grid.append((str(key), parse_values(str(key), values, label)))
        else:
            grid.append((str(key), _check_values(str(key), values, label)))
    return grid


def read_sweep_file(path: str) -> dict:
    """The raw options of a sweep YAML file, with its grid parsed."""
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: a sweep file must be a YAML mapping")
    unknown = [k for k in raw if k not in FILE_KEYS]
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(FILE_KEYS)})")
    out = dict(raw)
    out["grid"] = parse_grid(raw.get("grid", {}), path)
    for key in ("traces", "policies"):
        if isinstance(out.get(key), str):
            out[key] = [s.strip() for s in out[key].split(",") if s.strip()]
        elif key in out and not (isinstance(out[key], list)
                                 and all(isinstance(s, str) for s in out[key])):
            raise InputError(f"{path}: {key}: expected a list of names")
    for key, kind, what in (("scenario", str, "a name or path"), ("seeds", int, "an integer"),
                            ("seed", int, "an integer")):
        if key in out and (isinstance(out[key], bool) or not isinstance(out[key], kind)):
            raise InputError(f"{path}: {key}: expected {what}, got {out[key]!r}")
    if not isinstance(out.get("common_seeds", False), bool):
        raise InputError(f"{path}: common_seeds: expected true or false, "
                         f"got {out['common_seeds']!r}")
    fixed = raw.get("set", {})
    if isinstance(fixed, list) and not all(isinstance(s, str) for s in fixed):
        raise InputError(f"{path}: set: expected a mapping of dotted keys to values")
    if isinstance(fixed, dict):
        out["set"] = [f"{k}={json.dumps(v)}" for k, v in fixed.items()]
    elif not isinstance(fixed, list):
        raise InputError(f"{path}: set: expected a mapping of dotted keys to values")
    return out


def point_seed(root: int, params, traces: str) -> int:
    """A point's root seed: the sweep's SeedSequence, spawned by a hash of the point's values.

    Keyed by values, not grid position, so a point keeps its streams when a grid grows.
    """
    digest = hashlib.sha256(repr((tuple(params), traces)).encode("utf-8")).digest()
    key = tuple(int.from_bytes(digest[i:i + 4], "big") for i in range(0, 16, 4))
    state = branch_sequence(root, SWEEP_POINTS, *key).generate_state(2)
    return int(state[0]) << 31 | int(state[1]) >> 1


def resolve(scenario: str, overrides: list[str], grid: list[tuple[str, tuple]],
            policies: list[str], traces: list[str], seeds: int | None,
            seed: int | None, sources: dict[str, str] | None = None,
            progress: Callable[[int], None] | None = None, common_seeds: bool = False) -> Sweep:
    """Build and check every point's scenario; fail before any work on bad keys or values.

    An error in a swept key names where the key was given (`sources`: key -> label, e.g. a
    sweep file's `FILE: grid`; default the `grid` option), not the scenario file.
    `progress(1)` is called as each point is checked; `common_seeds`: every point plays
    the sweep's root seed."""
    if not grid:
        raise InputError(f"sweep: empty grid (give {option('grid')} KEY=V1,V2,... or a grid: "
                         "in the file)")
    keys = [k for k, _ in grid]
    if len(set(keys)) != len(keys):
        raise InputError(f"sweep: key {next(k for k in keys if keys.count(k) > 1)} "
                         f"is swept twice")
    for key, why in NOT_SWEPT.items():
        if key in keys:
            raise InputError(f"{(sources or {}).get(key, option('grid'))} {key}: {why}")
    raw, label = read_scenario_yaml(scenario)
    base_raw = apply_overrides(raw, list(overrides) + run_overrides(seeds=seeds, seed=seed))
    try:
        base = parse_scenario(base_raw, label)
    except InputError as exc:
        raise blame_override(exc, label, overrides) from None
    swept = {key: (sources or {}).get(key, option("grid")) for key in keys}
    traces = list(dict.fromkeys(traces)) or [base.traces]
    count = len(traces)
    for _, values in grid:
        count *= len(values)
    if count > MAX_POINTS:
        raise InputError(f"sweep: {count} points, more than {MAX_POINTS}")
    points = []
    for combo in itertools.product(*(values for _, values in grid)):
        params = tuple(zip(keys, combo, strict=True))
        for name in traces:
            point_raw = copy.deepcopy(base_raw)
            for key, value in params + (("traces", name),
                                        ("seed", base.seed if common_seeds
                                         else point_seed(base.seed, params, name))):
                set_dotted(point_raw, key, value, f"{option('grid')} {key}")
            where = f"{label} with {', '.join(f'{k}={v}' for k, v in params)}"
            try:
                point = parse_scenario(point_raw, where)
            except InputError as exc:
                raise blame_keys(exc, where, swept) from None
            points.append(GridPoint(len(points), params, name, point))
            if progress:
                progress(1)
    digest = hashlib.sha256(scenario_yaml(base).encode("utf-8")).hexdigest()
    traces_digest = tuple((name, _file_digest(resolve_traces(name))) for name in traces)
    return Sweep(scenario, tuple(overrides), tuple(grid), tuple(policies), tuple(traces),
                 base.seeds, base.seed, digest, traces_digest, tuple(points), common_seeds)


def _file_digest(path: Path) -> str:
    """The SHA-256 of a file's content: a resume must play the same traces."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
