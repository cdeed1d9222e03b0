"""The U-ResNet (Sec. III of PRD 99 092001) and its encoder classifier for transfer learning.

    from larseg.model import build_model, load_model
    model = build_model("cpu")                 # a preset name or a ModelConfig
    probs = model.predict(image)               # (N, 3, H, W) softmax: background, track, shower
    model = load_model("runs/x/best.pt")       # eval mode; model.config is its ModelConfig
"""

from larseg.model.config import ModelConfig
from larseg.model.flops import count_flops, count_parameters
from larseg.model.inference import predict_event, predict_logits, predict_probabilities
from larseg.model.io import load_encoder_weights, load_model, read_checkpoint, save_atomic
from larseg.model.uresnet import (
    PARTICLE_CLASSES,
    PARTICLE_PDGS,
    EncoderClassifier,
    UResNet,
    build_classifier,
    build_model,
    pad_to_multiple,
    pdg_to_class,
)

__all__ = [
    "PARTICLE_CLASSES",
    "PARTICLE_PDGS",
    "EncoderClassifier",
    "ModelConfig",
    "UResNet",
    "build_classifier",
    "build_model",
    "count_flops",
    "count_parameters",
    "load_encoder_weights",
    "load_model",
    "pad_to_multiple",
    "pdg_to_class",
    "predict_event",
    "predict_logits",
    "predict_probabilities",
    "read_checkpoint",
    "save_atomic",
]
