"""A trained U-ResNet for use inside other programs: numpy in, per-pixel scores out.

    import larseg
    net = larseg.load_model("models/larseg-sparse-cpu.pt")      # or a run directory, or an exported .onnx
    scores = net.predict(image)                          # (H, W) -> (3, H, W): background, track, shower
    label = scores.argmax(0)                             # 0 background, 1 track, 2 shower
    many = net.predict(stack)                            # (N, H, W) -> (N, 3, H, W)
    planes = net.predict_batch([u, v, y])                # images of different sizes -> list of (3, H, W)

Every image goes through the same steps: pixels below ``threshold`` (default 10,
as in training) are set to 0; the image is zero-padded to a multiple of the
network's ``2**depth`` and the scores are cropped back (``mode="full"``, the
whole image at once), or the padded image is cut into overlapping tiles whose
scores are blended (``mode="tiles"``, see :mod:`larseg.infer.tiles`).

The PyTorch backend runs :func:`larseg.model.predict_probabilities` (the one
implementation behind ``UResNet.predict``); the ONNX backend runs an exported
model (``larseg export``) with onnxruntime.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from larseg.errors import DataFileError, LarsegError
from larseg.infer.tiles import predict_tiled
from larseg.model.config import ModelConfig

CLASSES = ("background", "track", "shower")
MODES = ("full", "tiles")
BACKENDS = ("torch", "onnx")
DEFAULT_THRESHOLD = 10.0
DEFAULT_TILE = 512
DEFAULT_OVERLAP = 128


def resolve_device(device: str) -> str:
    """``cpu``, ``cuda`` (checked) or ``auto`` (CUDA when present)."""
    import torch

    device = (device or "cpu").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise LarsegError(f"--device {device}: CUDA is not available on this machine (use --device cpu)")
        return device
    if device != "cpu":
        raise LarsegError(f"--device {device}: expected cpu, cuda or auto")
    return device


class TorchBackend:
    """Softmax scores with PyTorch (eval mode; bf16 autocast on CUDA, as ``UResNet.predict``)."""

    name = "torch"

    def __init__(self, module):
        self.module = module

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from larseg.model.inference import predict_probabilities

        return predict_probabilities(self.module, x).cpu().numpy()


class OnnxBackend:
    """Softmax scores with onnxruntime from an exported model (its graph ends with the softmax)."""

    name = "onnx"

    def __init__(self, model_bytes: bytes, device: str = "cpu", threads: int | None = None):
        ort = onnxruntime()
        opts = ort.SessionOptions()
        n = threads or _torch_threads()
        opts.intra_op_num_threads = n
        opts.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(model_bytes, opts, providers=providers)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})[0]


def onnxruntime():
    try:
        import onnxruntime as ort
    except ImportError:
        raise LarsegError("the ONNX backend needs onnxruntime: pip install 'larseg[onnx]'") from None
    return ort


def _torch_threads() -> int:
    try:
        import torch

        return max(1, torch.get_num_threads())
    except ImportError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


class Segmenter:
    """A trained network behind one ``predict``: numpy images in, numpy softmax scores out.

    Attributes: ``config`` (the :class:`ModelConfig`), ``multiple`` (input sides are padded
    to it), ``backend`` (``torch`` or ``onnx``), ``module`` (the PyTorch ``UResNet``, or
    None for ONNX), ``threshold``, ``source`` (the file it came from).
    """

    def __init__(self, run, config: ModelConfig, *, module=None, threshold: float = DEFAULT_THRESHOLD,
                 source: str = "", device: str = "cpu"):
        self._run = run
        self.config = config
        self.module = module
        self.threshold = float(threshold)
        self.source = source
        self.device = device

    @property
    def backend(self) -> str:
        return self._run.name

    @property
    def multiple(self) -> int:
        return self.config.multiple

    def __repr__(self) -> str:
        return (f"Segmenter(model={self.config.name!r}, backend={self.backend!r}, device={self.device!r}, "
                f"source={self.source!r})")

    # -- loading

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", backend: str | None = None,
             threshold: float = DEFAULT_THRESHOLD) -> Segmenter:
        """From a checkpoint, a run directory (its ``best.pt``) or an exported ``.onnx`` file.

        ``backend`` defaults to ``onnx`` for ``.onnx`` files and ``torch`` otherwise; ``onnx``
        with a checkpoint exports it in memory first.
        """
        path = Path(path)
        device = resolve_device(device)
        is_onnx = path.suffix.lower() == ".onnx"
        backend = backend or ("onnx" if is_onnx else "torch")
        if backend not in BACKENDS:
            raise LarsegError(f"--backend {backend}: expected one of {', '.join(BACKENDS)}")
        if is_onnx:
            if backend != "onnx":
                raise LarsegError(f"{path}: an ONNX model runs with --backend onnx only")
            from larseg.infer.onnx_export import read_onnx

            data, config = read_onnx(path)
            return cls(OnnxBackend(data, device), config, threshold=threshold, source=str(path), device=device)
        from larseg.model.io import load_model

        module = load_model(path, device=device)
        if backend == "torch":
            return cls(TorchBackend(module), module.config, module=module, threshold=threshold,
                       source=str(path), device=device)
        from larseg.infer.onnx_export import export_onnx

        buf = io.BytesIO()
        export_onnx(module.cpu(), buf)
        return cls(OnnxBackend(buf.getvalue(), device), module.config, threshold=threshold, source=str(path),
                   device=device)

    # -- prediction

    def _prepare(self, image, what: str = "image") -> np.ndarray:
        if hasattr(image, "detach"):  # a torch tensor
            image = image.detach().cpu().numpy()
        x = np.asarray(image)
        if x.dtype.kind not in "biuf":
            raise LarsegError(f"{what}: dtype {x.dtype}; a numeric image is needed")
        x = x.astype(np.float32, copy=True)
        if x.ndim != 2:
            raise LarsegError(f"{what}: shape {x.shape}; expected (H, W)")
        if min(x.shape) == 0:
            raise LarsegError(f"{what}: empty image ({x.shape[0]} x {x.shape[1]} pixels)")
        bad = int(np.count_nonzero(~np.isfinite(x)))
        if bad:
            raise LarsegError(f"{what}: {bad} NaN/inf pixels")
        if self.threshold > 0:
            x[x < self.threshold] = 0.0
        return x

    def _padded(self, x: np.ndarray) -> np.ndarray:
        m = self.multiple
        h, w = x.shape[-2:]
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            pad = [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)]
            x = np.pad(x, pad)
        return x

    def _scores_same_shape(self, images: np.ndarray, mode: str, batch: int, tile: int, overlap: int,
                           skip_empty: bool = True) -> np.ndarray:
        """(N, C, H, W) for prepared (N, H, W) images of one shape."""
        n, h, w = images.shape
        padded = self._padded(images)
        if mode == "full":
            out = [self._run(padded[b: b + batch, None]) for b in range(0, n, batch)]
            return np.concatenate(out)[..., :h, :w]
        m = self.multiple
        tile = max(m, (int(tile) // m) * m)
        if not 0 <= overlap < tile:
            raise LarsegError(f"--overlap {overlap}: must be at least 0 and less than the tile side {tile}")
        out = [predict_tiled(self._run, p, tile, overlap, m, batch, self.config.num_classes, skip_empty)
               for p in padded]
        return np.stack(out)[..., :h, :w]

    def predict(self, image, mode: str = "full", *, batch: int = 1, tile: int = DEFAULT_TILE,
                overlap: int = DEFAULT_OVERLAP, skip_empty: bool = True) -> np.ndarray:
        """Softmax scores (background, track, shower) of an image of any size.

        ``image``: ``(H, W)`` -> ``(3, H, W)``; ``(N, H, W)`` -> ``(N, 3, H, W)`` (run ``batch``
        at a time; numpy or torch, rows = time, columns = wire). ``mode="tiles"``: tiles of
        side ``tile`` overlapping by at least ``overlap``; tiles with no pixel above threshold
        are not run (``skip_empty``) and pixels under them alone get scores (1, 0, 0).
        """
        if mode not in MODES:
            raise LarsegError(f"--mode {mode}: expected one of {', '.join(MODES)}")
        arr = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
        if arr.ndim == 2:
            return self._scores_same_shape(self._prepare(arr)[None], mode, max(1, int(batch)), tile, overlap,
                                           skip_empty)[0]
        if arr.ndim == 3:
            stack = np.stack([self._prepare(a, f"image {k}") for k, a in enumerate(arr)])
            return self._scores_same_shape(stack, mode, max(1, int(batch)), tile, overlap, skip_empty)
        raise LarsegError(f"image: shape {arr.shape}; expected (H, W) or (N, H, W)")

    def predict_batch(self, images: Sequence, mode: str = "full", *, batch: int = 1, tile: int = DEFAULT_TILE,
                      overlap: int = DEFAULT_OVERLAP) -> list[np.ndarray]:
        """Scores ``(3, H_k, W_k)`` of each of a list of ``(H_k, W_k)`` images (e.g. the planes of an event).

        Images of the same shape are run together, ``batch`` per forward pass.
        """
        if mode not in MODES:
            raise LarsegError(f"--mode {mode}: expected one of {', '.join(MODES)}")
        prepared = [self._prepare(im, f"image {k}") for k, im in enumerate(images)]
        out: list[np.ndarray | None] = [None] * len(prepared)
        groups: dict[tuple[int, int], list[int]] = {}
        for k, x in enumerate(prepared):
            groups.setdefault(x.shape, []).append(k)
        for ks in groups.values():
            scores = self._scores_same_shape(np.stack([prepared[k] for k in ks]), mode, max(1, int(batch)), tile,
                                             overlap)
            for k, s in zip(ks, scores):
                out[k] = s
        return out  # type: ignore[return-value]

    def predict_labels(self, image, mode: str = "full", **kw) -> np.ndarray:
        """Argmax labels (0 background, 1 track, 2 shower) of :meth:`predict`, uint8."""
        scores = self.predict(image, mode, **kw)
        return scores.argmax(axis=-3).astype(np.uint8)


def load(path: str | Path, device: str = "cpu", backend: str | None = None,
         threshold: float = DEFAULT_THRESHOLD) -> Segmenter:
    """A :class:`Segmenter` from a checkpoint, run directory or ``.onnx`` file (see :meth:`Segmenter.load`)."""
    if not Path(path).exists():
        raise DataFileError(path, "no such model file or run directory")
    return Segmenter.load(path, device=device, backend=backend, threshold=threshold)
