"""Where a network runs: the one device resolver, the model's device, mixed precision.

Every command and API that runs a network chooses its device here, with one
behaviour: ``cpu``; ``cuda`` or ``cuda:N`` (an error when no CUDA device is
present); ``auto`` (CUDA when present, else the CPU). ``None`` or ``""`` is the
CPU. Under ``torchrun`` a bare ``cuda`` is the process's local GPU.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from larseg.errors import LarsegError

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(name: str | torch.device | None, local_rank: int = 0) -> torch.device:
    """The :class:`torch.device` for ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (see the module docstring)."""
    if isinstance(name, torch.device):
        name = str(name)
    text = (name or "cpu").strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise LarsegError(f"--device {text}: no CUDA device is available on this machine "
                              "(use --device cpu or auto)")
        if text == "cuda":
            return torch.device(f"cuda:{local_rank % torch.cuda.device_count()}")
        try:
            dev = torch.device(text)
        except RuntimeError:
            raise LarsegError(f"--device {text}: not a device name (cpu, cuda, cuda:N or auto)") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise LarsegError(f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return dev
    raise LarsegError(f"--device {name}: expected cpu, cuda, cuda:N or auto")


def model_device(model: nn.Module) -> torch.device:
    """The device of a module's first parameter (the CPU for a module without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def autocast_context(device: torch.device, enabled: bool):
    """bf16 autocast on ``device`` when ``enabled``, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


__all__ = ["DEVICES", "autocast_context", "model_device", "resolve_device"]
