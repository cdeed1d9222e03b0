"""U-ResNet (Sec. III of the paper) and the encoder classifier used for transfer learning (Sec. IV A)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from larseg.model.blocks import ResBlock, conv_bn_relu, make_norm
from larseg.model.config import ModelConfig

#: Classes of the pretraining classifier, in output order, and the primary pdg of each.
PARTICLE_CLASSES = ("e-", "gamma", "mu-", "pi-", "p")
PARTICLE_PDGS = (11, 22, 13, -211, 2212)


class Encoder(nn.Module):
    """Stem and encoder stages. ``forward`` returns every skip tensor, full resolution first, bottom last."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.sparse:
            raise ValueError(f"model preset '{cfg.name}' is sparse (sparse: true): build it with "
                             "larseg.model.build_model or build_classifier, not the dense classes")
        self.input_scale = cfg.input_scale
        nk = {"norm": cfg.norm, "groups": cfg.norm_groups}
        self.stem = conv_bn_relu(cfg.in_channels, cfg.stem_filters, cfg.stem_kernel, **nk)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1) if cfg.stem_pool else None
        stages = []
        cin = cfg.stem_filters
        for i, f in enumerate(cfg.filters):
            blocks = [ResBlock(cin, f, stride=1 if i == 0 else 2, **nk)]
            blocks += [ResBlock(f, f, **nk) for _ in range(cfg.encoder_blocks - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = f
        self.stages = nn.ModuleList(stages)
        self.out_channels = cfg.filters[-1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.input_scale != 1.0:
            x = x * self.input_scale
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
        k = cfg.upsample_kernel
        groups = cout if cfg.upsample_grouped else 1
        layers: list[nn.Module] = [nn.ConvTranspose2d(cin, cout, k, stride=2, padding=(k - 2) // 2, groups=groups,
                                                      bias=not cfg.upsample_bn)]
        if cfg.upsample_bn:
            layers += [make_norm(cout, cfg.norm, cfg.norm_groups), nn.ReLU(inplace=True)]
        self.up = nn.Sequential(*layers)
        mods = []
        c = cout + skip
        for _ in range(blocks):
            mods.append(ResBlock(c, cout, norm=cfg.norm, groups=cfg.norm_groups))
            c = cout
        self.blocks = nn.Sequential(*mods)
        self.out_channels = c

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.blocks(torch.cat([self.up(x), skip], dim=1))


class UResNet(nn.Module):
    """Per-pixel classifier: ``forward`` gives logits (N, num_classes, H, W); ``predict`` gives softmax."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        f = cfg.filters
        ups = [UpStage(f[i + 1], f[i], f[i], cfg.decoder_blocks, cfg) for i in reversed(range(len(f) - 1))]
        if cfg.stem_pool:
            ups.append(UpStage(f[0], cfg.stem_filters, cfg.stem_filters, 0, cfg))
        self.decoder = nn.ModuleList(ups)
        c = ups[-1].out_channels if ups else f[0]
        head: list[nn.Module] = []
        for h in cfg.head_filters:
            head.append(conv_bn_relu(c, h, cfg.head_kernel, norm=cfg.norm, groups=cfg.norm_groups))
            c = h
        head.append(nn.Conv2d(c, cfg.num_classes, cfg.head_kernel, padding=cfg.head_kernel // 2))
        self.head = nn.Sequential(*head)
        init_weights(self)
        # start from near-uniform class probabilities (initial loss ~ ln 3)
        nn.init.normal_(self.head[-1].weight, std=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.config.multiple
        if x.shape[-1] % m or x.shape[-2] % m:
            raise ValueError(f"input sides {tuple(x.shape[-2:])} must be multiples of {m}; use predict() "
                             "or larseg.model.pad_to_multiple")
        feats = self.encoder(x)
        x = feats[-1]
        for up, skip in zip(self.decoder, reversed(feats[:-1])):
            x = up(x, skip)
        return self.head(x)

    @torch.no_grad()
    def predict(self, image, amp: bool | None = None) -> torch.Tensor:
        """Softmax probabilities (N, C, H, W) for images of any size ((H, W), (1, H, W) or (N, 1, H, W)).

        Sides are zero-padded up to multiples of ``2**depth`` and the output is cropped back.
        Runs in eval mode on the model's device (restoring the previous mode); ``amp``
        (default: on for CUDA) uses bf16 autocast.
        """
        from larseg.model.inference import predict_probabilities

        return predict_probabilities(self, image, amp=amp)


class EncoderClassifier(nn.Module):
    """The encoder half of a U-ResNet with global average pooling and a linear layer (5 particle classes)."""

    def __init__(self, cfg: ModelConfig, num_classes: int = len(PARTICLE_CLASSES)):
        super().__init__()
        self.config = cfg
        self.num_classes = num_classes
        self.encoder = Encoder(cfg)
        self.fc = nn.Linear(self.encoder.out_channels, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.config.multiple
        if x.shape[-1] % m or x.shape[-2] % m:
            x = pad_to_multiple(x, m)[0]
        feats = self.encoder(x)[-1]
        return self.fc(feats.mean(dim=(2, 3)))


def init_weights(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad the last two dims (bottom and right) up to multiples of ``multiple``; returns (padded, (H, W))."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph))
    return x, (h, w)


def build_model(cfg: ModelConfig | str) -> nn.Module:
    """A freshly initialised U-ResNet for a ModelConfig or a preset name (``paper``, ``mcc8``, ``cpu``, ...).

    A config with ``sparse: true`` gives a :class:`larseg.model.sparse.SparseUResNet` (same interface).
    """
    if isinstance(cfg, str):
        from larseg.config import resolve

        cfg = resolve("model", cfg)
    if cfg.sparse:
        from larseg.model.sparse import SparseUResNet

        return SparseUResNet(cfg)
    return UResNet(cfg)


def build_classifier(cfg: ModelConfig | str, num_classes: int = len(PARTICLE_CLASSES)) -> nn.Module:
    """The encoder classifier of a config (sparse for ``sparse: true``) for pretraining."""
    if isinstance(cfg, str):
        from larseg.config import resolve

        cfg = resolve("model", cfg)
    if cfg.sparse:
        from larseg.model.sparse import SparseEncoderClassifier

        return SparseEncoderClassifier(cfg, num_classes)
    return EncoderClassifier(cfg, num_classes)


def pdg_to_class(pdg) -> np.ndarray:
    """Classifier class index of primary pdg codes (-1 for other particles)."""
    pdg = np.asarray(pdg)
    out = np.full(pdg.shape, -1, dtype=np.int64)
    for k, code in enumerate(PARTICLE_PDGS):
        out[pdg == code] = k
    return out
