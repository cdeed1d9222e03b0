"""Atomic writes: an interrupted write leaves the old file intact and no temporary file."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile

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


def _ckpt_state(n: int):
    import torch

    return {"format": "larseg-checkpoint", "model": {"w": torch.arange(n, dtype=torch.float32)}}


@pytest.mark.parametrize("code,what", [(errno.ENOSPC, "no space left"), (errno.EROFS, "read-only"),
                                       (errno.EDQUOT, "disk quota")])
def test_a_failing_disk_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch, code, what):
    from larseg.model.io import save_atomic

    path = tmp_path / "model.pt"
    save_atomic(_ckpt_state(10), path)
    before = path.read_bytes()

    def fail(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)  # the write reaches the disk at fsync
    with pytest.raises(DataFileError, match=f"cannot write: {what}.*old file is kept"):
        save_atomic(_ckpt_state(20), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]  # no temporary file left


def test_a_read_only_place_is_one_line(tmp_path, monkeypatch):
    def fail(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", fail)
    with pytest.raises(DataFileError, match="read-only file system; nothing was written"):
        with atomic_open(tmp_path / "x.txt", "w") as f:
            f.write("x")


def test_a_directory_is_not_an_output(tmp_path):
    with pytest.raises(DataFileError, match="is a directory"):
        with atomic_open(tmp_path, "w"):
            pass


@pytest.fixture
def full_disk(tmp_path):
    """A real 1 MiB tmpfs (needs root and mount); skipped where it cannot be made."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_really_full_disk(full_disk):
    from larseg.model.io import save_atomic

    small = full_disk / "small.pt"
    save_atomic(_ckpt_state(100), small)
    before = small.read_bytes()
    with pytest.raises(DataFileError, match="no space left"):
        save_atomic(_ckpt_state(1_000_000), small)  # 4 MB into 1 MiB
    assert small.read_bytes() == before
    assert sorted(p.name for p in full_disk.iterdir()) == ["small.pt"]
    # the command line says it in one line
    proc = subprocess.run([sys.executable, "-c", "import larseg.model.io as m, torch; "
                           f"m.save_atomic({{'model': {{'w': torch.zeros(1_000_000)}}}}, '{full_disk}/big.pt')"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "DataFileError" in proc.stderr and "no space left" in proc.stderr


def test_simulate_on_a_full_disk_keeps_the_committed_events(full_disk):
    out = full_disk / "x.h5"
    proc = subprocess.run([sys.executable, "-m", "larseg", "simulate", "1e1p", "-n", "30", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1].startswith("larseg: error:") and "no space left" in lines[-1]
    assert "committed events are kept" in lines[-1] and "Traceback" not in proc.stderr
    from larseg.data.larcv3 import read_journal

    assert read_journal(full_disk / "x.h5.partial")[1] > 0
    assert not list(full_disk.glob("**/*.tmp"))  # no half-written segment left behind
