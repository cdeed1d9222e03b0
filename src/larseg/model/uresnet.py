"""The U-ResNet (Sec. III of the paper) and its encoder classifier (transfer learning, Sec. IV A), written once.

One skeleton, stem -> encoder stages -> decoder stages with skips -> head, runs
on either layer backend (:mod:`larseg.model.backends`): dense convolutions
(the paper's network) or submanifold sparse ones on the non-zero pixels
(``sparse: true``). The layout (see :mod:`larseg.model.config`)::

    stem:     conv(stem_kernel) in_channels -> stem_filters, norm, ReLU
              [dense only, stem_pool: 3x3 stride-2 max pool; the stem output is a skip]
    encoder:  stage 0: encoder_blocks ResNet modules -> filters[0];
              stage i > 0 opens with the backend's x2 downsampling (dense: a stride-2
              ResNet module; sparse: 2x2 stride-2 conv, norm, ReLU), then ResNet modules
    decoder:  from the bottom up: x2 transposed conv filters[i+1] -> filters[i] (norm, ReLU),
              concatenate encoder stage i, decoder_blocks ResNet modules
    head:     layers through head_filters (norm, ReLU), then -> num_classes

``forward`` takes and returns dense tensors ``(N, C, H, W)`` with either backend,
so training, evaluation and inference code work unchanged.

:class:`SparseUResNet` (``sparse: true``): every convolution runs on the active
(non-zero) pixels only. The active sites of the full-resolution level are the
input pixels > 0; a site of a coarser level is active where any of its 2x2
children is, so activity never spreads and the sides need not be multiples of
``2**depth``. Inactive pixels get the constant logits ``[BACKGROUND_LOGIT, 0, ...]``,
softmax ~ (1, 0, ...), i.e. background with a cross-entropy of ~4e-9 and no
gradient (the data pipeline labels every zero pixel background).
``forward_sparse`` works on a :class:`SparseTensor` directly. ``backend``
(``torch`` or ``spconv``, from ``config.sparse_backend``) selects the sparse
kernels and may be changed at any time: both run the same weights.
"""

from __future__ import annotations

import torch
from torch import nn

from larseg.conventions import PARTICLE_CLASSES
from larseg.model.backends import BACKGROUND_LOGIT, layers_for
from larseg.model.blocks import ResBlock
from larseg.model.config import ModelConfig
from larseg.model.sparse.spconv_backend import load_spconv
from larseg.model.sparse.tensor import SparseTensor


def _sparse_backend(cfg: ModelConfig) -> str:
    if cfg.sparse_backend == "spconv":
        load_spconv()  # a clear error now if the optional package is missing
    return cfg.sparse_backend


def _norm_relu(layers, conv: nn.Module, channels: int, cfg: ModelConfig) -> nn.Sequential:
    return nn.Sequential(conv, layers.norm(channels, cfg.norm, cfg.norm_groups), layers.relu_layer())


