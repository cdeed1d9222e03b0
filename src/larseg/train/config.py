"""The training config (presets ``paper`` and ``cpu``; ``larseg config show training/paper``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from larseg.conventions import PIXEL_THRESHOLD


@dataclass
class AugmentConfig:
    #: Side of a random square crop (0: whole images, as in the paper). Must be a multiple of the net's 2**depth.
    crop: int = 0
    #: ``active``: the crop window contains a randomly chosen non-zero pixel; ``uniform``: anywhere.
    crop_mode: Literal["active", "uniform"] = "active"
    #: Random flips (probability 1/2 each) of the time axis (rows) and the wire axis (columns).
    flip_rows: bool = False
    flip_cols: bool = False

    def __post_init__(self):
        if self.crop < 0:
            raise ValueError(f"crop must be >= 0, got {self.crop}")

    @property
    def enabled(self) -> bool:
        return bool(self.crop or self.flip_rows or self.flip_cols)


@dataclass
class TrainConfig:
    name: str = "custom"
    description: str = ""
    optimizer: Literal["rmsprop", "adam", "sgd"] = "rmsprop"
    lr: float = 3e-4
    momentum: float = 0.0
    #: RMSProp's smoothing constant (PyTorch ``alpha``; Caffe ``rms_decay``).
    rmsprop_alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    #: Images per weight update, over all processes.
    batch_size: int = 60
    #: Images per forward pass in one process (gradient accumulation when smaller than
    #: the per-process batch); 0: the whole per-process batch at once.
    micro_batch: int = 0
    epochs: int = 20
    #: Images per epoch (0: the whole training set). An epoch draws a fresh random subset.
    images_per_epoch: int = 0
    #: Epochs at whose start the learning rate is multiplied by ``lr_gamma``.
    lr_milestones: tuple[int, ...] = (14,)
    lr_gamma: float = 0.1
    weighting: Literal["pixel", "class", "none"] = "pixel"
    edge_radius: int = 2
    vertex_radius: int = 4
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    #: Wire plane trained on (2 = Y, the collection plane) and the pixel threshold applied on load.
    plane: int = 2
    threshold: float = PIXEL_THRESHOLD
    #: Validation images used (0: all) and their batch size.
    val_max_images: int = 0
    val_batch: int = 4
    #: Also validate every this many steps (0: only after every epoch).
    val_every_steps: int = 0
    #: Write last.pt every this many steps (and after every epoch).
    checkpoint_every: int = 200
    num_workers: int = 0
    #: Torch CPU threads of each training process (0: torch's default, one per core).
    threads: int = 0
    seed: int = 0
    #: bf16 autocast: ``auto`` = on CUDA only (on CPUs without native bf16 it is many times slower).
    amp: Literal["auto", "bf16", "fp32"] = "auto"
    #: Channels-last memory layout: true, false, or null = on CUDA only.
    channels_last: bool | None = None
    #: Batch-norm statistics over all processes under DDP (SyncBatchNorm).
    sync_batchnorm: bool = True
    #: Before every validation, recompute the BatchNorm running statistics as the plain
    #: average over this many batches (of ``val_batch`` whole training images); 0: keep
    #: PyTorch's moving average (the paper's behaviour). See larseg.train.bn.
    bn_recalibration: int = 0
    #: Stop after this many weight updates in total (0: run all epochs).
    max_steps: int = 0

    def __post_init__(self):
        if self.bn_recalibration < 0:
            raise ValueError("bn_recalibration must be >= 0")
        if self.batch_size < 1 or self.micro_batch < 0 or self.epochs < 1 or self.val_batch < 1:
            raise ValueError("batch_size, epochs and val_batch must be >= 1 and micro_batch >= 0")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.checkpoint_every < 1:
            raise ValueError("checkpoint_every must be >= 1")
