"""Training (Sec. IV of PRD 99 092001): the PL-weighted loss, the RMSProp recipe, transfer learning, DDP.

    from larseg.train import train, pretrain
    train(["train.h5"], ["val.h5"], "runs/cpu", model="cpu", training="cpu")
    pretrain(["single.h5"], ["single-val.h5"], "runs/pre", model="cpu", training="cpu")
    train(["train.h5"], ["val.h5"], "runs/tl", model="cpu", training="cpu", init_encoder="runs/pre/best.pt")
"""

from larseg.train.config import AugmentConfig, TrainConfig
from larseg.train.loop import TrainResult, apply_settings, pretrain, train
from larseg.train.loss import class_weights, pixel_categories, pixel_weights, segmentation_loss, weight_maps

__all__ = [
    "AugmentConfig",
    "TrainConfig",
    "TrainResult",
    "apply_settings",
    "class_weights",
    "pixel_categories",
    "pixel_weights",
    "pretrain",
    "segmentation_loss",
    "train",
    "weight_maps",
]
