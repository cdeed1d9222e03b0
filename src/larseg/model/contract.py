"""The input contract of a network: how an image is prepared for it, defined once and stored with it.

A trained network saw images prepared in one way; it must be run on images
prepared the same way. :class:`InputContract` holds that preparation:

* ``plane``: the wire plane it was trained on (0 U, 1 V, 2 Y);
* ``threshold``: pixels below it are set to 0 (the paper: 10);
* ``scale``: every pixel is multiplied by it after the threshold (1 for a
  trained network; the pixel-scaling study changes it);
* ``multiple``: image sides are zero-padded up to a multiple of it (the
  network's ``2**depth`` downsampling; 1 for the sparse U-ResNet), and the
  scores are cropped back.

Training writes it into every checkpoint (``input_contract``); the loader reads
it back (older checkpoints: from their training config), and every
:class:`larseg.model.predictor.Predictor` applies it. Nothing else thresholds,
scales or pads an image for a network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch.nn.functional as F

from larseg.conventions import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, PIXEL_THRESHOLD
from larseg.errors import LarsegError


@dataclass(frozen=True)
class InputContract:
    plane: int = 2
    threshold: float = PIXEL_THRESHOLD
    scale: float = 1.0
    multiple: int = 1

    def __post_init__(self):
        if self.plane not in (0, 1, 2):
            raise LarsegError(f"input contract: plane {self.plane}; expected 0 (U), 1 (V) or 2 (Y)")
        if not (np.isfinite(self.threshold) and self.threshold >= 0):
            raise LarsegError(f"input contract: threshold {self.threshold}; expected a finite value >= 0")
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise LarsegError(f"input contract: scale {self.scale}; expected a finite value > 0")
        if int(self.multiple) < 1:
            raise LarsegError(f"input contract: multiple {self.multiple}; expected >= 1")

    # -- records

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, **override) -> InputContract:
        known = {k: data[k] for k in ("plane", "threshold", "scale", "multiple") if k in data}
        known.update({k: v for k, v in override.items() if v is not None})
        return cls(plane=int(known.get("plane", 2)), threshold=float(known.get("threshold", PIXEL_THRESHOLD)),
                   scale=float(known.get("scale", 1.0)), multiple=int(known.get("multiple", 1)))

    def with_(self, **changes) -> InputContract:
        """A copy with some fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    # -- preparation

    def prepare(self, image, what: str = "image") -> np.ndarray:
        """A float32 copy of an ``(H, W)`` or ``(N, H, W)`` image, checked, thresholded and scaled."""
        if hasattr(image, "detach"):  # a torch tensor
            image = image.detach().cpu().numpy()
        x = np.asarray(image)
        if x.dtype.kind not in "biuf":
            raise LarsegError(f"{what}: dtype {x.dtype}; a numeric image is needed")
        if x.ndim not in (2, 3):
            raise LarsegError(f"{what}: shape {x.shape}; expected (H, W) or (N, H, W)")
        if min(x.shape[-2:]) == 0:
            raise LarsegError(f"{what}: empty image ({x.shape[-2]} x {x.shape[-1]} pixels)")
        if max(x.shape[-2:]) > MAX_IMAGE_SIDE or x.shape[-2] * x.shape[-1] > MAX_IMAGE_PIXELS:
            raise LarsegError(f"{what}: {x.shape[-2]} x {x.shape[-1]} pixels is beyond the largest image larseg "
                              f"runs a network on (sides up to {MAX_IMAGE_SIDE}, {MAX_IMAGE_PIXELS} pixels)")
        x = x.astype(np.float32, copy=True)
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            raise LarsegError(f"{what}: {bad} NaN/inf pixels")
        self.apply(x)
        return x

    def apply(self, x):
        """Threshold and scale ``x`` (numpy array or torch tensor, any leading dims) in place; returns it."""
        if self.threshold > 0:
            x[x < self.threshold] = 0
        if self.scale != 1.0:
            x *= self.scale
        return x

    def pad(self, x):
        """Zero-pad the last two dims (bottom, right) of a numpy array or torch tensor to ``multiple``.

        Returns ``(padded, (H, W))``; crop scores back with ``[..., :H, :W]``.
        """
        h, w = x.shape[-2:]
        m = int(self.multiple)
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            if isinstance(x, np.ndarray):
                x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)])
            else:
                x = F.pad(x, (0, pw, 0, ph))
        return x, (h, w)


def pad_to_multiple(x, multiple: int):
    """Zero-pad the last two dims of ``x`` (numpy or torch) up to multiples of ``multiple``: ``(padded, (H, W))``."""
    return InputContract(multiple=max(1, int(multiple))).pad(x)


__all__ = ["InputContract", "pad_to_multiple"]
