"""Event displays: wire-plane image, truth labels and instances, one row per plane.

Colours follow the paper: track pixels yellow, shower pixels cyan, on black.
Time runs down the vertical axis, wires along the horizontal one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from larseg.atomic import save_figure
from larseg.data.products import PLANE_NAMES, PlaneImage  # noqa: E402
from larseg.physics.generators import mass  # noqa: E402

LABEL_COLOURS = ListedColormap(["black", "#ffd700", "#00e5ff"])  # background, track (yellow), shower (cyan)


def _zoom_box(planes: Sequence[PlaneImage], margin: int = 20) -> list[tuple[slice, slice]]:
    """Per plane, a square around its non-zero pixels (the whole window if empty)."""
    boxes = []
    for p in planes:
        rows, cols = np.nonzero(p.image)
        if len(rows) == 0:
            boxes.append((slice(None), slice(None)))
            continue
        side = max(rows.max() - rows.min(), cols.max() - cols.min()) + 2 * margin + 1
        side = min(side, max(p.image.shape))
        spans = []
        for lo, hi, n in ((rows.min(), rows.max(), p.image.shape[0]), (cols.min(), cols.max(), p.image.shape[1])):
            start = int(np.clip((lo + hi + 1 - side) // 2, 0, max(n - side, 0)))
            spans.append(slice(start, min(start + side, n)))
        boxes.append((spans[0], spans[1]))
    return boxes


def _block_max(a: np.ndarray, f: int) -> np.ndarray:
    """Max over f x f blocks: thin tracks stay visible when a large image is drawn small."""
    if f <= 1:
        return a
    r, c = (-(-n // f) * f for n in a.shape)
    pad = np.full((r, c), a.min() if a.size else 0, dtype=a.dtype)
    pad[: a.shape[0], : a.shape[1]] = a
    return pad.reshape(r // f, f, c // f, f).max(axis=(1, 3))


def _instance_rgb(instance: np.ndarray) -> np.ndarray:
    rgb = np.zeros(instance.shape + (3,))
    ids = np.unique(instance[instance >= 0])
    palette = plt.get_cmap("tab10")
    for k, i in enumerate(ids):
        rgb[instance == i] = palette(k % 10)[:3]
    return rgb


def draw_planes(planes: Sequence[PlaneImage], title: str = "", zoom: bool = True,
                vmax: float = 150.0, extra_panels=None, max_pixels: int = 600, truth: bool = True) -> plt.Figure:
    """Figure with one row per plane: input | truth labels | instances (| extra panels).

    ``extra_panels`` is an optional list of ``(name, draw(ax, plane_index, sl))``
    callables used by prediction displays. Planes larger than ``max_pixels``
    are shown as the maximum over blocks of pixels, so thin tracks stay visible.
    ``truth=False`` (a file without truth labels) leaves out the truth and instance panels.
    """
    extra_panels = extra_panels or []
    first_extra = 3 if truth else 1
    n_cols = first_extra + len(extra_panels)
    boxes = _zoom_box(planes) if zoom else [(slice(None), slice(None))] * len(planes)
    fig, axes = plt.subplots(len(planes), n_cols, figsize=(max(3.6 * n_cols, 4.6), 3.4 * len(planes)), squeeze=False)
    for i, (plane, sl) in enumerate(zip(planes, boxes)):
        name = PLANE_NAMES[plane.meta.projection_id] if plane.meta.projection_id < 3 else str(plane.meta.projection_id)
        r0 = sl[0].start or 0
        c0 = sl[1].start or 0
        f = max(1, -(-max(plane.image[sl].shape) // max_pixels))
        img = _block_max(plane.image[sl], f)
        extent = (c0 - 0.5, c0 + img.shape[1] * f - 0.5, r0 + img.shape[0] * f - 0.5, r0 - 0.5)
        ax = axes[i, 0]
        shown = np.ma.masked_where(img <= 0, img)
        cmap = plt.get_cmap("jet").with_extremes(bad="white")
        im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=vmax, extent=extent, interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="pixel value")
        ax.set_title(f"plane {name}: image")
        if truth:
            ax = axes[i, 1]
            ax.imshow(_block_max(plane.label[sl], f), cmap=LABEL_COLOURS, vmin=0, vmax=2, extent=extent,
                      interpolation="nearest")
            ax.set_title(f"plane {name}: truth (track yellow, shower cyan)", fontsize=8)
            ax = axes[i, 2]
            ax.imshow(_instance_rgb(_block_max(plane.instance[sl], f)), extent=extent, interpolation="nearest")
            ax.set_title(f"plane {name}: instances")
        for k, (panel_name, draw) in enumerate(extra_panels):
            draw(axes[i, first_extra + k], i, sl, extent, f)
            axes[i, first_extra + k].set_title(f"plane {name}: {panel_name}", fontsize=8)
        finish_row(axes[i], plane.vertex, extent)
    return finish_figure(fig, title if truth or not title else f"{title}  (no truth labels in the file)")


def finish_row(axes, vertex, extent) -> None:
    """The common frame of one plane's panels: vertex marker, the zoomed extent, axis labels."""
    for ax in axes:
        if vertex is not None:
            ax.plot(vertex[1] - 0.5, vertex[0] - 0.5, marker="+", color="red", ms=8, mew=1.2)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel("wire")
        ax.set_ylabel("time row (6 ticks)")


def finish_figure(fig: plt.Figure, title: str) -> plt.Figure:
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def particle_summary(particles: np.ndarray, limit: int = 6) -> str:
    """'e- 312 MeV, p 120 MeV' for the primaries of a larcv particle table."""
    from particle import Particle

    prims = particles[particles["parent_trackid"] == 0xFFFFFFFF]
    parts = []
    for p in prims[:limit]:
        try:
            name = Particle.from_pdgid(int(p["pdg"])).name
        except Exception:  # unknown code: show the number
            name = str(int(p["pdg"]))
        parts.append(f"{name} {p['energy_init'] - _mass(int(p['pdg'])):.0f} MeV")
    if len(prims) > limit:
        parts.append(f"+{len(prims) - limit} more")
    return ", ".join(parts)


def _mass(pdg: int) -> float:
    try:
        return mass(pdg)
    except Exception:  # unknown particle: show total energy
        return 0.0


def save(fig: plt.Figure, path: str | Path, dpi: int = 110) -> Path:
    """Save atomically (temporary name, then rename); the suffix must be a figure format."""
    try:
        return save_figure(fig, path, dpi)
    finally:
        plt.close(fig)
