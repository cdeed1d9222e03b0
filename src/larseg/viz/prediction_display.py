"""Event displays with the network's output: input | truth | prediction | shower-score heat map.

As the paper's Figs. 18-20: track pixels yellow, shower pixels cyan on black; the
prediction is the argmax class of every non-zero pixel; the heat map is the softmax
shower score of the non-zero pixels (0: track-like, 1: shower-like).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from larseg.data.products import PLANE_NAMES, PlaneImage  # noqa: E402
from larseg.viz.event_display import LABEL_COLOURS, _block_max, _zoom_box, finish_figure, finish_row  # noqa: E402


@dataclass
class PredictionRow:
    """One row of the display: a plane, the network's scores on it (3, H, W), and a row label."""

    plane: PlaneImage
    probs: np.ndarray
    label: str = ""


def predicted_classes(image: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Argmax class of every non-zero pixel, 0 elsewhere."""
    return np.where(image > 0, np.asarray(probs).argmax(axis=0), 0).astype(np.uint8)


def draw_predictions(rows: Sequence[PredictionRow], title: str = "", zoom: bool = True, vmax: float = 150.0,
                     max_pixels: int = 600) -> plt.Figure:
    """Figure with one row per :class:`PredictionRow`: input | truth | prediction | shower score."""
    planes = [r.plane for r in rows]
    boxes = _zoom_box(planes) if zoom else [(slice(None), slice(None))] * len(planes)
    fig, axes = plt.subplots(len(rows), 4, figsize=(3.7 * 4, 3.5 * len(rows)), squeeze=False)
    for i, (row, sl) in enumerate(zip(rows, boxes)):
        p = row.plane
        pid = p.meta.projection_id
        name = PLANE_NAMES[pid] if pid < 3 else str(pid)
        r0, c0 = sl[0].start or 0, sl[1].start or 0
        f = max(1, -(-max(p.image[sl].shape) // max_pixels))
        img = _block_max(p.image[sl], f)
        extent = (c0 - 0.5, c0 + img.shape[1] * f - 0.5, r0 + img.shape[0] * f - 0.5, r0 - 0.5)
        prefix = f"{row.label}  " if row.label else ""
        ax = axes[i, 0]
        cmap = plt.get_cmap("jet").with_extremes(bad="white")
        im = ax.imshow(np.ma.masked_where(img <= 0, img), cmap=cmap, vmin=0, vmax=vmax, extent=extent,
                       interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="pixel value")
        ax.set_title(f"{prefix}plane {name}: input", fontsize=8)
        label = np.where(p.image > 0, p.label, 0)
        axes[i, 1].imshow(_block_max(label[sl], f), cmap=LABEL_COLOURS, vmin=0, vmax=2, extent=extent,
                          interpolation="nearest")
        axes[i, 1].set_title("truth (track yellow, shower cyan)", fontsize=8)
        pred = predicted_classes(p.image, row.probs)
        axes[i, 2].imshow(_block_max(pred[sl], f), cmap=LABEL_COLOURS, vmin=0, vmax=2, extent=extent,
                          interpolation="nearest")
        axes[i, 2].set_title("network (track yellow, shower cyan)", fontsize=8)
        shower = np.where(p.image > 0, np.asarray(row.probs)[2], np.nan)
        sub = shower[sl]
        if f > 1:  # the strongest shower score of each block (NaN-aware)
            sub = _block_max(np.nan_to_num(sub, nan=-1.0), f)
            sub = np.where(sub < 0, np.nan, sub)
        heat_cmap = plt.get_cmap("coolwarm").with_extremes(bad="black")
        im = axes[i, 3].imshow(np.ma.masked_invalid(sub), cmap=heat_cmap, vmin=0, vmax=1, extent=extent,
                               interpolation="nearest")
        fig.colorbar(im, ax=axes[i, 3], fraction=0.046, pad=0.02, label="shower score")
        axes[i, 3].set_title("shower score of non-zero pixels", fontsize=8)
        finish_row(axes[i], p.vertex, extent)
    return finish_figure(fig, title)
