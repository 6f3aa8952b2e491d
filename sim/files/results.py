"""Writing a run's results: the per-turn table, summary.json and the resolved config."""

import io
import json
from pathlib import Path

import pandas as pd

from rtsim.errors import InputError, option
from rtsim.files.atomic import write_atomic


def table_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """`df` as CSV or Parquet bytes (Parquet needs pyarrow)."""
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    try:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
    except ImportError:
        raise InputError(f"{option('format')} parquet: needs pyarrow (pip install pyarrow)") \
            from None
    return buf.getvalue()


def write_run(out: Path, turns: pd.DataFrame, summary: dict, config_yaml: str,
              fmt: str = "csv", events: pd.DataFrame | None = None) -> list[Path]:
    """Write the run's files into `out`, each atomically; return their paths."""
    files = {
        f"turns.{fmt}": table_bytes(turns, fmt),
        "summary.json": (json.dumps(summary, indent=2) + "\n").encode("utf-8"),
        "config.yaml": config_yaml.encode("utf-8"),
    }
    if events is not None:
        files[f"events.{fmt}"] = table_bytes(events, fmt)
    paths = []
    for name, data in files.items():
        write_atomic(out / name, data)
        paths.append(out / name)
    return paths
