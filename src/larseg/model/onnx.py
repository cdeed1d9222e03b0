"""ONNX export of a trained U-ResNet, with dynamic batch and image size.

The exported graph takes ``image`` ``(N, 1, H, W)`` float32 with ``H`` and ``W``
multiples of ``2**depth`` (the metadata key ``larseg_multiple``; larseg pads and
crops around it) and gives ``scores`` ``(N, 3, H, W)``: the softmax over
background, track, shower. The model's config (YAML) and larseg's provenance
are stored in the model's metadata, so ``larseg predict`` needs only the file.

The TorchScript-based exporter is used (``dynamo=False``): it needs no package
beyond torch and onnx, and writes opset 17 by default, which onnxruntime
supports from 1.14 on. :class:`OnnxRunner` runs an export with onnxruntime (the
``onnx`` backend of :class:`larseg.model.predictor.Predictor`).

onnx and onnxruntime are optional (the ``onnx`` extra): they are imported where
they are used, so that larseg runs without them.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from larseg.atomic import atomic_open
from larseg.config import from_yaml, to_yaml
from larseg.conventions import CLASSES
from larseg.errors import DataFileError, LarsegError, first_line
from larseg.model.config import ModelConfig
from larseg.provenance import provenance

DEFAULT_OPSET = 17
INPUT, OUTPUT = "image", "scores"


def _onnx():
    try:
        import onnx  # optional (the onnx extra)
    except ImportError:
        raise LarsegError("ONNX export needs the onnx package: pip install 'larseg[onnx]'") from None
    return onnx


def _softmax_net(module):
    class SoftmaxNet(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return torch.softmax(self.net(x), dim=1)

    return SoftmaxNet(module).eval()


def export_onnx(module, f: str | Path | BinaryIO, opset: int = DEFAULT_OPSET, source: str = "") -> bytes:
    """Export ``module`` (a ``UResNet``) to ``f`` (a path, written atomically, or a binary file); returns the bytes."""
    onnx = _onnx()
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
    meta = {"larseg_multiple": str(cfg.multiple), "larseg_classes": ",".join(CLASSES),
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
    return data, from_yaml(ModelConfig, meta["larseg_model_config"], f"{path} (model config)")


def onnxruntime():
    try:
        import onnxruntime as ort  # optional (the onnx extra)
    except ImportError:
        raise LarsegError("the ONNX backend needs onnxruntime: pip install 'larseg[onnx]'") from None
    return ort


class OnnxRunner:
    """Softmax scores with onnxruntime from an exported model (its graph ends with the softmax)."""

    name = "onnx"

    def __init__(self, model_bytes: bytes, device: str | torch.device = "cpu", threads: int | None = None):
        ort = onnxruntime()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or max(1, torch.get_num_threads())
        opts.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if str(device).startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(model_bytes, opts, providers=providers)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})[0]


__all__ = ["DEFAULT_OPSET", "OnnxRunner", "export_onnx", "onnxruntime", "read_onnx"]
