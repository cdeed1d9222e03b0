"""The training config (presets ``paper`` and ``cpu``; ``larseg config show training/paper``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from larseg.config.base import SEED_LIMIT, cap_workers, require, require_finite
from larseg.conventions import PIXEL_THRESHOLD
from larseg.detector.config import GeometryConfig, ReadoutConfig

#: Largest side of an image the simulation writes: the widest wire plane of the MicroBooNE
#: detector (3456 Y wires; whole events are 1008 rows high). A square crop larger than this is
#: zero padding only, and its tensors grow as its square (100000 would need 40 GB per image).
MAX_CROP = max(max(p.n_wires for p in GeometryConfig().planes), ReadoutConfig().n_rows)
#: DataLoader worker processes above this many per CPU core are lowered to it (with a note).
WORKERS_PER_CPU = 4
#: Upper bound of the count settings (epochs, steps, images, radii): far above any real run.
MAX_COUNT = 2**40


@dataclass
class AugmentConfig:
    #: Side of a random square crop (0: whole images, as in the paper). Must be a multiple of the net's 2**depth
    #: and at most MAX_CROP (3456, the widest detector plane).
    crop: int = 0
    #: ``active``: the crop window contains a randomly chosen non-zero pixel; ``uniform``: anywhere.
    crop_mode: Literal["active", "uniform"] = "active"
    #: Random flips (probability 1/2 each) of the time axis (rows) and the wire axis (columns).
    flip_rows: bool = False
    flip_cols: bool = False

    def __post_init__(self):
        require(self, "crop", low=0, high=MAX_CROP, integer=True,
                why=f"0 = whole images; a crop beyond the widest detector plane, {MAX_CROP} wires, is only padding")

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
    #: DataLoader worker processes (0: load in the training process). More than WORKERS_PER_CPU per CPU
    #: core of the machine are lowered to that, with a one-line note (not refused: a run from a bigger
    #: machine must still resume here; num_workers may differ on resume).
    num_workers: int = 0
    #: Torch CPU threads of each training process (0: torch's default, one per core); more than the
    #: machine's cores are lowered to that, with a note.
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
        require_finite(self)
        require(self, "lr", low=0, high=10, low_open=True)
        require(self, "momentum", "rmsprop_alpha", low=0, high=1, high_open=True)
        require(self, "eps", low=0, high=1, low_open=True)
        require(self, "weight_decay", "threshold", low=0)
        require(self, "lr_gamma", low=0, high=1, low_open=True)
        require(self, "batch_size", "epochs", "val_batch", "checkpoint_every", low=1, high=MAX_COUNT, integer=True)
        require(self, "micro_batch", "images_per_epoch", "val_max_images", "val_every_steps", "bn_recalibration",
                "max_steps", "edge_radius", "vertex_radius", "lr_milestones", low=0, high=MAX_COUNT, integer=True)
        require(self, "plane", low=0, high=2, integer=True, why="0 = U, 1 = V, 2 = Y")
        require(self, "seed", low=0, high=SEED_LIMIT, high_open=True, integer=True)
        require(self, "num_workers", "threads", low=0, high=MAX_COUNT, integer=True)
        # lowered (with a note), not refused: a run started on a bigger machine must still resume here
        self.num_workers = cap_workers(self.num_workers, MAX_COUNT, "num_workers", per_cpu=WORKERS_PER_CPU)
        self.threads = cap_workers(self.threads, MAX_COUNT, "threads")