class Encoder(nn.Module):
    """Stem and encoder stages. ``forward`` returns every skip tensor, full resolution first, bottom last."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        L = layers_for(cfg)  # noqa: N806
        self.layers = L
        self.input_scale = cfg.input_scale
        nk = {"norm": cfg.norm, "groups": cfg.norm_groups}
        self.stem = _norm_relu(L, L.conv(cfg.in_channels, cfg.stem_filters, cfg.stem_kernel), cfg.stem_filters, cfg)
        self.pool = L.pool() if cfg.stem_pool else None
        stages = []
        cin = cfg.stem_filters
        for i, f in enumerate(cfg.filters):
            if i == 0:
                mods = [ResBlock(L, cin if k == 0 else f, f, **nk) for k in range(cfg.encoder_blocks)]
            else:
                mods = L.stage_entry(cin, f, cfg.encoder_blocks, **nk)
            stages.append(nn.Sequential(*mods))
            cin = f
        self.stages = nn.ModuleList(stages)
        self.out_channels = cfg.filters[-1]

    def forward(self, x) -> list:
        if self.input_scale != 1.0:
            x = self.layers.scale(x, self.input_scale)
        x = self.stem(x)
        feats = []
        if self.pool is not None:
            feats.append(x)
            x = self.pool(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class UpStage(nn.Module):
    """Learnable x2 upsampling, concatenation with the encoder tensor of that resolution, ResNet modules."""

    def __init__(self, cin: int, cout: int, skip: int, blocks: int, cfg: ModelConfig):
        super().__init__()
        L = layers_for(cfg)  # noqa: N806
        self.layers = L
        up: list[nn.Module] = [L.upsample(cin, cout, cfg)]
        if cfg.upsample_bn:
            up += [L.norm(cout, cfg.norm, cfg.norm_groups), L.relu_layer()]
        self.up = nn.Sequential(*up)
        mods = []
        c = cout + skip
        for _ in range(blocks):
            mods.append(ResBlock(L, c, cout, norm=cfg.norm, groups=cfg.norm_groups))
            c = cout
        self.blocks = nn.Sequential(*mods)
        self.out_channels = c

    def forward(self, x, skip):
        return self.blocks(self.layers.cat(self.up(x), skip))


class UResNet(nn.Module):
    """Per-pixel classifier: ``forward`` gives logits (N, num_classes, H, W).

    Dense networks need sides that are multiples of ``config.multiple``;
    :class:`larseg.model.predictor.Predictor` runs either kind on images of any size.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        L = layers_for(cfg)  # noqa: N806
        self.layers = L
        self.config = cfg
        if cfg.sparse:
            self.backend = _sparse_backend(cfg)  # the sparse kernels: torch or spconv (may be changed at any time)
        self.encoder = Encoder(cfg)
        f = cfg.filters
        c = f[-1]
        self.decoder = nn.ModuleList()
        for i in reversed(range(len(f) - 1)):
            self.decoder.append(UpStage(c, f[i], f[i], cfg.decoder_blocks, cfg))
            c = self.decoder[-1].out_channels
        if cfg.stem_pool:
            self.decoder.append(UpStage(c, cfg.stem_filters, cfg.stem_filters, 0, cfg))
            c = self.decoder[-1].out_channels
        head: list[nn.Module] = [_norm_relu(L, L.head_hidden(c_in, h, cfg.head_kernel), h, cfg)
                                 for c_in, h in zip((c, *cfg.head_filters), cfg.head_filters)]
        c = cfg.head_filters[-1] if cfg.head_filters else c
        head.append(L.head_out(c, cfg.num_classes, cfg.head_kernel))
        self.head = nn.Sequential(*head)
        L.init(self)
        # start from near-uniform class probabilities (initial loss ~ ln 3)
        nn.init.normal_(self.head[-1].weight, std=0.01)
        nn.init.zeros_(self.head[-1].bias)
        if cfg.sparse:
            background = torch.zeros(cfg.num_classes)
            background[0] = BACKGROUND_LOGIT
            self.register_buffer("background", background, persistent=False)

    def features(self, x):
        """Head output on the backend's own tensors (dense tensor or SparseTensor)."""
        feats = self.encoder(x)
        y = feats[-1]
        for up, skip in zip(self.decoder, reversed(feats[:-1])):
            y = up(y, skip)
        return self.head(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers.leave(self.features(self.layers.enter(x, self)), self)


class EncoderClassifier(nn.Module):
    """The encoder of a U-ResNet with global average pooling (over each image's pixels, or its active
    sites for a sparse network) and a linear layer (5 particle classes). Its ``encoder.*`` weights load
    into a U-ResNet of the same encoder settings (:func:`larseg.model.load_encoder_weights`)."""

    def __init__(self, cfg: ModelConfig, num_classes: int = len(PARTICLE_CLASSES)):
        super().__init__()
        L = layers_for(cfg)  # noqa: N806
        self.layers = L
        self.config = cfg
        if cfg.sparse:
            self.backend = _sparse_backend(cfg)
        self.num_classes = num_classes
        self.encoder = Encoder(cfg)
        self.fc = nn.Linear(self.encoder.out_channels, num_classes)
        L.init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bottom = self.encoder(self.layers.enter(x, self, pad=True))[-1]
        return self.fc(self.layers.image_mean(bottom, x.shape[0]))


# -- the sparse networks: the same skeleton on the sparse layer backend


def _check_config(cfg: ModelConfig) -> None:
    if not cfg.sparse:
        raise ValueError(f"model preset '{cfg.name}' is dense (sparse: false); build it with build_model")


class SparseUResNet(UResNet):
    """The U-ResNet on the sparse layer backend (see the module docstring)."""

    def __init__(self, cfg: ModelConfig):
        _check_config(cfg)
        super().__init__(cfg)

    def forward_sparse(self, x: SparseTensor) -> torch.Tensor:
        """Logits (N_active, num_classes) at the sites of ``x`` (full resolution), in its order."""
        return self.features(x).feats


class SparseEncoderClassifier(EncoderClassifier):
    """The encoder classifier on the sparse layer backend: mean over each image's active bottom sites."""

    def __init__(self, cfg: ModelConfig, num_classes: int):
        _check_config(cfg)
        super().__init__(cfg, num_classes)


__all__ = ["BACKGROUND_LOGIT", "Encoder", "EncoderClassifier", "SparseEncoderClassifier", "SparseUResNet", "UResNet",
           "UpStage"]
