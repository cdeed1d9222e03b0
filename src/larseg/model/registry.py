"""The registry of network architectures: the one place that turns a :class:`ModelConfig` into a network.

    from larseg.model import build_model, build_classifier, architectures
    net = build_model("sparse-cpu")        # a preset name or a ModelConfig
    clf = build_classifier("sparse-cpu")   # its encoder classifier (transfer learning)

A config names its architecture (``architecture``, default ``uresnet``) and, with
``sparse``, the layer backend: dense convolutions or submanifold sparse ones on
the non-zero pixels (:mod:`larseg.model.sparse`). An architecture registers a
segmenter builder (per-pixel logits ``(N, num_classes, H, W)``) and a classifier
builder (per-image logits ``(N, num_classes)``) for the backends it supports.

Adding a network: write its module (``nn.Module`` classes taking a
``ModelConfig``), then register it at the bottom of this file with
:func:`register`; see docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from larseg.config import resolve
from larseg.conventions import PARTICLE_CLASSES
from larseg.errors import LarsegError
from larseg.model.config import ModelConfig

BACKENDS = ("dense", "sparse")


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str
    #: backend ("dense" / "sparse") -> builder of the per-pixel network
    segmenters: dict[str, Callable[[ModelConfig], nn.Module]]
    #: backend -> builder of the encoder classifier, ``(config, num_classes)``
    classifiers: dict[str, Callable[[ModelConfig, int], nn.Module]]

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(self.segmenters)


_REGISTRY: dict[str, Architecture] = {}


def register(architecture: Architecture) -> Architecture:
    """Add an architecture (its name must be new)."""
    if architecture.name in _REGISTRY:
        raise ValueError(f"architecture {architecture.name!r} is already registered")
    unknown = set(architecture.segmenters) - set(BACKENDS)
    if unknown:
        raise ValueError(f"architecture {architecture.name!r}: unknown backends {sorted(unknown)}")
    _REGISTRY[architecture.name] = architecture
    return architecture


def architectures() -> dict[str, Architecture]:
    """The registered architectures by name."""
    return dict(_REGISTRY)


def backend_of(cfg: ModelConfig) -> str:
    return "sparse" if cfg.sparse else "dense"


def _resolve(cfg: ModelConfig | str) -> ModelConfig:
    return resolve("model", cfg) if isinstance(cfg, str) else cfg


def architecture_of(cfg: ModelConfig) -> Architecture:
    try:
        arch = _REGISTRY[cfg.architecture]
    except KeyError:
        raise LarsegError(f"model preset '{cfg.name}': unknown architecture {cfg.architecture!r} "
                          f"(registered: {', '.join(sorted(_REGISTRY))})") from None
    if backend_of(cfg) not in arch.segmenters:
        raise LarsegError(f"model preset '{cfg.name}': architecture {arch.name!r} has no {backend_of(cfg)} "
                          f"backend (it has {', '.join(arch.backends)})")
    return arch


def build_model(cfg: ModelConfig | str) -> nn.Module:
    """A freshly initialised per-pixel network for a :class:`ModelConfig` or a preset name."""
    cfg = _resolve(cfg)
    return architecture_of(cfg).segmenters[backend_of(cfg)](cfg)


def build_classifier(cfg: ModelConfig | str, num_classes: int = len(PARTICLE_CLASSES)) -> nn.Module:
    """The encoder classifier of a config, for pretraining (transfer learning, Sec. IV A)."""
    cfg = _resolve(cfg)
    arch = architecture_of(cfg)
    backend = backend_of(cfg)
    if backend not in arch.classifiers:
        raise LarsegError(f"model preset '{cfg.name}': architecture {arch.name!r} has no {backend} classifier")
    return arch.classifiers[backend](cfg, num_classes)


# -- the built-in architectures ---------------------------------------------------------------------

from larseg.model import uresnet as _uresnet  # noqa: E402  (registrations follow the registry's definition)

register(Architecture(
    name="uresnet",
    description="U-ResNet of PRD 99 092001 (ResNet encoder, transposed-convolution decoder with skips, head); one "
                "skeleton on dense convolutions, or on submanifold sparse ones on the non-zero pixels",
    segmenters={"dense": _uresnet.UResNet, "sparse": _uresnet.SparseUResNet},
    classifiers={"dense": _uresnet.EncoderClassifier, "sparse": _uresnet.SparseEncoderClassifier},
))

__all__ = ["BACKENDS", "Architecture", "architecture_of", "architectures", "backend_of", "build_classifier",
           "build_model", "register"]
