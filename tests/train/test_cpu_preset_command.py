"""The documented CPU training command, ``larseg train ... --model cpu --training cpu --device cpu``.

The ``cpu`` training preset asks for channels-last. With torch 2.13 (oneDNN 3.12) on an
AVX-512 CPU the channels-last weight gradient of the ``cpu`` model's 8-channel 1x1
stride-2 shortcut corrupts the heap ("double free or corruption", segfault); the training
loop must turn channels-last off there (larseg.train.loop.channels_last_hazard). The
command runs in a subprocess, so a crash fails this test instead of killing pytest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from train_helpers import write_sample

from larseg.model.io import read_checkpoint


def _larseg() -> list[str]:
    exe = Path(sys.executable).with_name("larseg")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "larseg"]


def test_documented_cpu_training_command_runs(tmp_path):
    # 64x64 images, batches of 4: big enough for the oneDNN bug to crash every time
    # (measured: 1x64x64 already crashes), small enough for a few seconds of training.
    train = write_sample(tmp_path / "train.h5", n=8, size=64, seed=1)
    val = write_sample(tmp_path / "val.h5", n=2, size=64, seed=2)
    out = tmp_path / "run"
    cmd = [*_larseg(), "train", str(train), "--val", str(val), "-o", str(out),
           "--model", "cpu", "--training", "cpu", "--device", "cpu",
           # only sizes change; channels_last stays as the preset has it
           "--set", "batch_size=4", "--set", "images_per_epoch=8", "--set", "max_steps=2",
           "--set", "augment.crop=64", "--set", "val_max_images=2", "--set", "val_batch=2",
           "--set", "num_workers=0", "--set", "threads=1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, (f"exit status {proc.returncode} (negative: killed by that signal)\n"
                                  f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    assert "training finished: 2 steps" in proc.stdout + proc.stderr
    ckpt = read_checkpoint(out / "last.pt")
    assert ckpt["step"] == 2 and ckpt["task"] == "segment"
    assert (out / "best.pt").exists()
