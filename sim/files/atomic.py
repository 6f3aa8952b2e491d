"""Atomic file writes: a temporary file in the same folder, renamed into place."""

import os
import tempfile
from pathlib import Path

from rtsim.errors import InputError


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write `data` to `path` so readers see the old file or the whole new one, never a part;
    a folder or file that cannot be written (no permission, a full disk, a name too long) is
    an InputError naming it."""
    write_files({Path(path): data})


def write_files(files: dict[Path, str | bytes]) -> None:
    """Write several files atomically, each replaced only once all are written in full: a
    failure (a full disk) leaves every one as it was, with an InputError naming the file."""
    staged: list[tuple[str, Path]] = []
    path = None
    try:
        for path, data in files.items():
            staged.append((_staged(path, data), path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        raise InputError(f"{path}: cannot write ({exc.strerror or exc.__class__.__name__})") \
            from None


def writable_folder(folder: str | Path) -> Path:
    """Create `folder` if needed and check a file can be written in it, before any work."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"{folder}: cannot write here "
                         f"({exc.strerror or exc.__class__.__name__})") from None
    return folder


def _staged(path: Path, data: str | bytes) -> str:
    """A temporary file beside `path` holding `data` (removed again if writing fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
