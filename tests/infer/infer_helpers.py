"""Helpers of the inference tests: tiny deterministic networks saved as checkpoints, synthetic images."""

from __future__ import annotations

import numpy as np


def tiny_config(**kw):
    from larseg.model import ModelConfig

    args = {"name": "tiny", "stem_filters": 4, "filters": (4, 8, 8)}
    args.update(kw)
    return ModelConfig(**args)


def tiny_model(seed: int = 0, scale: float = 30.0, **kw):
    """A tiny U-ResNet with random weights whose scores are far from uniform (the head is scaled up)."""
    import torch

    from larseg.model import build_model

    torch.manual_seed(seed)
    model = build_model(tiny_config(**kw))
    with torch.no_grad():
        # running statistics of a typical thresholded image, so activations stay O(1)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_var.fill_(4.0)
        model.head[-1].weight.mul_(scale)
        # about half of the charged pixels of track_image() come out track, half shower (for seed 0)
        model.head[-1].bias.copy_(torch.tensor([0.0, 0.7, -0.7]))
    return model.eval()


def save_checkpoint(model, path):
    from larseg import __version__
    from larseg.config import to_yaml
    from larseg.model import save_atomic
    from larseg.model.io import FORMAT

    save_atomic({"format": FORMAT, "task": "segment", "model": model.state_dict(),
                 "model_config": to_yaml(model.config), "provenance": {"larseg_version": __version__}}, path)
    return path


def track_image(h: int, w: int, seed: int = 0, n_tracks: int = 3, shower: bool = True) -> np.ndarray:
    """A sparse (h, w) image: straight tracks (charge ~ 40-80) crossing it, and a blob of scattered pixels."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), dtype=np.float32)
    for _ in range(n_tracks):
        r0, c0 = rng.uniform(0, h), rng.uniform(0, w * 0.2)
        r1, c1 = rng.uniform(0, h), rng.uniform(w * 0.8, w)
        n = int(2 * max(abs(r1 - r0), abs(c1 - c0))) + 1
        rr = np.clip(np.round(np.linspace(r0, r1, n)).astype(int), 0, h - 1)
        cc = np.clip(np.round(np.linspace(c0, c1, n)).astype(int), 0, w - 1)
        img[rr, cc] = rng.uniform(40, 80, size=n)
    if shower:
        r, c = rng.uniform(0.3 * h, 0.7 * h), rng.uniform(0.3 * w, 0.7 * w)
        k = 200
        rr = np.clip(np.round(rng.normal(r, h / 12, k)).astype(int), 0, h - 1)
        cc = np.clip(np.round(rng.normal(c, w / 12, k)).astype(int), 0, w - 1)
        img[rr, cc] = rng.exponential(60, size=k) + 10
    return img
