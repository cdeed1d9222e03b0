"""ONNX export of a trained U-ResNet, with dynamic batch and image size.

The exported graph takes ``image`` ``(N, 1, H, W)`` float32 with ``H`` and ``W``
multiples of ``2**depth`` (the metadata key ``larseg_multiple``; larseg pads and
crops around it) and gives ``scores`` ``(N, 3, H, W)``: the softmax over
background, track, shower. The model's config (YAML) and larseg's provenance
are stored in the model's metadata, so ``larseg predict`` needs only the file.

The TorchScript-based exporter is used (``dynamo=False``): it needs no package
beyond torch and onnx, and writes opset 17 by default, which onnxruntime
supports from 1.14 on.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np

from larseg.atomic import atomic_open
from larseg.errors import DataFileError, LarsegError, first_line
from larseg.model.config import ModelConfig

DEFAULT_OPSET = 17
INPUT, OUTPUT = "image", "scores"


def _onnx():
    try:
        import onnx
    except ImportError:
        raise LarsegError("ONNX export needs the onnx package: pip install 'larseg[onnx]'") from None
    return onnx


def _softmax_net(module):
    import torch

    class SoftmaxNet(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return torch.softmax(self.net(x), dim=1)

    return SoftmaxNet(module).eval()


def export_onnx(module, f: str | Path | BinaryIO, opset: int = DEFAULT_OPSET, source: str = "") -> bytes:
    """Export ``module`` (a ``UResNet``) to ``f`` (a path, written atomically, or a binary file); returns the bytes."""
    import torch

    onnx = _onnx()
    from larseg.config import to_yaml
    from larseg.provenance import provenance

    cfg = module.config
    if getattr(cfg, "sparse", False):
        raise LarsegError(f"model '{cfg.name}' is sparse: ONNX export is not supported (its neighbour maps use "
                          "searchsorted, which ONNX cannot express); run it with the torch backend")
    was_training = module.training
    module.eval()
    side = cfg.multiple * 2
    example = torch.zeros(1, cfg.in_channels, side, side, device=next(module.parameters()).device)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on the multiple-of-2**depth check and deprecation
            torch.onnx.export(
                _softmax_net(module), (example,), buf, dynamo=False, opset_version=int(opset),
                input_names=[INPUT], output_names=[OUTPUT], do_constant_folding=True,
                dynamic_axes={INPUT: {0: "batch", 2: "height", 3: "width"},
                              OUTPUT: {0: "batch", 2: "height", 3: "width"}},
            )
    except Exception as exc:  # exporter errors (e.g. an opset it cannot write) are user-facing here
        raise LarsegError(f"ONNX export failed at opset {opset}: {first_line(exc)}") from None
    finally:
        module.train(was_training)
    model = onnx.load_from_string(buf.getvalue())
    meta = {"larseg_multiple": str(cfg.multiple), "larseg_classes": "background,track,shower",
            "larseg_model_config": to_yaml(cfg), "larseg_source": str(source), **provenance()}
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "larseg"
    data = model.SerializeToString()
    if isinstance(f, (str, Path)):
        _write_atomic(Path(f), data)
    else:
        f.write(data)
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    with atomic_open(path, make_dirs=False) as out:
        out.write(data)


def read_onnx(path: str | Path) -> tuple[bytes, ModelConfig]:
    """The bytes and model config of a larseg ONNX export (checked)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such ONNX model")
    onnx = _onnx()
    data = path.read_bytes()
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:
        raise DataFileError(path, f"not a readable ONNX model ({first_line(exc)})") from None
    meta = {p.key: p.value for p in model.metadata_props}
    if "larseg_model_config" not in meta:
        raise DataFileError(path, "not a larseg ONNX export (no larseg_model_config metadata; use 'larseg export')")
    from larseg.config import from_yaml

    return data, from_yaml(ModelConfig, meta["larseg_model_config"], f"{path} (model config)")


def parity(module, model_bytes: bytes, sizes=((256, 384), (160, 224)), batch: int = 1, seed: int = 0) -> dict:
    """Max abs difference of onnxruntime and PyTorch softmax scores on random sparse images of ``sizes``.

    Sizes are padded up to the network's multiple. Returns ``{"HxW": diff, ..., "max": diff}``.
    """
    import torch

    from larseg.infer.segmenter import OnnxBackend, TorchBackend

    rng = np.random.default_rng(seed)
    m = module.config.multiple
    ort_run, torch_run = OnnxBackend(model_bytes), TorchBackend(module)
    out = {}
    for h, w in sizes:
        h, w = -(-h // m) * m, -(-w // m) * m
        x = rng.exponential(40.0, size=(batch, 1, h, w)).astype(np.float32)
        x[rng.random(x.shape) < 0.9] = 0.0  # sparse, like LArTPC images
        with torch.no_grad():
            ref = torch_run(x)
        out[f"{h}x{w}"] = float(np.abs(ort_run(x) - ref).max())
    out["max"] = max(out.values())
    return out
