"""Networks: the registry that builds them, the contract that feeds them, the Predictor that runs them.

    from larseg.model import build_model, load_model
    net = build_model("sparse-cpu")                # a fresh network: a preset name or a ModelConfig
    predictor = load_model("runs/x/best.pt")       # a trained one, ready to run (larseg.load_model)
    scores = predictor.predict(image)              # (H, W) numpy -> (3, H, W): background, track, shower

Modules, one job each:

* :mod:`~larseg.model.config` -- :class:`ModelConfig`, the typed settings of every network;
* :mod:`~larseg.model.registry` -- architectures by name: ``build_model``, ``build_classifier``;
* :mod:`~larseg.model.uresnet`, :mod:`~larseg.model.sparse` -- the dense and sparse U-ResNet;
* :mod:`~larseg.model.contract` -- :class:`InputContract`: threshold, scale, padding, plane;
* :mod:`~larseg.model.device` -- the one device resolver;
* :mod:`~larseg.model.io` -- checkpoint files (checked reading, atomic writing, bare networks);
* :mod:`~larseg.model.predictor` -- :class:`Predictor` and ``load_model``: how a trained network runs;
* :mod:`~larseg.model.tiles`, :mod:`~larseg.model.onnx` -- tiled whole images, ONNX export and runtime.
"""

from larseg.model.config import ModelConfig
from larseg.model.contract import InputContract, pad_to_multiple
from larseg.model.device import resolve_device
from larseg.model.flops import count_flops, count_parameters
from larseg.model.io import load_encoder_weights, load_network, read_checkpoint, save_atomic
from larseg.model.predictor import Predictor, as_predictor, load_model
from larseg.model.registry import architectures, build_classifier, build_model, register

__all__ = [
    "InputContract",
    "ModelConfig",
    "Predictor",
    "architectures",
    "as_predictor",
    "build_classifier",
    "build_model",
    "count_flops",
    "count_parameters",
    "load_encoder_weights",
    "load_model",
    "load_network",
    "pad_to_multiple",
    "read_checkpoint",
    "register",
    "resolve_device",
    "save_atomic",
]
