"""Reading a run folder or a sweep folder for a report, with one-line errors for bad input.

A run folder (`rtsim run --out DIR`) holds summary.json, turns.csv|parquet, config.yaml and
maybe events.csv|parquet. A sweep folder (`rtsim sweep`) holds sweep.yaml and
results.parquet|csv.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.errors import InputError

TURN_NEEDS = ("policy", "replication", "episode", "turn", "turn_latency", "tool_calls")
EVENT_KEYS = ("policy", "replication", "episode")
SWEEP_METRICS = (
    "turns", "turn_latency_mean", "turn_latency_p50", "turn_latency_p90",
    "first_audio_latency_mean", "first_audio_latency_p90", "speedup", "speedup_lo",
    "speedup_hi", "spec_hit_rate", "wasted_tokens_per_turn",
)
TEXT = ("policy", "episode", "point", "traces", "event", "call", "label")
SUMMARY_NEEDS = ("turns", "turn_latency.mean", "turn_latency.p50", "turn_latency.p90",
                 "first_audio_latency.p50", "first_audio_latency.p90",
                 "wasted_tokens_per_turn", "speculation.hit_rate")


@dataclass(frozen=True)
class RunInput:
    """A run folder's contents; `events` is the event table's path when it was written."""

    folder: Path
    summary: dict
    turns: pd.DataFrame
    config: Path
    events: Path | None


@dataclass(frozen=True)
class SweepInput:
    """A sweep folder's contents: its spec, swept keys in order, and the results table."""

    folder: Path
    spec: dict
    keys: tuple[str, ...]
    results: pd.DataFrame


def load_input(folder: Path) -> RunInput | SweepInput:
    """Read `folder` as a sweep (sweep.yaml) or a run (summary.json)."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    if (folder / "sweep.yaml").is_file():
        return load_sweep(folder)
    if (folder / "summary.json").is_file():
        return load_run(folder)
    raise InputError(f"{folder}: neither a run (summary.json) nor a sweep (sweep.yaml) folder")


def table_path(folder: Path, stem: str) -> Path | None:
    """folder/stem.parquet or folder/stem.csv, whichever exists (Parquet first)."""
    for ext in ("parquet", "csv"):
        if (folder / f"{stem}.{ext}").is_file():
            return folder / f"{stem}.{ext}"
    return None


def read_table(path: Path, needs: tuple[str, ...], numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV or Parquet table that must have `needs` columns, `numeric` ones numbers.

    Id columns (TEXT) stay text, so a CSV point id '00007' is not read as the number 7."""
    try:
        df = (pd.read_parquet(path) if path.suffix == ".parquet" else
              pd.read_csv(path, dtype={c: str for c in TEXT}))
    except Exception as exc:  # pandas and pyarrow raise many types for a bad file
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    missing = [c for c in needs if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    if df.empty:
        raise InputError(f"{path}: no rows")
    for col in numeric:
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise InputError(f"{path}: column {col} is not numeric")
    return df


def load_run(folder: Path) -> RunInput:
    """Read and check a run folder."""
    summary = _read_json(folder / "summary.json")
    check_summary(summary, folder / "summary.json")
    turns_file = table_path(folder, "turns")
    if turns_file is None:
        raise InputError(f"{folder}: no turns.csv or turns.parquet")
    turns = read_table(turns_file, TURN_NEEDS, ("replication", "turn_latency", "tool_calls"))
    turns["episode"] = turns["episode"].astype(str)
    if not (folder / "config.yaml").is_file():
        raise InputError(f"{folder}: no config.yaml")
    return RunInput(folder, summary, turns, folder / "config.yaml", table_path(folder, "events"))


def check_summary(summary, path: Path) -> None:
    """Fail with the missing dotted key unless `summary` has what the report shows."""
    policies = summary.get("policies") if isinstance(summary, dict) else None
    if not isinstance(policies, dict) or not policies:
        raise InputError(f"{path}: missing key policies")
    for name, entry in policies.items():
        for dotted in SUMMARY_NEEDS:
            value = entry
            for part in dotted.split("."):
                if not isinstance(value, dict) or part not in value:
                    raise InputError(f"{path}: missing key policies.{name}.{dotted}")
                value = value[part]
        speed = entry.get("speedup_vs_sync")
        if speed is not None and not (isinstance(speed, dict) and "mean" in speed
                                      and len(speed.get("ci95") or ()) == 2):
            raise InputError(f"{path}: policies.{name}.speedup_vs_sync needs mean and ci95")


def load_sweep(folder: Path) -> SweepInput:
    """Read and check a sweep folder."""
    spec = _read_yaml(folder / "sweep.yaml")
    grid = spec.get("grid") if isinstance(spec, dict) else None
    if not isinstance(grid, dict) or not grid:
        raise InputError(f"{folder / 'sweep.yaml'}: missing key grid (a mapping of key: values)")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise InputError(f"{folder / 'sweep.yaml'}: grid.{key} must be a non-empty list")
    path = table_path(folder, "results")
    if path is None:
        raise InputError(f"{folder}: no results.parquet or results.csv")
    keys = tuple(str(k) for k in grid)
    results = read_table(path, ("point", "traces", "policy") + keys + SWEEP_METRICS,
                         SWEEP_METRICS)
    for col in ("point", "traces", "policy"):
        results[col] = results[col].astype(str)
    return SweepInput(folder, spec, keys, results)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc.__class__.__name__})") from None


def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
