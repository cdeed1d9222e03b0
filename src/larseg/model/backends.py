"""Layer backends: the contract through which one network skeleton runs dense or sparse.

The U-ResNet (:mod:`larseg.model.uresnet`) is written once, as stem -> encoder
stages -> decoder stages with skips -> head, and so is its ResNet module
(:class:`larseg.model.blocks.ResBlock`). They ask a backend for every layer and
for the few operations on activations (ReLU, sum, concatenation, scale,
per-image mean). Two backends implement the contract:

* :class:`DenseLayers` -- ``nn.Conv2d`` and friends on ``(N, C, H, W)`` tensors
  (the paper's network);
* :class:`SparseLayers` -- submanifold convolutions on the non-zero pixels only
  (:mod:`larseg.model.sparse`), on :class:`~larseg.model.sparse.tensor.SparseTensor` s.
  Its convolution kernels are themselves chosen by the sparse-kernel contract
  (pure PyTorch or spconv, :mod:`larseg.model.sparse.kernels`).

Where the two differ, the backend says so in one method: a deeper stage opens
with a strided ResNet module (dense, the paper) or with a 2x2 stride-2
convolution (sparse: a strided 3x3 convolution has no submanifold form); the
sparse head is 1x1 only; the sparse net's zero pixels are background by
construction; the dense ResNet module has one more ReLU (``relu_in_branch``). The
weights have the same names in both, per layer kind.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from larseg.model.blocks import ResBlock, init_weights, make_norm
from larseg.model.config import ModelConfig
from larseg.model.contract import pad_to_multiple
from larseg.model.sparse.layers import (
    SparseDownConv2d,
    SparseLinear,
    SparseReLU,
    SparseUpConv2d,
    SubMConv2d,
    make_sparse_norm,
    sparse_projection,
)
from larseg.model.sparse.tensor import SparseTensor

#: Logit of class 0 (background) at the inactive pixels of a sparse network; the other classes get 0 there.
BACKGROUND_LOGIT = 20.0


class DenseLayers:
    """Dense convolutions on ``(N, C, H, W)`` tensors."""

    name = "dense"
    #: the ResNet module's second convolution is followed by ReLU too (the paper's wording)
    relu_in_branch = True

    # -- layers
    def conv(self, cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Module:
        return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False)

    def norm(self, channels: int, norm: str, groups: int) -> nn.Module:
        return make_norm(channels, norm, groups)

    def relu_layer(self) -> nn.Module:
        return nn.ReLU(inplace=True)

    def projection(self, cin: int, cout: int, stride: int = 1) -> nn.Module:
        return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def stage_entry(self, cin: int, cout: int, blocks: int, norm: str, groups: int) -> list[nn.Module]:
        """A deeper stage: a stride-2 ResNet module, then ``blocks - 1`` more (the paper)."""
        mods: list[nn.Module] = [ResBlock(self, cin, cout, stride=2, norm=norm, groups=groups)]
        return mods + [ResBlock(self, cout, cout, norm=norm, groups=groups) for _ in range(blocks - 1)]

    def pool(self) -> nn.Module:
        return nn.MaxPool2d(3, stride=2, padding=1)

    def upsample(self, cin: int, cout: int, cfg: ModelConfig) -> nn.Module:
        k = cfg.upsample_kernel
        return nn.ConvTranspose2d(cin, cout, k, stride=2, padding=(k - 2) // 2,
                                  groups=cout if cfg.upsample_grouped else 1, bias=not cfg.upsample_bn)

    def head_hidden(self, cin: int, cout: int, kernel: int) -> nn.Module:
        return self.conv(cin, cout, kernel)

    def head_out(self, cin: int, classes: int, kernel: int) -> nn.Module:
        return nn.Conv2d(cin, classes, kernel, padding=kernel // 2)

    def init(self, model: nn.Module) -> None:
        """Initialise a freshly built network (Kaiming normal convolutions, unit norms)."""
        init_weights(model)

    # -- activations
    def relu(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x, inplace=True)

    def add(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b

    def cat(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.cat([a, b], dim=1)

    def scale(self, x: torch.Tensor, factor: float) -> torch.Tensor:
        return x * factor

    def image_mean(self, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        return x.mean(dim=(2, 3))

    # -- in and out
    def enter(self, x: torch.Tensor, model: nn.Module, pad: bool = False) -> torch.Tensor:
        m = model.config.multiple
        if x.shape[-1] % m or x.shape[-2] % m:
            if pad:
                return pad_to_multiple(x, m)[0]
            raise ValueError(f"input sides {tuple(x.shape[-2:])} must be multiples of {m}; use a Predictor "
                             "(larseg.model.Predictor) or larseg.model.pad_to_multiple")
        return x

    def leave(self, out: torch.Tensor, model: nn.Module) -> torch.Tensor:
        return out


class SparseLayers:
    """Submanifold sparse convolutions on the active (non-zero) pixels, on SparseTensors."""

    name = "sparse"
    #: the standard ResNet module: no ReLU between the second norm and the sum
    relu_in_branch = False

    # -- layers
    def conv(self, cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Module:
        if stride != 1:
            raise ValueError("a submanifold convolution has stride 1 (stages open with a 2x2 stride-2 conv)")
        return SubMConv2d(cin, cout, kernel)

    def norm(self, channels: int, norm: str, groups: int) -> nn.Module:
        return make_sparse_norm(channels, norm, groups)

    def relu_layer(self) -> nn.Module:
        return SparseReLU()

    def projection(self, cin: int, cout: int, stride: int = 1) -> nn.Module:
        if stride != 1:
            raise ValueError("a sparse projection has stride 1")
        return sparse_projection(cin, cout)

    def stage_entry(self, cin: int, cout: int, blocks: int, norm: str, groups: int) -> list[nn.Module]:
        """A deeper stage: 2x2 stride-2 conv, norm, ReLU, then ``blocks`` ResNet modules."""
        mods: list[nn.Module] = [SparseDownConv2d(cin, cout), self.norm(cout, norm, groups), SparseReLU()]
        return mods + [ResBlock(self, cout, cout, norm=norm, groups=groups) for _ in range(blocks)]

    def pool(self) -> nn.Module:
        raise ValueError("a sparse network has no stem pool")

    def upsample(self, cin: int, cout: int, cfg: ModelConfig) -> nn.Module:
        return SparseUpConv2d(cin, cout, bias=not cfg.upsample_bn)

    def head_hidden(self, cin: int, cout: int, kernel: int) -> nn.Module:
        return sparse_projection(cin, cout)

    def head_out(self, cin: int, classes: int, kernel: int) -> nn.Module:
        return SparseLinear(cin, classes)

    def init(self, model: nn.Module) -> None:
        """Sparse layers initialise themselves when built (Kaiming normal, as the dense ones); plain linear
        layers (a classifier's) get N(0, 0.01) weights and zero biases, as :func:`init_weights` gives them."""
        for m in model.modules():
            if type(m) is nn.Linear:
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    # -- activations
    def relu(self, x: SparseTensor) -> SparseTensor:
        return x.replace(F.relu(x.feats))

    def add(self, a: SparseTensor, b: SparseTensor) -> SparseTensor:
        return a.replace(a.feats + b.feats)

    def cat(self, a: SparseTensor, b: SparseTensor) -> SparseTensor:
        return b.replace(torch.cat([a.feats, b.feats], dim=1))

    def scale(self, x: SparseTensor, factor: float) -> SparseTensor:
        return x.replace(x.feats * factor)

    def image_mean(self, x: SparseTensor, batch_size: int) -> torch.Tensor:
        """Mean over each image's active sites: (batch_size, C)."""
        image = x.geometry.batch_index(x.level)
        feats = x.feats.float()
        total = feats.new_zeros(batch_size, feats.shape[1]).index_add(0, image, feats)
        count = torch.bincount(image, minlength=batch_size).clamp(min=1)
        return (total / count[:, None]).to(x.feats.dtype)

    # -- in and out
    def enter(self, x: torch.Tensor, model: nn.Module, pad: bool = False) -> SparseTensor:
        """The active pixels (> 0) of a dense batch (B, in_channels, H, W), on the model's sparse kernels."""
        cfg = model.config
        if x.dim() != 4 or x.shape[1] != cfg.in_channels:
            raise ValueError(f"expected images (B, {cfg.in_channels}, H, W), got shape {tuple(x.shape)}")
        return SparseTensor.from_dense(x, model.backend)

    def leave(self, out: SparseTensor, model: nn.Module) -> torch.Tensor:
        """Dense logits: the inactive pixels get ``[BACKGROUND_LOGIT, 0, ...]`` (background, softmax ~ 1)."""
        return out.to_dense(model.background)


DENSE, SPARSE = DenseLayers(), SparseLayers()


def layers_for(cfg: ModelConfig) -> DenseLayers | SparseLayers:
    """The layer backend of a config (``sparse: true`` -> sparse)."""
    return SPARSE if cfg.sparse else DENSE


__all__ = ["BACKGROUND_LOGIT", "DENSE", "SPARSE", "DenseLayers", "SparseLayers", "layers_for"]
