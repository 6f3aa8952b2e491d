"""Reading a check folder (`rtsim check --out DIR`) for a report.

It holds check.json (per policy: measured and simulated turn latency, their errors, MAPE,
speedups; the fidelity verdict; failed runs), real_turns.csv and sim_turns.csv (one row per
turn, as a run's turns table), and optionally real_events.csv and sim_events.csv.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rtsim.errors import InputError
from rtsim.files.inputs import read_json
from rtsim.reports.files import read_table, require, table_path

CHECK_TURNS = ("policy", "replication", "episode", "turn", "turn_latency",
               "first_audio_latency", "tool_calls")
STATS = ("mean", "p50", "p90")
POLICY_NEEDS = ("turns", "mape", *(f"{side}.{s}" for side in ("measured", "simulated",
                                                                "relative_error")
                                   for s in STATS))
SPEEDUP_NEEDS = ("measured", "simulated", "relative_error")
FIDELITY_NEEDS = ("speedup_error_max", "speedup_tolerance", "mape_max", "mape_tolerance")


@dataclass(frozen=True)
class CheckInput:
    """A check folder: check.json, the measured and simulated turn tables, event tables."""

    folder: Path
    check: dict
    real_turns: pd.DataFrame
    sim_turns: pd.DataFrame
    real_events: Path | None
    sim_events: Path | None


def load_check(folder: Path) -> CheckInput:
    """Read and validate a check folder."""
    path = folder / "check.json"
    check = read_json(path)
    require_check_fields(check, path)
    tables = []
    for side in ("real", "sim"):
        turns = table_path(folder, f"{side}_turns")
        if turns is None:
            raise InputError(f"{folder}: no {side}_turns.csv")
        table = read_table(turns, CHECK_TURNS, ("turn", "turn_latency", "first_audio_latency",
                                                "tool_calls"))
        tables.append(table.assign(episode=table.episode.astype(str)))
    events = [table_path(folder, f"{side}_events") for side in ("real", "sim")]
    return CheckInput(folder, check, *tables, *(events if all(events) else (None, None)))


def require_check_fields(check, path: Path) -> None:
    """Fail with one line naming the first missing or wrong key of check.json."""
    policies = check.get("policies") if isinstance(check, dict) else None
    if not isinstance(policies, dict) or not policies:
        raise InputError(f"{path}: missing key policies (a mapping of policy: results)")
    for name, entry in policies.items():
        for dotted in POLICY_NEEDS:
            require(entry, dotted, path, f"policies.{name}.", number=True)
        if entry.get("speedup_vs_sync") is not None:
            for key in SPEEDUP_NEEDS:
                require(entry, f"speedup_vs_sync.{key}", path, f"policies.{name}.", number=True)
    for key in FIDELITY_NEEDS:
        require(check, f"fidelity.{key}", path, number=True)
    if not isinstance(require(check, "fidelity.passed", path), bool):
        raise InputError(f"{path}: fidelity.passed must be true or false")
    failures = check.get("failures", [])
    if not isinstance(failures, list) or not all(
            isinstance(f, dict) and {"policy", "episode", "error"} <= set(f) for f in failures):
        raise InputError(f"{path}: failures must be a list of {{policy, episode, error}}")
