"""Running a trained network on images of any size (crops or whole events)."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn

from larseg.model.uresnet import pad_to_multiple


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def autocast_context(device: torch.device, enabled: bool):
    """bf16 autocast on ``device`` when ``enabled``, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def as_batch(image) -> torch.Tensor:
    """(N, 1, H, W) float32 tensor from a numpy array or tensor of shape (H, W), (1, H, W) or (N, 1, H, W)."""
    x = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
    x = x.float()
    if x.dim() == 2:
        x = x[None, None]
    elif x.dim() == 3:
        x = x[None]
    if x.dim() != 4:
        raise ValueError(f"expected an image of shape (H, W), (1, H, W) or (N, 1, H, W), got {tuple(x.shape)}")
    return x


@torch.no_grad()
def predict_logits(model: nn.Module, image, amp: bool | None = None) -> torch.Tensor:
    """Logits (N, C, H, W) of ``image``: zero-padded to the network's multiple, cropped back, eval mode."""
    device = model_device(model)
    x = as_batch(image).to(device)
    if amp is None:
        amp = device.type == "cuda"
    x, (h, w) = pad_to_multiple(x, model.config.multiple)
    was_training = model.training
    model.eval()
    try:
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast_context(device, amp):
            out = model(x)
    finally:
        model.train(was_training)
    return out[..., :h, :w].float()


@torch.no_grad()
def predict_probabilities(model: nn.Module, image, amp: bool | None = None) -> torch.Tensor:
    """Softmax probabilities (N, C, H, W) for an image of any size (see :func:`predict_logits`)."""
    return torch.softmax(predict_logits(model, image, amp=amp), dim=1)


@torch.no_grad()
def predict_event(model: nn.Module, image, amp: bool | None = None) -> np.ndarray:
    """Whole-event helper: probabilities (C, H, W) as numpy for one (H, W) image of any size."""
    probs = predict_probabilities(model, image, amp=amp)
    return probs[0].cpu().numpy()
