"""The network config: one dataclass describes every U-ResNet variant (presets ``paper``, ``mcc8``, ``cpu``).

Layout (see docs/model.md)::

    stem:     conv(stem_kernel) in_channels -> stem_filters, BN, ReLU          (full resolution)
              [stem_pool: 3x3 stride-2 max pool; the stem output is kept for a full-resolution skip]
    encoder:  stage i has filters[i] channels and encoder_blocks ResNet modules;
              stage 0 has stride 1, every later stage starts with a stride-2 module
    decoder:  from the bottom up: ConvTranspose x2 (upsample_kernel) filters[i+1] -> filters[i],
              concatenate encoder stage i, decoder_blocks ResNet modules -> filters[i]
              [stem_pool: one more ConvTranspose x2 filters[0] -> stem_filters, concatenate the stem]
    head:     conv(head_kernel) layers through head_filters (BN, ReLU), then -> num_classes

The number of stride-2 steps is ``depth = len(filters) - 1 + stem_pool``; inputs
must have sides divisible by ``2**depth`` (``predict`` pads and crops back).

``sparse: true`` builds the sparse U-ResNet (:mod:`larseg.model.sparse`): the same
layout on the non-zero pixels only, with submanifold convolutions and a 2x2 stride-2
convolution opening each deeper stage (no stem pool, 2x2 upsampling, 1x1 head).
"""

from __future__ import annotations

from dataclasses import dataclass

from larseg.config.base import SettingError, require, require_finite

#: Bounds of the layout settings (far above any useful network; they catch typos such as 10**9).
MAX_CHANNELS = 65536
MAX_STAGES = 16
MAX_BLOCKS = 64
MAX_KERNEL = 31
MAX_INPUT_SIZE = 16384


@dataclass
class ModelConfig:
    name: str = "custom"
    description: str = ""
    #: The network family, a name in the architecture registry (:mod:`larseg.model.registry`).
    architecture: str = "uresnet"
    in_channels: int = 1
    #: Per-pixel classes, in order: background, track, shower.
    num_classes: int = 3
    stem_filters: int = 32
    stem_kernel: int = 3
    #: 3x3 stride-2 max pool after the stem (the production MicroBooNE network).
    stem_pool: bool = False
    #: Channels of each encoder stage, full resolution (or half, with stem_pool) first.
    filters: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
    #: ResNet modules per encoder stage and per decoder stage.
    encoder_blocks: int = 1
    decoder_blocks: int = 1
    #: Transposed-convolution kernel of the x2 upsampling (2 or 4).
    upsample_kernel: int = 2
    #: Grouped transposed convolution (groups = output channels), as in the Caffe production net.
    upsample_grouped: bool = False
    #: BN + ReLU after each transposed convolution.
    upsample_bn: bool = True
    #: Hidden head layers (each conv + BN + ReLU) before the class layer.
    head_filters: tuple[int, ...] = ()
    head_kernel: int = 1
    #: Normalisation after every convolution: "batch" (the paper) or "group" (GroupNorm,
    #: identical in training and inference; see docs/model.md for why the cpu preset uses it).
    norm: str = "batch"
    #: Channel groups of GroupNorm (lowered to a divisor of each layer's channels).
    norm_groups: int = 8
    #: The network multiplies its input by this before the stem (pixel values are ~60 per
    #: MIP wire; 0.01 brings them to order one). Part of the model, so every caller,
    #: ONNX export included, feeds raw pixel values.
    input_scale: float = 1.0
    #: Sparse U-ResNet (larseg.model.sparse): convolutions only on the non-zero pixels, which
    #: get the logits; the others are background (class 0) with certainty. Much cheaper on
    #: these images (well under 1% of the pixels are non-zero), most of all on whole events.
    sparse: bool = False
    #: Convolution kernels of a sparse network: "torch" (pure PyTorch, the reference) or
    #: "spconv" (the optional spconv package; same weights, so a checkpoint runs on either).
    sparse_backend: str = "torch"
    #: Nominal input side (for FLOP counts and documentation only; the net is fully convolutional).
    input_size: int = 512

    def __post_init__(self):
        require_finite(self)
        if not self.filters:
            raise SettingError("filters", "needs at least one encoder stage (the list is empty)")
        if len(self.filters) > MAX_STAGES:
            raise SettingError("filters", f"must have at most {MAX_STAGES} stages, got {len(self.filters)}")
        require(self, "filters", "stem_filters", "head_filters", "in_channels", "norm_groups", low=1,
                high=MAX_CHANNELS, integer=True)
        require(self, "num_classes", low=2, high=MAX_CHANNELS, integer=True)
        require(self, "encoder_blocks", low=1, high=MAX_BLOCKS, integer=True)
        require(self, "decoder_blocks", low=0, high=MAX_BLOCKS, integer=True)
        require(self, "stem_kernel", "head_kernel", low=1, high=MAX_KERNEL, integer=True)
        require(self, "input_scale", low=0, low_open=True)
        require(self, "input_size", low=1, high=MAX_INPUT_SIZE, integer=True)
        if self.norm not in ("batch", "group"):
            raise ValueError(f"norm must be 'batch' or 'group', got {self.norm!r}")
        if self.upsample_kernel not in (2, 4):
            raise ValueError(f"upsample_kernel must be 2 or 4, got {self.upsample_kernel}")
        if self.stem_kernel % 2 == 0 or self.head_kernel % 2 == 0:
            raise ValueError("stem_kernel and head_kernel must be odd")
        if self.upsample_grouped:
            pairs = list(zip(self.filters[1:], self.filters[:-1]))
            if self.stem_pool:
                pairs.append((self.filters[0], self.stem_filters))
            bad = [(a, b) for a, b in pairs if a % b]
            if bad:
                raise ValueError(f"upsample_grouped needs input channels divisible by output channels, not {bad[0]}")
        if self.sparse_backend not in ("torch", "spconv"):
            raise ValueError(f"sparse_backend must be 'torch' or 'spconv', got {self.sparse_backend!r}")
        if self.sparse:
            unsupported = [name for name, bad in (
                ("stem_pool", self.stem_pool), (f"upsample_kernel {self.upsample_kernel}", self.upsample_kernel != 2),
                (f"head_kernel {self.head_kernel}", self.head_kernel != 1), ("upsample_grouped", self.upsample_grouped))
                if bad]
            if unsupported:
                raise ValueError(f"a sparse network does not support {', '.join(unsupported)} (it needs stem_pool: "
                                 "false, upsample_kernel: 2, head_kernel: 1, upsample_grouped: false)")

    @property
    def depth(self) -> int:
        """Number of stride-2 downsamplings."""
        return len(self.filters) - 1 + int(self.stem_pool)

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this (``2**depth``)."""
        return 2 ** self.depth

    def encoder_signature(self) -> dict:
        """The settings that fix the encoder's weights (must match for transfer learning)."""
        return {k: getattr(self, k) for k in (
            "in_channels", "stem_filters", "stem_kernel", "stem_pool", "filters", "encoder_blocks", "norm",
            "norm_groups", "input_scale", "sparse")}
