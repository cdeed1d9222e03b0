"""Sparse layers: submanifold and stride-2 convolutions, normalisation over active sites, the ResNet module.

Every layer maps a :class:`~larseg.model.sparse.tensor.SparseTensor` to another, so
they chain in ``nn.Sequential``. Weights use the dense layouts (``Conv2d``:
``(Cout, Cin, kh, kw)``, ``ConvTranspose2d``: ``(Cin, Cout, kh, kw)``), so a sparse
layer computes exactly what its dense twin computes at the active sites of an
image that is zero elsewhere (see tests/model/test_sparse.py). The convolutions'
arithmetic is the sparse-kernel contract's (:mod:`larseg.model.sparse.kernels`):
pure PyTorch, or spconv with the same weights, chosen by ``geometry.backend``. The
ResNet module is the shared one (:class:`larseg.model.blocks.ResBlock`).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from larseg.model.blocks import CrossProcessBatchNorm2d
from larseg.model.sparse.kernels import kernels_for
from larseg.model.sparse.tensor import SparseTensor


class _SparseConv(nn.Module):
    """Shared parts of the sparse convolutions: weight in a dense layout, optional bias, dense-like init."""

    stride = 1
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool):
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        channels = (in_channels, out_channels) if self.transposed else (out_channels, in_channels)
        self.weight = nn.Parameter(torch.empty(*channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming normal (fan out, ReLU), as :func:`larseg.model.uresnet.init_weights` does for dense convolutions."""
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"bias={self.bias is not None}")

    def _finish(self, x: SparseTensor, out: torch.Tensor, level: int) -> SparseTensor:
        if self.bias is not None:
            out = out + self.bias.to(out.dtype)
        return x.replace(out, level)


class SubMConv2d(_SparseConv):
    """Submanifold k x k convolution (stride 1): outputs on the input's active sites only.

    Equal to ``F.conv2d(dense, weight, padding=k // 2)`` at the active sites, where
    ``dense`` is the input scattered into zeros.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = False):
        if kernel_size % 2 == 0:
            raise ValueError(f"submanifold convolutions need an odd kernel, got {kernel_size}")
        super().__init__(in_channels, out_channels, kernel_size, bias)

    def forward(self, x: SparseTensor) -> SparseTensor:
        return self._finish(x, kernels_for(x.geometry.backend).subm_conv(self, x), x.level)


class SparseDownConv2d(_SparseConv):
    """2x2 stride-2 convolution from ``level`` to ``level + 1`` (the sites with an active child).

    Equal to ``F.conv2d(dense, weight, stride=2)`` at the coarse active sites (odd sides
    are treated as zero-padded to even).
    """

    stride = 2

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False):
        super().__init__(in_channels, out_channels, 2, bias)

    def forward(self, x: SparseTensor) -> SparseTensor:
        out, level = kernels_for(x.geometry.backend).down_conv(self, x)
        return self._finish(x, out, level)


class SparseUpConv2d(_SparseConv):
    """2x2 stride-2 transposed convolution from ``level`` back onto the stored sites of ``level - 1``.

    Equal to ``F.conv_transpose2d(dense, weight, stride=2)`` at the finer active sites.
    """

    stride = 2
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False):
        super().__init__(in_channels, out_channels, 2, bias)

    def forward(self, x: SparseTensor) -> SparseTensor:
        if x.level == 0:
            raise ValueError("SparseUpConv2d needs a tensor below full resolution (level > 0)")
        return self._finish(x, kernels_for(x.geometry.backend).up_conv(self, x), x.level - 1)


class SparseLinear(nn.Linear):
    """A 1x1 convolution: ``nn.Linear`` on the features (same parameters and state dict)."""

    def forward(self, x: SparseTensor) -> SparseTensor:
        return x.replace(super().forward(x.feats))


class SparseReLU(nn.Module):
    """ReLU of the features."""

    def forward(self, x: SparseTensor) -> SparseTensor:
        return x.replace(F.relu(x.feats))


def _synchronised(bn: nn.Module) -> bool:
    """Whether ``bn`` takes its statistics over several processes (a converted batch norm in a process group)."""
    return (isinstance(bn, (nn.SyncBatchNorm, CrossProcessBatchNorm2d)) and dist.is_available()
            and dist.is_initialized() and dist.get_world_size() > 1)


class SparseBatchNorm(nn.Module):
    """Batch norm over the active sites of the whole batch (each site counts as one sample).

    The statistics come from ``self.bn``, an ``nn.BatchNorm2d`` applied to the features
    viewed as (N, C, 1, 1), so :func:`larseg.model.blocks.convert_batchnorm` turns it into
    the cross-process batch norm for DDP like the dense network's. With fewer than 2 sites
    in a training batch (and no process group) the running statistics are used and not updated.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: SparseTensor) -> SparseTensor:
        f = x.feats[:, :, None, None]
        bn = self.bn
        if self.training and f.shape[0] < 2 and not _synchronised(bn):
            out = F.batch_norm(f, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
        else:
            out = bn(f)
        return x.replace(out[:, :, 0, 0])


class SparseGroupNorm(nn.Module):
    """Group norm per image over its active sites: statistics per (image, channel group), as ``nn.GroupNorm``
    on the image's active pixels only. The same function in training and inference; computed in float32."""

    def __init__(self, channels: int, groups: int = 8, eps: float = 1e-5):
        super().__init__()
        self.num_groups = max(d for d in range(1, min(groups, channels) + 1) if channels % d == 0)
        self.num_channels, self.eps = channels, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}"

    def forward(self, x: SparseTensor) -> SparseTensor:
        n, c = x.feats.shape
        g = self.num_groups
        f = x.feats.float().view(n, g, c // g)
        image = x.geometry.batch_index(x.level)
        count = torch.bincount(image, minlength=x.batch_size).clamp_(min=1).to(torch.float32)[:, None] * (c // g)
        zeros = f.new_zeros(x.batch_size, g)
        mean = zeros.index_add(0, image, f.sum(dim=2)) / count
        centred = f - mean.index_select(0, image)[:, :, None]
        var = zeros.index_add(0, image, centred.square().sum(dim=2)) / count
        out = centred * torch.rsqrt(var + self.eps).index_select(0, image)[:, :, None]
        out = out.view(n, c) * self.weight + self.bias
        return x.replace(out.to(x.feats.dtype))


def make_sparse_norm(channels: int, norm: str = "batch", groups: int = 8) -> nn.Module:
    """The sparse counterpart of :func:`larseg.model.blocks.make_norm`."""
    if norm == "batch":
        return SparseBatchNorm(channels)
    if norm == "group":
        return SparseGroupNorm(channels, groups)
    raise ValueError(f"norm must be 'batch' or 'group', got {norm!r}")


def sparse_projection(cin: int, cout: int) -> SparseLinear:
    """A bias-free 1x1 convolution initialised like a dense one (Kaiming normal, fan out)."""
    proj = SparseLinear(cin, cout, bias=False)
    nn.init.kaiming_normal_(proj.weight, mode="fan_out", nonlinearity="relu")
    return proj
