"""Tiny larcv3 files (written directly, no simulation) and tiny configs for training tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from larseg.data.larcv3 import ImageMeta, Larcv3Writer
from larseg.data.products import EntryTruth, PlaneImage, to_event
from larseg.model.config import ModelConfig
from larseg.physics.truth import PARTICLE_DTYPE
from larseg.train.config import AugmentConfig, TrainConfig

PDGS = (11, 22, 13, -211, 2212)


def _plane(pid: int, size: int, rng: np.random.Generator, kind: int):
    """A track (horizontal/vertical line, label 1) and/or a shower (blob, label 2) with instances."""
    image = np.zeros((size, size), np.float32)
    label = np.zeros((size, size), np.uint8)
    inst = np.full((size, size), -1, np.int32)
    r0, c0 = (int(v) for v in rng.integers(4, size - 4, 2))
    if kind in (0, 2):  # track from the vertex
        length = int(rng.integers(5, size // 2))
        cols = np.clip(np.arange(c0, c0 + length), 0, size - 1)
        image[r0, cols] = rng.uniform(20, 60, len(cols))
        label[r0, cols] = 1
        inst[r0, cols] = 1
    if kind in (1, 2):  # shower blob near the vertex
        rr, cc = np.mgrid[0:size, 0:size]
        blob = ((rr - r0 - 3) ** 2 + (cc - c0 + 3) ** 2 < 9) & (rng.random((size, size)) < 0.7)
        image[blob] = rng.uniform(15, 80, blob.sum())
        label[blob] = 2
        inst[blob] = 2
    meta = ImageMeta.for_dense(pid, size, size, (0.3, 0.333), (0.0, 0.0))
    return PlaneImage(meta, image, label, inst, vertex=(float(r0), float(c0)))


def write_sample(path: str | Path, n: int = 12, size: int = 32, seed: int = 0, single: bool = False,
                 bad_label_entry: int | None = None) -> Path:
    """``n`` 3-plane entries; ``single``: one primary particle per entry with pdg cycling over the 5 classes;
    ``bad_label_entry``: that entry gets a label value 3 (out of range)."""
    rng = np.random.default_rng(seed)
    with Larcv3Writer(path) as w:
        for k in range(n):
            cls = k % len(PDGS)
            kind = (1 if PDGS[cls] in (11, 22) else 0) if single else k % 3
            planes = [_plane(pid, size, rng, kind) for pid in range(3)]
            if k == bad_label_entry:
                for p in planes:
                    p.label[p.image > 0] = 3
            nparts = 1 if single else 2
            particles = np.zeros(nparts, dtype=PARTICLE_DTYPE)
            particles["track_id"] = np.arange(1, nparts + 1)
            particles["parent_id"] = -1
            particles["ancestor_id"] = particles["track_id"]
            particles["pdg"] = [PDGS[cls]] if single else [13, 11]
            particles["process"] = b"primary"
            w.write(to_event(EntryTruth(planes, particles, ids=(1, 0, k))))
    return Path(path)


def tiny_model(**kw) -> ModelConfig:
    args = {"name": "tiny", "stem_filters": 4, "filters": (4, 8, 16), "input_size": 32}
    args.update(kw)
    return ModelConfig(**args)


def tiny_training(**kw) -> TrainConfig:
    args = {"name": "tiny", "lr": 1e-3, "batch_size": 4, "epochs": 2, "lr_milestones": (1,), "num_workers": 0,
            "val_batch": 4, "checkpoint_every": 100,
            "augment": AugmentConfig(crop=16, flip_rows=True, flip_cols=True)}
    args.update(kw)
    return TrainConfig(**args)


def ddp_worker(rank: int, world: int, port: int, train_file: str, val_file: str, out: str, training: TrainConfig,
               model_kw: dict | None = None):
    """One process of a CPU (gloo) DDP run, as torchrun would start it."""
    import os

    import torch

    from larseg.train import train

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    train([train_file], [val_file], out, model=tiny_model(**(model_kw or {})), training=training, device="cpu",
          progress=False)
