"""Parameter and FLOP counts of a network (forward hooks on its convolutions and linear layers).

A multiply-add counts as 2 FLOPs. Convolutions, transposed convolutions and
linear layers are counted; batch norm, ReLU, pooling, concatenation and
additions (well under 1% here) are not.
"""

from __future__ import annotations

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _macs(module: nn.Module, inputs, output) -> int:
    if isinstance(module, nn.ConvTranspose2d):
        x = inputs[0]
        n, cin, h, w = x.shape
        kh, kw = module.kernel_size
        return n * h * w * cin * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, nn.Conv2d):
        n, cout, h, w = output.shape
        kh, kw = module.kernel_size
        return n * h * w * cout * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return 0


@torch.no_grad()
def count_flops(model: nn.Module, input_shape: tuple[int, ...] = (1, 1, 512, 512)) -> int:
    """Forward FLOPs (2 x multiply-adds) of ``model`` on one input of ``input_shape`` (on the CPU, in eval mode)."""
    if getattr(getattr(model, "config", None), "sparse", False):
        raise ValueError("count_flops counts dense layers; a sparse model's cost depends on its non-zero pixels "
                         "(see benchmarks/bench_sparse.py)")
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        total += _macs(module, inputs, output)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        model(torch.zeros(input_shape, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return 2 * total
