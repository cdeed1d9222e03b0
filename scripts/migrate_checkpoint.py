"""Rewrite a checkpoint of your own in the safe format (tensors and plain data only, weights_sha256 recorded).

    .venv/bin/python scripts/migrate_checkpoint.py OLD.pt NEW.pt

Checkpoints written by larseg before 0.1.1 hold the numpy RNG state as numpy
objects, so larseg's weights-only loader refuses them. This script unpickles OLD
with ``weights_only=False`` -- which runs whatever code the file contains, so use it
only on files you wrote yourself -- converts the RNG state to plain lists, and
writes NEW with its weights hash. NEW then loads with weights only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from larseg.model.io import read_checkpoint, save_atomic


def plain(value):
    """numpy scalars and arrays to Python numbers and lists, recursively."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def migrate(old: Path, new: Path) -> Path:
    if Path(old).resolve() == Path(new).resolve():
        raise SystemExit(f"{new}: choose another output file (the old checkpoint is kept)")
    ckpt = torch.load(old, map_location="cpu", weights_only=False)  # trusted: the user's own file
    if "rng" in ckpt:
        ckpt["rng"] = plain(ckpt["rng"])
    for key in ("data_order", "provenance", "best_metric", "epoch", "step"):
        if key in ckpt:
            ckpt[key] = plain(ckpt[key])
    ckpt.pop("weights_sha256", None)
    save_atomic(ckpt, new)
    read_checkpoint(new)  # loads with weights only, or says why not
    return Path(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    a = parser.parse_args()
    print(f"wrote {migrate(a.old, a.new)} (loads with weights only)")


if __name__ == "__main__":
    main()
