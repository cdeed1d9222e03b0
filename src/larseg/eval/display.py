"""What ``larseg display --model`` draws: the network's prediction on chosen entries, or on the
entries it gets most wrong (the paper's Fig. 18)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from larseg.data.dataset import PlaneDataset
from larseg.data.sources import open_input
from larseg.errors import LarsegError
from larseg.eval.evaluate import iterate_batches, run_batch
from larseg.eval.io import ModelInfo
from larseg.eval.masking import run_network
from larseg.model.metrics import image_metrics


def prediction_rows(info: ModelInfo, file: str | Path, entry: int, planes: Sequence[int] | None = None,
                    with_icpf: bool = True):
    """:class:`~larseg.viz.prediction_display.PredictionRow` s of one entry, one per plane in ``planes``
    (default: the network's plane). Images get the network's threshold; labels are kept only on
    non-zero pixels. ``file``: any format of :func:`larseg.data.sources.open_input` (without truth
    labels the truth panel is empty and there is no ICPF). Also returns the entry
    (:class:`larseg.data.sources.Entry`)."""
    from larseg.viz.prediction_display import PredictionRow  # loads matplotlib: only when drawing

    ev = open_input(file).read(entry)
    wanted = list(planes) if planes else [info.plane]
    by_id = {p.meta.projection_id: p for p in ev.planes}
    rows = []
    for pid in wanted:
        if pid not in by_id:
            raise LarsegError(f"{file}: entry {entry} has no plane {pid} (has {sorted(by_id)})")
        p = by_id[pid]
        p.image = info.contract.prepare(p.image, f"{file}: entry {entry} plane {pid}")
        p.label = np.where(p.image > 0, p.label, 0).astype(np.uint8)
        probs = run_network(info, p.image)
        text = f"entry {entry}"
        if with_icpf:
            icpf = float(image_metrics(probs[None], p.label[None].astype(np.int64)).icpf[0])
            text += f", ICPF {icpf:.3f}" if np.isfinite(icpf) else ", no labelled pixels"
        rows.append(PredictionRow(p, probs, text))
    return rows, ev


def rank_by_icpf(info: ModelInfo, file: str | Path, max_events: int | None = None, batch: int = 4,
                 advance: Callable[[int], None] | None = None) -> list[tuple[int, float]]:
    """``(entry, ICPF)`` of every labelled entry (up to ``max_events``), highest ICPF first."""
    ds = PlaneDataset([file], plane=info.plane, threshold=info.threshold)
    n = len(ds) if max_events is None else min(len(ds), max_events)
    out = []
    for group in iterate_batches(ds, n, batch):
        images = torch.stack([g["image"] for g in group])
        labels = torch.stack([g["label"] for g in group])
        _, m, _, _ = run_batch(info, images, labels)
        out += [(int(g["index"]), float(v)) for g, v in zip(group, m.icpf) if np.isfinite(v)]
        if advance:
            advance(len(group))
    return sorted(out, key=lambda t: (-t[1], t[0]))
