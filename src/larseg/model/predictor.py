"""The one way a trained network runs: :class:`Predictor`, made by :func:`load_model`.

    import larseg
    net = larseg.load_model("models/larseg-sparse-cpu.pt")   # checkpoint, run directory or exported .onnx
    scores = net.predict(image)                      # (H, W) numpy -> (3, H, W): background, track, shower
    label = scores.argmax(0)                         # 0 background, 1 track, 2 shower
    many = net.predict(stack)                        # (N, H, W) -> (N, 3, H, W)
    planes = net.predict_batch([u, v, y])            # images of different sizes -> list of (3, H, W)
    probs = net.probabilities(batch)                 # torch (N, 1, H, W) -> torch (N, 3, H, W), on its device

Every image goes through the network's :class:`~larseg.model.contract.InputContract`
(threshold, scale, padding to the network's multiple; the scores are cropped
back), then through one of two runners: PyTorch (:class:`TorchRunner`: eval mode,
no_grad, bf16 autocast and channels-last on CUDA) or onnxruntime
(:class:`larseg.model.onnx.OnnxRunner`). ``mode="tiles"`` cuts the padded image
into overlapping tiles whose scores are blended (:mod:`larseg.model.tiles`).

Every part of larseg that runs a trained network uses a Predictor: training
validation, ``evaluate``, ``display``, the studies, ``predict`` and the ONNX
parity check. :meth:`Predictor.as_record` is what evaluation outputs record
about the network (source, fingerprint, contract, provenance, training).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import nn

from larseg.config import to_yaml
from larseg.errors import DataFileError, LarsegError
from larseg.model.config import ModelConfig
from larseg.model.contract import InputContract
from larseg.model.device import autocast_context, model_device, resolve_device
from larseg.model.io import network_from_checkpoint, read_checkpoint
from larseg.model.onnx import OnnxRunner, export_onnx, read_onnx
from larseg.model.tiles import predict_tiled

MODES = ("full", "tiles")
BACKENDS = ("torch", "onnx")
DEFAULT_TILE = 512
DEFAULT_OVERLAP = 128


class TorchRunner:
    """A PyTorch network on padded batches: eval mode (restored after), no_grad, bf16 autocast on CUDA.

    ``amp`` / ``channels_last``: None = on for CUDA, off on the CPU (channels-last
    is never used on the CPU: see docs/model.md).
    """

    name = "torch"

    def __init__(self, module: nn.Module, amp: bool | None = None, channels_last: bool | None = None):
        self.module = module
        self.amp = amp
        self.channels_last = channels_last

    @property
    def device(self) -> torch.device:
        return model_device(self.module)

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        device = self.device
        x = x.to(device, dtype=torch.float32)
        cuda = device.type == "cuda"
        amp = cuda if self.amp is None else self.amp
        if (cuda if self.channels_last is None else self.channels_last) and cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        was_training = self.module.training
        self.module.eval()
        try:
            with autocast_context(device, amp):
                out = self.module(x)
        finally:
            self.module.train(was_training)
        return out.float()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return torch.softmax(self.logits(torch.from_numpy(np.ascontiguousarray(x))), dim=1).cpu().numpy()


def state_fingerprint(module: nn.Module) -> str:
    """SHA-1 of a network's weights (and buffers): identical weights give the same string."""
    h = hashlib.sha1()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _as_batch(x) -> torch.Tensor:
    """(N, C, H, W) float32 tensor from numpy or torch of shape (H, W), (N, H, W) for C = 1, or (N, C, H, W)."""
    t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x, dtype=np.float32))
    t = t.float()
    if t.dim() == 2:
        t = t[None, None]
    elif t.dim() == 3:
        t = t[:, None]
    if t.dim() != 4:
        raise LarsegError(f"image: shape {tuple(t.shape)}; expected (H, W), (N, H, W) or (N, C, H, W)")
    return t


