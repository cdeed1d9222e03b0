"""Run logs: ``train.csv`` (one row per weight update) and ``val.csv`` (one row per validation).

Both carry the global ``step``; resuming from a checkpoint drops the rows written after
it, so a resumed run's logs equal an uninterrupted run's. TensorBoard event files are
written too when the ``tensorboard`` package is installed.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from larseg.atomic import atomic_open, write_error

TRAIN_CSV = "train.csv"
VAL_CSV = "val.csv"


class RunLog:
    def __init__(self, run_dir: Path, enabled: bool = True):
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self._tb = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard not installed
                SummaryWriter = None
            if SummaryWriter is not None:
                self._tb = SummaryWriter(str(self.run_dir / "tensorboard"))

    def _append(self, name: str, row: dict) -> None:
        if not self.enabled:
            return
        path = self.run_dir / name
        new = not path.exists() or path.stat().st_size == 0
        fields = list(row)
        if not new:  # keep the columns of the existing file (a run resumed by another larseg version)
            with path.open(newline="") as f:
                fields = next(csv.reader(f), None) or fields
        try:
            with path.open("a", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore", restval="")
                if new:
                    writer.writeheader()
                writer.writerow({k: _fmt(v) for k, v in row.items()})
        except OSError as exc:  # a full disk or a read-only run directory: one line
            raise write_error(path, exc) from None

    def train_row(self, row: dict) -> None:
        self._append(TRAIN_CSV, row)
        if self._tb is not None:
            for k, v in row.items():
                if k not in ("step", "epoch") and isinstance(v, (int, float)) and math.isfinite(v):
                    self._tb.add_scalar(f"train/{k}", v, row["step"])

    def val_row(self, row: dict) -> None:
        self._append(VAL_CSV, row)
        if self._tb is not None:
            for k, v in row.items():
                if k not in ("step", "epoch") and isinstance(v, (int, float)) and math.isfinite(v):
                    self._tb.add_scalar(f"val/{k}", v, row["step"])
            self._tb.flush()

    def truncate(self, step: int) -> None:
        """Drop rows with ``step`` beyond the checkpoint being resumed."""
        if not self.enabled:
            return
        for name in (TRAIN_CSV, VAL_CSV):
            path = self.run_dir / name
            if not path.exists():
                continue
            rows = read_csv(path)
            if not rows:
                continue
            fields = list(rows[0])
            keep = [r for r in rows if int(float(r["step"])) <= step]
            with atomic_open(path, "w") as f:
                writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\r\n")
                writer.writeheader()
                writer.writerows(keep)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.7g}"
    return v


def read_csv(path: str | Path) -> list[dict]:
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))
