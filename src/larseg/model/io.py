"""Checkpoint files: atomic writing, safe and checked reading, and the bare network of a checkpoint.

A checkpoint is a ``torch.save`` dict with at least ``format`` (``larseg-checkpoint``),
``task`` (``segment`` or ``classify``), ``model`` (state dict), ``model_config`` (YAML),
``provenance`` (larseg version, git commit), ``weights_sha256`` and, for training runs,
the optimiser, scheduler, counters, RNG states, training config and input contract
(see :mod:`larseg.train.loop`). Everything in it is tensors and plain data (numbers,
strings, lists, dicts): no Python objects.

Reading a checkpoint never runs code from it (docs/security.md):

1. the file's zip container is checked entry by entry against its CRC-32s, so a
   damaged file is refused before anything is unpickled;
2. it is unpickled with ``torch.load(weights_only=True)``, which refuses every
   Python global other than tensors and plain containers: a pickle payload is
   refused with a one-line error instead of running;
3. the weights are checked against ``weights_sha256``, recorded when it was written.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import zipfile
import zlib
from pathlib import Path

import torch
from torch import nn

from larseg._version import __version__
from larseg.atomic import atomic_open
from larseg.config import from_yaml
from larseg.errors import DataFileError, LarsegError, first_line
from larseg.model.config import ModelConfig
from larseg.model.registry import build_model

FORMAT = "larseg-checkpoint"


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def weights_sha256(state: dict) -> str:
    """sha256 over a state dict's names, dtypes, shapes and values (what ``weights_sha256`` records)."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name]
        if not isinstance(t, torch.Tensor):
            continue
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_atomic(obj: dict, path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename: a reader never sees half a file.

    A dict with a ``model`` state dict gets its ``weights_sha256`` recorded.
    """
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = {**obj, "weights_sha256": weights_sha256(obj["model"])}
    buf = io.BytesIO()  # serialised in memory first: a full disk is then an OSError of the write, one line
    torch.save(obj, buf)
    with atomic_open(path) as f:
        f.write(buf.getbuffer())
    return Path(path)


def _check_container(data: bytes, path: Path) -> None:
    """The zip container of ``torch.save``: readable, and every entry matches its CRC-32."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError,
            zlib.error) as exc:
        raise DataFileError(path, f"not a readable checkpoint ({first_line(exc, 120)})") from None
    if bad is not None:
        raise DataFileError(path, f"damaged checkpoint: entry '{bad}' does not match its CRC-32 "
                                  "(a corrupted or truncated copy; fetch it again)")


def read_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """A larseg checkpoint, checked: exists, readable, a larseg checkpoint, not from a newer larseg."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "no such checkpoint")
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            if (path / name).is_file():
                return read_checkpoint(path / name, map_location)
        raise DataFileError(path, "directory holds no best.pt or last.pt checkpoint")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, f"cannot read the checkpoint ({first_line(exc, 120)})") from None
    _check_container(data, path)
    try:
        ckpt = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = next((ln.strip() for ln in str(exc).splitlines() if "GLOBAL" in ln), first_line(exc, 120))
        raise DataFileError(path, "refused: the checkpoint holds Python objects, not only weights and plain data, "
                                  f"and larseg never runs code from a file ({refused[:160]}). If it is your own "
                                  "checkpoint from larseg < 0.1.1, convert it with scripts/migrate_checkpoint.py"
                            ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError, KeyError, TypeError,
            AttributeError, IndexError) as exc:
        raise DataFileError(path, f"not a readable checkpoint ({first_line(exc, 120)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise DataFileError(path, "not a larseg checkpoint")
    if not isinstance(ckpt.get("model"), dict):
        raise DataFileError(path, "checkpoint holds no weights ('model')")
    recorded = ckpt.get("weights_sha256")
    if recorded is not None and recorded != weights_sha256(ckpt["model"]):
        raise DataFileError(path, "damaged checkpoint: its weights do not match their recorded sha256")
    prov = ckpt.get("provenance")
    written_by = prov.get("larseg_version", "0") if isinstance(prov, dict) else "0"
    if _version_tuple(written_by) > _version_tuple(__version__):
        raise DataFileError(path, f"written by larseg {written_by}, newer than this larseg {__version__}; "
                                  "upgrade larseg to read it")
    return ckpt


def checkpoint_model_config(ckpt: dict, path: str | Path = "<checkpoint>") -> ModelConfig:
    try:
        return from_yaml(ModelConfig, ckpt["model_config"], f"{path} (model config)")
    except KeyError:
        raise DataFileError(path, "checkpoint has no model config") from None


def check_finite_weights(state: dict, path: str | Path = "<checkpoint>") -> None:
    """Refuse weights holding NaN or infinite values (they would give NaN scores for every pixel)."""
    bad = [name for name, t in state.items()
           if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise DataFileError(path, f"{len(bad)} weight tensor(s) hold NaN/inf values (first: {bad[0]}); "
                                  "the network cannot be used")


def network_from_checkpoint(ckpt: dict, path: str | Path = "<checkpoint>") -> nn.Module:
    """The per-pixel network of a checked checkpoint (:func:`read_checkpoint`), on the CPU, in eval mode."""
    if ckpt.get("task", "segment") != "segment":
        raise DataFileError(path, f"a {ckpt.get('task')} checkpoint (from 'larseg pretrain'), not a U-ResNet")
    cfg = checkpoint_model_config(ckpt, path)
    check_finite_weights(ckpt["model"], path)
    model = build_model(cfg)
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError) as exc:
        raise DataFileError(path, f"weights do not match model preset '{cfg.name}' "
                                  f"({first_line(exc, 120, 'no weights')})") from None
    return model.eval()


def load_network(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The bare ``nn.Module`` of a checkpoint (file, or run directory: its best.pt), eval mode, on ``device``.

    To *run* a trained network use :func:`larseg.load_model` (a Predictor, which applies
    the network's input contract); this is for training and export code.
    """
    return network_from_checkpoint(read_checkpoint(path), path).to(device)


def load_encoder_weights(model, path: str | Path) -> None:
    """Copy the encoder weights of a classifier checkpoint (``larseg pretrain``) into U-ResNet ``model``."""
    ckpt = read_checkpoint(path)
    cfg = checkpoint_model_config(ckpt, path)
    want = model.config.encoder_signature()
    have = cfg.encoder_signature()
    diff = [k for k in want if want[k] != have[k]]
    if diff:
        k = diff[0]
        raise LarsegError(
            f"{path}: encoder of model preset '{cfg.name}' does not match model preset '{model.config.name}' "
            f"({k}: {have[k]} vs {want[k]})")
    prefix = "encoder."
    state = {k[len(prefix):]: v for k, v in ckpt["model"].items() if k.startswith(prefix)}
    if not state:
        raise DataFileError(path, "checkpoint holds no encoder weights")
    try:
        model.encoder.load_state_dict(state)
    except RuntimeError as exc:
        raise DataFileError(path, f"encoder weights do not fit ({first_line(exc, 120, '')})") from None