class Predictor:
    """A trained network behind one contract and one ``predict``.

    Attributes: ``config`` (:class:`ModelConfig`), ``contract`` (:class:`InputContract`),
    ``backend`` (``torch`` or ``onnx``), ``module`` (the PyTorch network, None for ONNX),
    ``device``, ``source`` (the file it came from), ``provenance``, ``training`` (what the
    checkpoint says about its training run).
    """

    def __init__(self, runner, config: ModelConfig, contract: InputContract, *, module: nn.Module | None = None,
                 source: str = "", device: str | torch.device = "cpu", provenance: dict | None = None,
                 training: dict | None = None, fingerprint: str | None = None):
        self._run = runner
        self.config = config
        self.contract = contract
        self.module = module
        self.source = source
        self.device = torch.device(device)
        self.provenance = dict(provenance or {})
        self.training = dict(training or {})
        self._fingerprint = fingerprint

    # -- description

    @property
    def backend(self) -> str:
        return self._run.name

    @property
    def multiple(self) -> int:
        return self.contract.multiple

    @property
    def threshold(self) -> float:
        return self.contract.threshold

    @property
    def plane(self) -> int:
        return self.contract.plane

    @property
    def model(self) -> nn.Module | None:
        """The PyTorch network (None for the ONNX backend); same as ``module``."""
        return self.module

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = state_fingerprint(self.module) if self.module is not None else ""
        return self._fingerprint

    @property
    def model_config(self) -> str:
        return to_yaml(self.config)

    def as_record(self) -> dict:
        """What an evaluation records about the network."""
        return {"source": self.source, "fingerprint": self.fingerprint, "plane": self.plane,
                "threshold": self.threshold, "provenance": self.provenance, "model_config": self.model_config,
                "training": self.training}

    def __repr__(self) -> str:
        return (f"Predictor(model={self.config.name!r}, backend={self.backend!r}, device={str(self.device)!r}, "
                f"plane={self.plane}, threshold={self.threshold:g}, source={self.source!r})")

    def with_contract(self, **changes) -> Predictor:
        """The same network with some contract fields changed (``plane``, ``threshold``, ``scale``)."""
        if changes.get("multiple") not in (None, self.contract.multiple):
            raise LarsegError("the padding multiple is fixed by the network")
        new = Predictor(self._run, self.config, self.contract.with_(**changes), module=self.module,
                        source=self.source, device=self.device, provenance=self.provenance, training=self.training,
                        fingerprint=self._fingerprint)
        return new

    # -- making one

    @classmethod
    def from_module(cls, module: nn.Module, contract: InputContract | None = None, *, amp: bool | None = None,
                    channels_last: bool | None = None, source: str | None = None, **contract_fields) -> Predictor:
        """A Predictor around an in-memory network (``module.config`` is its :class:`ModelConfig`)."""
        cfg = module.config
        base = contract or InputContract(multiple=cfg.multiple)
        contract = base.with_(**contract_fields)
        if contract.multiple != cfg.multiple:
            contract = contract.with_(multiple=cfg.multiple)
        return cls(TorchRunner(module, amp, channels_last), cfg, contract, module=module,
                   source=source if source is not None else f"<in-memory {type(module).__name__}>",
                   device=model_device(module))

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device | None = "cpu", backend: str | None = None,
             threshold: float | None = None, plane: int | None = None) -> Predictor:
        """From a checkpoint, a run directory (its ``best.pt``) or an exported ``.onnx`` file.

        ``threshold`` and ``plane`` default to the network's own (its checkpoint's input
        contract). ``backend`` defaults to ``onnx`` for ``.onnx`` files and ``torch``
        otherwise; ``onnx`` with a checkpoint exports it in memory first.
        """
        path = Path(path)
        if not path.exists():
            raise DataFileError(path, "no such model file or run directory")
        dev = resolve_device(device)
        is_onnx = path.suffix.lower() == ".onnx"
        backend = backend or ("onnx" if is_onnx else "torch")
        if backend not in BACKENDS:
            raise LarsegError(f"--backend {backend}: expected one of {', '.join(BACKENDS)}")
        if is_onnx:
            if backend != "onnx":
                raise LarsegError(f"{path}: an ONNX model runs with --backend onnx only")
            data, config = read_onnx(path)
            contract = InputContract(multiple=config.multiple).with_(threshold=threshold, plane=plane)
            return cls(OnnxRunner(data, dev), config, contract, source=str(path), device=dev,
                       fingerprint=hashlib.sha256(data).hexdigest())
        ckpt = read_checkpoint(path)
        module = network_from_checkpoint(ckpt, path).to(dev).eval()
        contract = checkpoint_contract(ckpt, module.config).with_(threshold=threshold, plane=plane)
        record = {"source": str(path), "device": dev, "provenance": ckpt.get("provenance", {}),
                  "training": _training_record(ckpt)}
        if backend == "torch":
            return cls(TorchRunner(module), module.config, contract, module=module, **record)
        buf = io.BytesIO()
        export_onnx(module.cpu(), buf)
        return cls(OnnxRunner(buf.getvalue(), dev), module.config, contract, **record)

    # -- torch batches (training validation, evaluation)

    def logits(self, x) -> torch.Tensor:
        """Logits ``(N, C, H, W)`` (float32, on the network's device) of a batch; torch backend only."""
        if not isinstance(self._run, TorchRunner):
            raise LarsegError("logits need the torch backend (an ONNX export gives softmax scores)")
        t = self.contract.apply(_as_batch(x).clone())
        t, (h, w) = self.contract.pad(t)
        return self._run.logits(t)[..., :h, :w]

    def probabilities(self, x) -> torch.Tensor:
        """Softmax scores ``(N, C, H, W)`` of a batch (numpy or torch, see :meth:`logits`)."""
        if isinstance(self._run, TorchRunner):
            return torch.softmax(self.logits(x), dim=1)
        t = self.contract.apply(_as_batch(x).clone())
        t, (h, w) = self.contract.pad(t)
        return torch.from_numpy(self._run(t.cpu().numpy()))[..., :h, :w]

    # -- numpy images (whole events, files)

    def _scores_same_shape(self, images: np.ndarray, mode: str, batch: int, tile: int, overlap: int,
                           skip_empty: bool = True) -> np.ndarray:
        """(N, C, H, W) for prepared (N, H, W) images of one shape."""
        n, h, w = images.shape
        padded, _ = self.contract.pad(images)
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
            return self._scores_same_shape(self.contract.prepare(arr)[None], mode, max(1, int(batch)), tile,
                                           overlap, skip_empty)[0]
        if arr.ndim == 3:
            stack = np.stack([self.contract.prepare(a, f"image {k}") for k, a in enumerate(arr)])
            return self._scores_same_shape(stack, mode, max(1, int(batch)), tile, overlap, skip_empty)
        raise LarsegError(f"image: shape {arr.shape}; expected (H, W) or (N, H, W)")

    def predict_batch(self, images: Sequence, mode: str = "full", *, batch: int = 1, tile: int = DEFAULT_TILE,
                      overlap: int = DEFAULT_OVERLAP) -> list[np.ndarray]:
        """Scores ``(3, H_k, W_k)`` of each of a list of ``(H_k, W_k)`` images (e.g. the planes of an event).

        Images of the same shape are run together, ``batch`` per forward pass.
        """
        if mode not in MODES:
            raise LarsegError(f"--mode {mode}: expected one of {', '.join(MODES)}")
        prepared = []
        for k, im in enumerate(images):
            x = self.contract.prepare(im, f"image {k}")
            if x.ndim != 2:
                raise LarsegError(f"image {k}: shape {x.shape}; expected (H, W)")
            prepared.append(x)
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
        return self.predict(image, mode, **kw).argmax(axis=-3).astype(np.uint8)


