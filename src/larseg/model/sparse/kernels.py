"""The sparse-kernel contract: how a sparse convolution is computed, chosen in one place.

A sparse layer (:mod:`larseg.model.sparse.layers`) holds its weights in the dense
layouts and asks the kernels of its input's geometry (``geometry.backend``) for
the output features. Two implementations:

* :class:`TorchKernels` (``torch``, the reference): each site's neighbours are
  gathered to ``(N, k*k*Cin)`` through the geometry's cached neighbour maps and
  multiplied by the weight in one matmul; a missing neighbour reads a zero row;
* :class:`SpconvKernels` (``spconv``, optional): the same weights through spconv
  (:mod:`larseg.model.sparse.spconv_backend`).

Each kernel takes the layer and its input and returns the output features (and,
for the stride-2 convolution, the output level). Adding a backend is one class
here plus its entry in :data:`KERNELS`.
"""

from __future__ import annotations

import torch
from torch import nn

from larseg.errors import LarsegError
from larseg.model.sparse import spconv_backend
from larseg.model.sparse.tensor import SparseTensor


def _gather_matmul(feats: torch.Tensor, index: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sum_k feats[index[:, k]] @ W_k`` for index (M, K) (rows = len(feats) read zero) and weight (K*Cin, Cout)."""
    padded = torch.cat([feats, feats.new_zeros(1, feats.shape[1])])
    return padded.index_select(0, index.reshape(-1)).view(index.shape[0], weight.shape[0]) @ weight


class TorchKernels:
    """Pure PyTorch: gathers through the geometry's neighbour maps, then one matmul per layer."""

    name = "torch"

    def subm_conv(self, layer: nn.Module, x: SparseTensor) -> torch.Tensor:
        index = x.geometry.submanifold_map(x.level, layer.kernel_size)
        weight = layer.weight.permute(2, 3, 1, 0).reshape(-1, layer.out_channels)
        return _gather_matmul(x.feats, index, weight)

    def down_conv(self, layer: nn.Module, x: SparseTensor) -> tuple[torch.Tensor, int]:
        index = x.geometry.down_map(x.level)
        weight = layer.weight.permute(2, 3, 1, 0).reshape(-1, layer.out_channels)
        return _gather_matmul(x.feats, index, weight), x.level + 1

    def up_conv(self, layer: nn.Module, x: SparseTensor) -> torch.Tensor:
        weight = layer.weight.permute(0, 2, 3, 1).reshape(layer.in_channels, -1)
        every = x.feats @ weight  # (N_coarse, 4 * Cout): the 2x2 outputs of each coarse site
        return every.view(-1, layer.out_channels).index_select(0, x.geometry.up_index(x.level - 1))


class SpconvKernels:
    """spconv 2.x with the layers' own weights (see :mod:`larseg.model.sparse.spconv_backend`)."""

    name = "spconv"

    def subm_conv(self, layer: nn.Module, x: SparseTensor) -> torch.Tensor:
        return spconv_backend.subm_conv(layer, x)

    def down_conv(self, layer: nn.Module, x: SparseTensor) -> tuple[torch.Tensor, int]:
        return spconv_backend.down_conv(layer, x)

    def up_conv(self, layer: nn.Module, x: SparseTensor) -> torch.Tensor:
        return spconv_backend.up_conv(layer, x)


KERNELS: dict[str, TorchKernels | SpconvKernels] = {"torch": TorchKernels(), "spconv": SpconvKernels()}


def kernels_for(backend: str) -> TorchKernels | SpconvKernels:
    try:
        return KERNELS[backend]
    except KeyError:
        raise LarsegError(f"sparse backend {backend!r}: expected one of {', '.join(KERNELS)}") from None


__all__ = ["KERNELS", "SpconvKernels", "TorchKernels", "kernels_for"]
