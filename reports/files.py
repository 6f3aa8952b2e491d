"""Reading the files of a run, sweep or check folder, with one-line errors for bad input."""

from pathlib import Path

import pandas as pd

from rtsim.errors import InputError

TEXT = ("policy", "episode", "point", "traces", "event", "call", "label")


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


def require(mapping, dotted: str, path: Path, prefix: str = "", number: bool = False):
    """The value at a dotted key of nested dicts; fail naming `prefix + dotted` if missing
    (or, with `number`, if it is not a number or null)."""
    value = mapping
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise InputError(f"{path}: missing key {prefix}{dotted}")
        value = value[part]
    if number and value is not None and (isinstance(value, bool)
                                         or not isinstance(value, int | float)):
        raise InputError(f"{path}: {prefix}{dotted} must be a number, not {value!r}")
    return value