def checkpoint_contract(ckpt: dict, config: ModelConfig) -> InputContract:
    """The input contract a checkpoint records (older checkpoints: from their training config)."""
    if isinstance(ckpt.get("input_contract"), dict):
        return InputContract.from_dict(ckpt["input_contract"], multiple=config.multiple)
    training = _training_config(ckpt)
    return InputContract.from_dict({k: training[k] for k in ("plane", "threshold") if training.get(k) is not None},
                                   multiple=config.multiple)


def _training_config(ckpt: dict) -> dict:
    try:
        data = yaml.safe_load(ckpt.get("training_config") or "") or {}
    except yaml.YAMLError:
        data = {}
    return data if isinstance(data, dict) else {}


def _training_record(ckpt: dict) -> dict:
    training = _training_config(ckpt)
    return {**{k: ckpt.get(k) for k in ("kind", "epoch", "step") if k in ckpt},
            "name": training.get("name", ""), "plane": training.get("plane"), "threshold": training.get("threshold")}


def load_model(path: str | Path, device: str | torch.device | None = "cpu", backend: str | None = None,
               threshold: float | None = None, plane: int | None = None) -> Predictor:
    """A :class:`Predictor` from a checkpoint, run directory or ``.onnx`` file (see :meth:`Predictor.load`)."""
    return Predictor.load(path, device=device, backend=backend, threshold=threshold, plane=plane)


def as_predictor(model, plane: int | None = None, threshold: float | None = None,
                 device: str | torch.device | None = None) -> Predictor:
    """A Predictor from a Predictor (contract fields changed), a checkpoint path, or an in-memory network."""
    if isinstance(model, Predictor):
        return model.with_contract(plane=plane, threshold=threshold)
    if isinstance(model, (str, Path)):
        return Predictor.load(model, device=device, threshold=threshold, plane=plane)
    if isinstance(model, nn.Module):
        return Predictor.from_module(model, plane=plane, threshold=threshold)
    raise LarsegError(f"not a network: {type(model).__name__}")


def onnx_parity(module: nn.Module, model_bytes: bytes, sizes=((256, 384), (160, 224)), batch: int = 1,
                seed: int = 0) -> dict:
    """Max abs difference of onnxruntime and PyTorch softmax scores on random sparse images of ``sizes``.

    Both run as Predictors with the same contract (threshold 0, so that the random pixels
    reach both unchanged). Returns ``{"HxW": diff, ..., "max": diff}``.
    """
    rng = np.random.default_rng(seed)
    contract = InputContract(threshold=0.0, multiple=module.config.multiple)
    via_torch = Predictor.from_module(module, contract)
    via_onnx = Predictor(OnnxRunner(model_bytes), module.config, contract, device="cpu")
    out = {}
    for h, w in sizes:
        x = rng.exponential(40.0, size=(batch, h, w)).astype(np.float32)
        x[rng.random(x.shape) < 0.9] = 0.0  # sparse, like LArTPC images
        out[f"{h}x{w}"] = float(np.abs(via_onnx.predict(x, batch=batch) - via_torch.predict(x, batch=batch)).max())
    out["max"] = max(out.values())
    return out


__all__ = ["BACKENDS", "DEFAULT_OVERLAP", "DEFAULT_TILE", "MODES", "Predictor", "TorchRunner", "as_predictor",
           "checkpoint_contract", "load_model", "onnx_parity", "state_fingerprint"]
