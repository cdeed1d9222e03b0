"""Small I/O helpers of the evaluation: atomic text/JSON writes, JSON lines, the network to evaluate."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from larseg.atomic import write_text_atomic  # noqa: F401  (re-exported: the eval outputs use it)
from larseg.errors import DataFileError
from larseg.model.predictor import Predictor, as_predictor


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


#: A loaded network with what the evaluation records about it: a :class:`larseg.model.Predictor`.
ModelInfo = Predictor


def load_model_info(model, plane: int | None = None, threshold: float | None = None,
                    device: str | None = None) -> Predictor:
    """A :class:`Predictor` for ``model``: a checkpoint / run directory path (loaded on ``device``: cpu,
    cuda or auto), an in-memory network, or a Predictor.

    The plane and pixel threshold default to the network's input contract (what it was
    trained with), else the collection plane and 10.
    """
    return as_predictor(model, plane=plane, threshold=threshold, device=device)
