"""Every writing command, pointed at a read-only place or a full disk: one line, no traceback, no crash.

The places are real: a small tmpfs mounted read-only, or mounted with 64 KiB of
space (needs root and ``mount``; skipped where they cannot be made). Each command
runs in a subprocess, so a native crash would show as a negative exit status.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from eval_helpers import write_checkpoint, write_pulse_file

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("mount") is None, reason="needs mount")]


def _mount(path: Path, options: str) -> bool:
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("inputs")
    data = write_pulse_file(base / "sample.h5", [np.full(30, 60.0)] * 4)
    ckpt = write_checkpoint(base / "model.pt")  # a dense tiny U-ResNet with BatchNorm
    np.save(base / "image.npy", np.zeros((64, 64), np.float32))
    return base, data, ckpt


@pytest.fixture(params=["read-only", "full"])
def place(request, tmp_path):
    mnt = tmp_path / request.param
    if not _mount(mnt, "ro,size=1m" if request.param == "read-only" else "size=64k"):
        pytest.skip("cannot mount a small tmpfs here")
    if request.param == "full":  # fill it
        (mnt / "filler").write_bytes(b"x" * 60_000)
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


def _commands(base: Path, data: Path, ckpt: Path, out: Path) -> dict[str, list[str]]:
    return {
        "simulate": ["simulate", "1e1p-le", "-n", "20", "-o", str(out / "sim.h5")],
        "merge": ["merge", str(data), str(data), "-o", str(out / "merged.h5")],
        "predict": ["predict", str(ckpt), str(data), "-o", str(out / "pred.h5")],
        "export": ["export", str(ckpt), "-o", str(out / "m.onnx"), "--no-check"],
        "evaluate": ["evaluate", str(ckpt), str(data), "-o", str(out / "eval")],
        "display": ["display", str(data), "-o", str(out / "d.png")],
        "recalibrate": ["recalibrate", str(ckpt), str(data), "-o", str(out / "r.pt"), "--batches", "1"],
        "train": ["train", str(data), "--val", str(data), "-o", str(out / "run"), "--model", "sparse-cpu",
                  "--training", "sparse-cpu", "--set", "max_steps=1", "--set", "num_workers=0"],
        "validate": ["validate", "-g", "showers", "--quick", "-o", str(out / "v")],
    }


@pytest.mark.parametrize("command", ["simulate", "merge", "predict", "export", "evaluate", "display",
                                     "recalibrate", "train", "validate"])
def test_writing_commands_fail_in_one_line(inputs, place, command):
    base, data, ckpt = inputs
    args = _commands(base, data, ckpt, place)[command]
    proc = subprocess.run([sys.executable, "-m", "larseg", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, (command, proc.returncode, proc.stderr[-2000:])
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("larseg: error:") and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "cannot write" in last or "read-only" in last or "no space" in last, last
    assert not list(place.glob("**/*.tmp"))  # no temporary file left behind
