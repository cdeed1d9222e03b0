"""The sparse U-ResNet: the U-ResNet layout on the active pixels only (submanifold convolutions).

Layout for a :class:`~larseg.model.config.ModelConfig` with ``sparse: true``::

    stem:     submanifold conv(stem_kernel) in_channels -> stem_filters, norm, ReLU
    encoder:  stage 0: encoder_blocks ResNet modules -> filters[0];
              stage i > 0: 2x2 stride-2 conv filters[i-1] -> filters[i], norm, ReLU, encoder_blocks modules
    decoder:  from the bottom up: 2x2 stride-2 transposed conv filters[i+1] -> filters[i] (norm, ReLU)
              onto the active sites of stage i, concatenate encoder stage i, decoder_blocks modules
    head:     1x1 layers through head_filters (norm, ReLU), then -> num_classes

Unlike the dense net, a stage starts with a strided 2x2 conv rather than a strided
ResNet module (a strided 3x3 conv has no submanifold form). The active sites of the
full-resolution level are the input pixels > 0; a site of a coarser level is active
where any of its 2x2 children is, so activity never spreads and the sides need not be
multiples of ``2**depth``.

``forward`` takes and returns dense tensors, so training, evaluation and inference
code work unchanged: inactive pixels get the constant logits ``[BACKGROUND_LOGIT, 0, ...]``,
softmax ~ (1, 0, ...), i.e. background with a cross-entropy of ~4e-9 and no gradient
(the data pipeline labels every zero pixel background).
"""

from __future__ import annotations

import torch
from torch import nn

from larseg.model.config import ModelConfig
from larseg.model.sparse.layers import (
    SparseDownConv2d,
    SparseLinear,
    SparseReLU,
    SparseResBlock,
    SparseUpConv2d,
    make_sparse_norm,
    sparse_projection,
    subm_norm_relu,
)
from larseg.model.sparse.tensor import SparseTensor

#: Logit of class 0 (background) at inactive pixels; the other classes get 0 there.
BACKGROUND_LOGIT = 20.0


