"""Small I/O helpers of the evaluation: atomic text/JSON writes, JSON lines, model loading with its provenance."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from larseg.atomic import atomic_open
from larseg.errors import DataFileError


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename: readers never see half a file."""
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def clean(value: Any) -> Any:
    """JSON-safe copy: numpy scalars/arrays to Python, NaN and infinities to ``None``."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | Path, data: Any) -> Path:
    return write_text_atomic(path, json.dumps(clean(data), indent=1) + "\n")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"not valid JSON ({exc})") from None


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> Path:
    return write_text_atomic(path, "".join(json.dumps(clean(r)) + "\n" for r in rows))


def read_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    rows = []
    for i, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise DataFileError(path, f"line {i + 1} is not valid JSON") from None
    return rows


def nan_if_none(x) -> float:
    return float("nan") if x is None else float(x)


def file_identity(path: str | Path) -> dict:
    """What identifies an input file for resuming: resolved path, size and modification time."""
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def state_fingerprint(model) -> str:
    """SHA-1 of a network's weights (and buffers): identical weights give the same string."""
    h = hashlib.sha1()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@dataclass
class ModelInfo:
    """A loaded network with what the evaluation records about it."""

    model: Any
    source: str
    fingerprint: str
    plane: int = 2
    threshold: float = 10.0
    provenance: dict = field(default_factory=dict)
    model_config: str = ""
    training: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"source": self.source, "fingerprint": self.fingerprint, "plane": self.plane,
                "threshold": self.threshold, "provenance": self.provenance, "model_config": self.model_config,
                "training": self.training}


def resolve_device(device: str | None) -> str:
    """``auto``: CUDA when present, else the CPU; anything else as given (default ``cpu``)."""
    if device in (None, ""):
        return "cpu"
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_model_info(model, plane: int | None = None, threshold: float | None = None,
                    device: str | None = None) -> ModelInfo:
    """``model`` is a checkpoint / run directory path (loaded on ``device``: cpu, cuda or auto)
    or an in-memory U-ResNet (used where it is).

    The plane and pixel threshold default to the ones the network was trained with
    (the checkpoint's training config), else the collection plane and 10.
    """
    from larseg.config import to_yaml

    if isinstance(model, ModelInfo):
        info = model
    elif isinstance(model, (str, Path)):
        from larseg.model import load_model, read_checkpoint

        ckpt = read_checkpoint(model)
        net = load_model(model, resolve_device(device))
        training = {}
        if ckpt.get("training_config"):
            import yaml

            try:
                training = yaml.safe_load(ckpt["training_config"]) or {}
            except yaml.YAMLError:
                training = {}
        info = ModelInfo(
            net, str(Path(model)), state_fingerprint(net),
            plane=int(training.get("plane", 2)), threshold=float(training.get("threshold", 10.0)),
            provenance=dict(ckpt.get("provenance", {})), model_config=str(ckpt.get("model_config", "")),
            training={**{k: ckpt.get(k) for k in ("kind", "epoch", "step") if k in ckpt},
                      "name": training.get("name", ""), "plane": training.get("plane"),
                      "threshold": training.get("threshold")},
        )
    else:
        cfg = getattr(model, "config", None)
        info = ModelInfo(model, f"<in-memory {type(model).__name__}>", state_fingerprint(model),
                         model_config=to_yaml(cfg) if cfg is not None else "")
    if plane is not None:
        info.plane = int(plane)
    if threshold is not None:
        info.threshold = float(threshold)
    return info
