"""Atomic writes: all or nothing (one file or several, also on a full disk), with the usual
file permissions."""

import errno
import os
import stat

import pytest

from rtsim.errors import InputError
from rtsim.files import atomic
from rtsim.files.atomic import write_atomic, write_files


def test_a_written_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a" / "f.txt", "text")
    finally:
        os.umask(old)
    path = tmp_path / "a" / "f.txt"
    assert path.read_text() == "text"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(path, 42)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def full_disk_after(monkeypatch, allowed: int, names=("",)):
    """Make the atomic writer fail with ENOSPC once `allowed` files whose names start with
    one of `names` are written (a disk that fills up)."""
    real = atomic._staged
    written = []

    def staged(path, data):
        if path.name.startswith(tuple(names)):
            if len(written) >= allowed:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written.append(path)
        return real(path, data)

    monkeypatch.setattr(atomic, "_staged", staged)
    return written


def test_a_full_disk_leaves_every_file_as_it_was(tmp_path, monkeypatch):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    write_files({a: "old a", b: "old b"})
    full_disk_after(monkeypatch, 1)
    with pytest.raises(InputError) as info:
        write_files({a: "new a", b: "new b"})
    assert str(info.value) == f"{b}: cannot write (No space left on device)"
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
