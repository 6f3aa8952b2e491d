"""Atomic writes: all or nothing, with the usual file permissions."""

import os
import stat

import pytest

from rtsim.files.atomic import write_atomic


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
