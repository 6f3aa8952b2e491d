"""Writing a run's results: the per-turn table, summary.json and the resolved config."""

import io
import json
import math
from pathlib import Path

import pandas as pd

from rtsim.files.atomic import write_files


def table_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """`df` as CSV or Parquet bytes (pyarrow, a dependency, writes Parquet)."""
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def write_run(out: Path, turns: pd.DataFrame, summary: dict, config_yaml: str,
              fmt: str = "csv", events: pd.DataFrame | None = None) -> list[Path]:
    """Write the run's files into `out`, all or none (an earlier run's stay whole if one
    cannot be written, e.g. on a full disk); return their paths."""
    files = {
        f"turns.{fmt}": table_bytes(turns, fmt),
        "summary.json": json_bytes(summary),
        "config.yaml": config_yaml.encode("utf-8"),
    }
    if events is not None:
        files[f"events.{fmt}"] = table_bytes(events, fmt)
    write_files({out / name: data for name, data in files.items()})
    for stale in ("turns.csv", "turns.parquet", "events.csv", "events.parquet"):
        if stale not in files:  # an earlier run's table: the folder holds one run
            (out / stale).unlink(missing_ok=True)
    return [out / name for name in files]


def json_bytes(value) -> bytes:
    """`value` as indented JSON, a number that is not finite (NaN, infinity) as null."""
    return (json.dumps(_finite(value), indent=2, allow_nan=False) + "\n").encode("utf-8")


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