class SparseEncoder(nn.Module):
    """Stem and encoder stages. ``forward`` returns every stage's tensor, full resolution first, bottom last."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.input_scale = cfg.input_scale
        nk = {"norm": cfg.norm, "groups": cfg.norm_groups}
        self.stem = subm_norm_relu(cfg.in_channels, cfg.stem_filters, cfg.stem_kernel, **nk)
        stages = []
        cin = cfg.stem_filters
        for i, f in enumerate(cfg.filters):
            mods: list[nn.Module] = []
            if i > 0:
                mods += [SparseDownConv2d(cin, f), make_sparse_norm(f, **nk), SparseReLU()]
                cin = f
            mods += [SparseResBlock(cin if k == 0 else f, f, **nk) for k in range(cfg.encoder_blocks)]
            stages.append(nn.Sequential(*mods))
            cin = f
        self.stages = nn.ModuleList(stages)
        self.out_channels = cfg.filters[-1]

    def forward(self, x: SparseTensor) -> list[SparseTensor]:
        if self.input_scale != 1.0:
            x = x.replace(x.feats * self.input_scale)
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class SparseUpStage(nn.Module):
    """x2 transposed conv onto the finer active sites, concatenation with the encoder tensor there, ResNet modules."""

    def __init__(self, cin: int, cout: int, skip: int, blocks: int, cfg: ModelConfig):
        super().__init__()
        layers: list[nn.Module] = [SparseUpConv2d(cin, cout, bias=not cfg.upsample_bn)]
        if cfg.upsample_bn:
            layers += [make_sparse_norm(cout, cfg.norm, cfg.norm_groups), SparseReLU()]
        self.up = nn.Sequential(*layers)
        mods = []
        c = cout + skip
        for _ in range(blocks):
            mods.append(SparseResBlock(c, cout, norm=cfg.norm, groups=cfg.norm_groups))
            c = cout
        self.blocks = nn.Sequential(*mods)
        self.out_channels = c

    def forward(self, x: SparseTensor, skip: SparseTensor) -> SparseTensor:
        return self.blocks(skip.replace(torch.cat([self.up(x).feats, skip.feats], dim=1)))


def _check_config(cfg: ModelConfig) -> None:
    if not cfg.sparse:
        raise ValueError(f"model preset '{cfg.name}' is dense (sparse: false); build it with build_model")
    if cfg.sparse_backend == "spconv":
        from larseg.model.sparse.spconv_backend import load_spconv

        load_spconv()


def sparse_input(x: torch.Tensor, cfg: ModelConfig, backend: str) -> SparseTensor:
    """The active pixels (> 0) of a dense batch (B, in_channels, H, W) as a SparseTensor on ``backend``."""
    if x.dim() != 4 or x.shape[1] != cfg.in_channels:
        raise ValueError(f"expected images (B, {cfg.in_channels}, H, W), got shape {tuple(x.shape)}")
    return SparseTensor.from_dense(x, backend)


class SparseUResNet(nn.Module):
    """Sparse per-pixel classifier; ``forward`` gives dense logits (N, num_classes, H, W), ``predict`` softmax.

    ``forward_sparse`` works on a :class:`SparseTensor` and gives logits (N_active, num_classes).
    ``backend`` (``torch`` or ``spconv``; from ``config.sparse_backend``) may be changed at any
    time: both run the same weights.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        _check_config(cfg)
        self.config = cfg
        self.backend = cfg.sparse_backend
        self.encoder = SparseEncoder(cfg)
        f = cfg.filters
        c = f[-1]
        self.decoder = nn.ModuleList()
        for i in reversed(range(len(f) - 1)):
            self.decoder.append(SparseUpStage(c, f[i], f[i], cfg.decoder_blocks, cfg))
            c = self.decoder[-1].out_channels
        head: list[nn.Module] = []
        for h in cfg.head_filters:
            head.append(nn.Sequential(sparse_projection(c, h), make_sparse_norm(h, cfg.norm, cfg.norm_groups),
                                      SparseReLU()))
            c = h
        head.append(SparseLinear(c, cfg.num_classes))
        # start from near-uniform class probabilities (initial loss ~ ln 3), as the dense net
        nn.init.normal_(head[-1].weight, std=0.01)
        nn.init.zeros_(head[-1].bias)
        self.head = nn.Sequential(*head)
        background = torch.zeros(cfg.num_classes)
        background[0] = BACKGROUND_LOGIT
        self.register_buffer("background", background, persistent=False)

    def forward_sparse(self, x: SparseTensor) -> torch.Tensor:
        """Logits (N_active, num_classes) at the sites of ``x`` (full resolution), in its order."""
        feats = self.encoder(x)
        y = feats[-1]
        for up, skip in zip(self.decoder, reversed(feats[:-1])):
            y = up(y, skip)
        return self.head(y).feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        st = sparse_input(x, self.config, self.backend)
        return st.replace(self.forward_sparse(st)).to_dense(self.background)

    @torch.no_grad()
    def predict(self, image, amp: bool | None = None) -> torch.Tensor:
        """Softmax probabilities (N, C, H, W) for images of any size, as :meth:`UResNet.predict`."""
        from larseg.model.inference import predict_probabilities

        return predict_probabilities(self, image, amp=amp)


class SparseEncoderClassifier(nn.Module):
    """The sparse encoder with global average pooling over each image's active bottom sites and a linear layer.

    Its ``encoder.*`` weights load into a :class:`SparseUResNet` of the same encoder
    settings (:func:`larseg.model.load_encoder_weights`).
    """

    def __init__(self, cfg: ModelConfig, num_classes: int):
        super().__init__()
        _check_config(cfg)
        self.config = cfg
        self.backend = cfg.sparse_backend
        self.num_classes = num_classes
        self.encoder = SparseEncoder(cfg)
        self.fc = nn.Linear(self.encoder.out_channels, num_classes)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bottom = self.encoder(sparse_input(x, self.config, self.backend))[-1]
        image = bottom.geometry.batch_index(bottom.level)
        feats = bottom.feats.float()
        total = feats.new_zeros(x.shape[0], feats.shape[1]).index_add(0, image, feats)
        count = torch.bincount(image, minlength=x.shape[0]).clamp(min=1)
        return self.fc((total / count[:, None]).to(bottom.feats.dtype))
