"""Helpers of the evaluation tests: networks with known behaviour, a tiny checkpoint, synthetic files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from larseg.config import to_yaml
from larseg.data.larcv3 import ImageMeta, Larcv3Writer
from larseg.data.products import EntryTruth, PlaneImage, to_event
from larseg.model import ModelConfig, build_model, save_atomic
from larseg.model.io import FORMAT
from larseg.physics.truth import PARTICLE_DTYPE
from larseg.provenance import provenance


def tiny_config() -> ModelConfig:
    return ModelConfig(name="tiny", stem_filters=4, filters=(4, 8), input_size=64)


def write_checkpoint(path, seed: int = 0, training: str | None = None) -> Path:
    """A checkpoint of a freshly initialised tiny U-ResNet."""
    torch.manual_seed(seed)
    model = build_model(tiny_config()).eval()
    ckpt = {"format": FORMAT, "task": "segment", "kind": "best", "model": model.state_dict(),
            "model_config": to_yaml(model.config), "provenance": provenance(), "epoch": 1, "step": 3}
    if training is not None:
        ckpt["training_config"] = training
    save_atomic(ckpt, path)
    return Path(path)


class ValueModel(nn.Module):
    """A stand-in network with a known answer: a non-zero pixel is 'shower' when its value is above
    ``cut``, else 'track'; a zero pixel is background."""

    def __init__(self, cut: float = 50.0):
        super().__init__()
        self.config = ModelConfig(name="value", filters=(4,))  # depth 0: any image size
        self.register_buffer("cut", torch.tensor(float(cut)))
        self.unused = nn.Parameter(torch.zeros(1))  # the inference helpers find the device from a parameter

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nonzero = (x > 0).float()
        above = (x > self.cut).float()
        bg = 10.0 * (1 - nonzero)
        track = 10.0 * nonzero * (1 - above)
        shower = 10.0 * nonzero * above
        return torch.cat([bg, track, shower], dim=1)


def expected_value_model_icpf(image: np.ndarray, label: np.ndarray, cut: float, scale: float = 1.0) -> float:
    """ICPF of :class:`ValueModel` by hand: labelled pixels whose value side of ``cut`` disagrees with the label."""
    sel = (image > 0) & ((label == 1) | (label == 2))
    if not sel.any():
        return float("nan")
    pred_shower = image[sel] * scale > cut
    return float(np.mean(pred_shower != (label[sel] == 2)))


def write_pulse_file(path, values_per_entry: list[np.ndarray], size: int = 64, sample: str = "pulses") -> Path:
    """Entries whose collection plane holds, per column, one time pulse ``[v/2, v, v/2]`` (a peak of
    value ``v``), labelled track; the other planes are empty."""
    with Larcv3Writer(path, metadata={"larseg_sample": sample}) as w:
        for k, values in enumerate(values_per_entry):
            planes = []
            for pid in range(3):
                image = np.zeros((size, size), np.float32)
                if pid == 2:
                    for c, v in enumerate(values[:size]):
                        r = 5 + (c * 7) % (size - 10)
                        image[r - 1:r + 2, c] = (0.5 * v, v, 0.5 * v)
                label = (image > 0).astype(np.uint8)
                instance = np.where(image > 0, 0, -1).astype(np.int32)
                meta = ImageMeta.for_dense(pid, size, size, (0.3, 0.334))
                planes.append(PlaneImage(meta, image, label, instance, None))
            particles = np.zeros(1, dtype=PARTICLE_DTYPE)
            particles["pdg"] = 13
            particles["parent_id"] = -1
            particles["process"] = b"primary"
            w.write(to_event(EntryTruth(planes, particles, ids=(1, 0, k))))
    return Path(path)
