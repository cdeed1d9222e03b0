"""The paper's Fig. 5 for a run: loss and ICPF against epoch, with running averages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from larseg.atomic import save_figure
from larseg.errors import DataFileError
from larseg.train.logs import TRAIN_CSV, VAL_CSV, read_csv


def running_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred running mean over ``window`` neighbouring points (shorter at the ends)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return values
    window = max(1, min(window, n))
    finite = np.isfinite(values)
    v = np.where(finite, values, 0.0)
    c = np.concatenate([[0.0], np.cumsum(v)])
    k = np.concatenate([[0], np.cumsum(finite)])
    half = window // 2
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) - half + window, 0, n)
    counts = k[hi] - k[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (c[hi] - c[lo]) / np.maximum(counts, 1), np.nan)


def _column(rows: list[dict], key: str) -> np.ndarray:
    out = []
    for r in rows:
        try:
            out.append(float(r.get(key, "nan") or "nan"))
        except ValueError:
            out.append(math.nan)
    return np.array(out)


def plot_training(run_dir: str | Path, output: str | Path | None = None, window: int = 200) -> Path:
    """Draw ``RUN/training.png``: (a) loss vs epoch, (b) ICPF (or classification error) vs epoch.

    Thin lines: every weight update (training batches); red: their running average over
    ``window`` neighbouring steps (the paper used 200); markers: the validation sample.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    train_path = run_dir / TRAIN_CSV
    if not train_path.is_file():
        raise DataFileError(run_dir, f"no {TRAIN_CSV}: not a larseg training run directory")
    rows = read_csv(train_path)
    if not rows:
        raise DataFileError(train_path, "no training steps logged yet")
    vals = read_csv(run_dir / VAL_CSV) if (run_dir / VAL_CSV).is_file() else []
    metric = "icpf" if "icpf" in rows[0] else "error"
    val_metric = "icpf_mean" if metric == "icpf" else "error"
    label = "ICPF" if metric == "icpf" else "classification error"
    ep = _column(rows, "epoch")
    fig, axes = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    for ax, key, vkey, name in ((axes[0], "loss", "loss", "loss"), (axes[1], metric, val_metric, label)):
        y = _column(rows, key)
        ax.plot(ep, y, color="0.6", lw=0.6, label="training batches")
        ax.plot(ep, running_average(y, window), color="red", lw=1.5, label=f"running average ({window} steps)")
        if vals:
            ax.plot(_column(vals, "epoch"), _column(vals, vkey), "o-", color="tab:blue", ms=4, label="validation")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if key == "loss" and np.nanmax(y) > 20 * np.nanmedian(y):
            ax.set_yscale("log")
    axes[0].set_title(f"(a) loss — {run_dir.name}")
    axes[1].set_title(f"(b) {label}")
    axes[1].set_xlabel("epoch")
    fig.tight_layout()
    output = Path(output) if output else run_dir / "training.png"
    try:
        return save_figure(fig, output, 120)
    finally:
        plt.close(fig)
