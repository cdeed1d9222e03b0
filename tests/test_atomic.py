"""Atomic writes: an interrupted write leaves the old file intact and no temporary file."""

from __future__ import annotations

import pytest

from larseg.atomic import atomic_open
from larseg.errors import DataFileError


def test_success_replaces_and_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.txt"
    with atomic_open(path, "w") as f:
        f.write("first")
    assert path.read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_open(path, "w") as f:
            f.write("half of the second")
            raise RuntimeError("killed")
    assert path.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_missing_directory_is_a_one_line_error(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        with atomic_open(tmp_path / "nope" / "x.bin", make_dirs=False):
            pass
