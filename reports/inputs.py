"""Reading a run, sweep or check folder for a report, with one-line errors for bad input.

A run folder (`rtsim run --out DIR`) holds summary.json, turns.csv|parquet, config.yaml and
maybe events.csv|parquet. A sweep folder (`rtsim sweep`) holds sweep.yaml and
results.parquet|csv. A check folder (`rtsim check`) holds check.json (rtsim.reports.check_inputs).
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rtsim.errors import InputError
from rtsim.files.inputs import read_json, read_yaml
from rtsim.reports.check_inputs import CheckInput, load_check
from rtsim.reports.files import read_table, require, table_path
from rtsim.reports.load_data import load_key
from rtsim.sweeps.results import SERVER_COLUMNS

TURN_NEEDS = ("policy", "replication", "episode", "turn", "turn_latency", "tool_calls")
EVENT_KEYS = ("policy", "replication", "episode")
SWEEP_METRICS = (  # the results columns (rtsim.sweeps.results) the sweep report reads
    "turns", "turn_latency_mean", "turn_latency_p50", "turn_latency_p90",
    "first_audio_latency_mean", "first_audio_latency_p90", "speedup", "speedup_lo",
    "speedup_hi", "spec_hit_rate", "wasted_tokens_per_turn",
)
SUMMARY_NEEDS = ("turns", "turn_latency.mean", "turn_latency.p50", "turn_latency.p90",
                 "first_audio_latency.p50", "first_audio_latency.p90",
                 "wasted_tokens_per_turn", "speculation.hit_rate")


@dataclass(frozen=True)
class RunInput:
    """A run folder's contents; `config` and `events` are None when the folder lacks them."""

    folder: Path
    summary: dict
    turns: pd.DataFrame
    config: Path | None
    events: Path | None


@dataclass(frozen=True)
class SweepInput:
    """A sweep folder's contents: its spec, swept keys in order, and the results table."""

    folder: Path
    spec: dict
    keys: tuple[str, ...]
    results: pd.DataFrame


def load_input(folder: Path) -> RunInput | SweepInput | CheckInput:
    """Read `folder` as a check (check.json), a sweep (sweep.yaml) or a run (summary.json)."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    if (folder / "check.json").is_file():
        return load_check(folder)
    if (folder / "sweep.yaml").is_file():
        return load_sweep(folder)
    if (folder / "summary.json").is_file():
        return load_run(folder)
    raise InputError(f"{folder}: not a run (summary.json), sweep (sweep.yaml) or check "
                     "(check.json) folder")


def load_run(folder: Path) -> RunInput:
    """Read and check a run folder."""
    summary = read_json(folder / "summary.json")
    require_summary_fields(summary, folder / "summary.json")
    turns_file = table_path(folder, "turns")
    if turns_file is None:
        raise InputError(f"{folder}: no turns.csv or turns.parquet")
    turns = read_table(turns_file, TURN_NEEDS, ("replication", "turn_latency", "tool_calls"))
    turns["episode"] = turns["episode"].astype(str)
    config = folder / "config.yaml"
    return RunInput(folder, summary, turns, config if config.is_file() else None,
                    table_path(folder, "events"))


def require_summary_fields(summary, path: Path) -> None:
    """Fail with the missing dotted key unless `summary` has what the report shows."""
    policies = summary.get("policies") if isinstance(summary, dict) else None
    if not isinstance(policies, dict) or not policies:
        raise InputError(f"{path}: missing key policies")
    for name, entry in policies.items():
        for dotted in SUMMARY_NEEDS:
            require(entry, dotted, path, f"policies.{name}.")
        speed = entry.get("speedup_vs_sync")
        if speed is not None and not (isinstance(speed, dict) and "mean" in speed
                                      and len(speed.get("ci95") or ()) == 2):
            raise InputError(f"{path}: policies.{name}.speedup_vs_sync needs mean and ci95")


def load_sweep(folder: Path) -> SweepInput:
    """Read and check a sweep folder."""
    spec = read_yaml(folder / "sweep.yaml")
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
    metrics = SWEEP_METRICS + (SERVER_COLUMNS if load_key(keys) else ())
    results = read_table(path, ("point", "traces", "policy") + keys + metrics, metrics)
    for col in ("point", "traces", "policy"):
        results[col] = results[col].astype(str)
    return SweepInput(folder, spec, keys, results)
