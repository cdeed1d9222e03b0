"""The paper's cropping algorithm (CRA, PRD 99 092001 Sec. V A).

An axis-aligned 3D box of fixed size must contain every constraint point (the
interaction vertex; for Michel events the decay point; any list of points) and,
among such boxes, maximise the number of non-zero pixels of its projection on
the collection plane. The collection wires are vertical, so that projection is
a window of ``rows x cols`` pixels (rows = drift x, columns = z) and the box's
height in y does not change it: the search is over window offsets ``(r0, c0)``.

Search. For the non-zero pixel indicator ``I`` the summed-area table
``S[i, j] = sum(I[:i, :j])`` gives every window count in four look-ups,
``S[r+h, c+w] - S[r, c+w] - S[r+h, c] + S[r, c]`` (inclusion-exclusion), so all
feasible offsets are scored at once and the best is exact; tests compare it
with brute force.

Ties: the window whose centre is nearest to the mean of the constraint points'
(continuous) pixel coordinates wins; then the smaller row offset, then the
smaller column offset. An event with no charge is thus centred on its vertex.

Induction planes. Time is common to all planes, so U and V take the same rows.
Their columns: the box's (y, z) rectangle projects onto a wider range of U (V)
wires than a window holds (233 cm sin 60 + 153.6 cm cos 60 = 279 cm = 930
wires for the default box), so the window is chosen by the same rule inside
that range: it must lie inside the box's projection, contain the constraint
points and maximise the plane's non-zero pixels in the box's rows (ties:
nearest to the projection of the box centre, then smaller offset). If the
projection is narrower than a window (a short box), the window must cover it
instead. If no window satisfies both the projection and the constraint
condition, only the constraints are kept; if the constraint points span more
U (V) wires than a window holds, the window is centred on their mean.

Windows always lie inside the plane images (no padding); a constraint point
outside the image, or constraints that no window can hold, raise
:class:`CropError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from larseg.detector.config import DetectorConfig
from larseg.detector.geometry import Geometry, pixel_index
from larseg.detector.planes import PlaneTruth, Window


class CropError(ValueError):
    """No box of the configured size can hold the constraint points inside the image."""


@dataclass
class CropBox:
    """The chosen box: its 3D extent [cm] (x for charge made at t = 0) and one window per plane."""

    x_cm: tuple[float, float]
    y_cm: tuple[float, float]
    z_cm: tuple[float, float]
    windows: list[Window]
    #: Non-zero collection-plane pixels inside the collection window.
    n_nonzero: int


def window_counts(rows: np.ndarray, cols: np.ndarray, size: tuple[int, int], r_range: tuple[int, int],
                  c_range: tuple[int, int]) -> np.ndarray:
    """Number of pixels ``(rows, cols)`` inside every ``size`` window with offset in the (inclusive) ranges.

    Returns ``counts[a, b]`` for offset ``(r_range[0] + a, c_range[0] + b)``. The
    summed-area table covers only the bounding box of the pixels; window edges
    outside it are clipped onto it, where the table is constant, so the counts
    are exact.
    """
    h, w = size
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    tops = np.arange(r_range[0], r_range[1] + 1)
    lefts = np.arange(c_range[0], c_range[1] + 1)
    if len(rows) == 0:
        return np.zeros((len(tops), len(lefts)), dtype=np.int64)
    r_min, c_min = int(rows.min()), int(cols.min())
    nr, nc = int(rows.max()) - r_min + 1, int(cols.max()) - c_min + 1
    dense = np.bincount((rows - r_min) * nc + (cols - c_min), minlength=nr * nc).reshape(nr, nc)
    table = np.zeros((nr + 1, nc + 1), dtype=np.int64)
    table[1:, 1:] = dense.cumsum(axis=1).cumsum(axis=0)
    top, bottom = (np.clip(v - r_min, 0, nr) for v in (tops, tops + h))
    left, right = (np.clip(v - c_min, 0, nc) for v in (lefts, lefts + w))
    return (table[np.ix_(bottom, right)] - table[np.ix_(top, right)]
            - table[np.ix_(bottom, left)] + table[np.ix_(top, left)])


def _best(counts: np.ndarray, lo: tuple[int, ...], size: tuple[int, ...], target: tuple[float, ...]) -> tuple[int, ...]:
    """Offset (1D or 2D) with the most counts; ties: window centre nearest ``target``, then smallest offset."""
    flat = counts.ravel()
    cand = np.flatnonzero(flat == flat.max())
    idx = np.unravel_index(cand, counts.shape)
    offsets = [i + low for i, low in zip(idx, lo)]
    dist = sum((o + (s - 1) / 2.0 - t) ** 2 for o, s, t in zip(offsets, size, target))
    best = int(np.flatnonzero(dist == dist.min())[0])  # candidates are in row-major order
    return tuple(int(o[best]) for o in offsets)


def _offset_range(coords: np.ndarray, size: int, n: int, margin: int) -> tuple[int, int]:
    """Offsets of a ``size`` window in ``[0, n)`` that hold pixels ``coords`` ``margin`` pixels inside."""
    return max(0, int(coords.max()) + margin - size + 1), min(n - size, int(coords.min()) - margin)


def crop_box(planes: list[PlaneTruth], constraints, config: DetectorConfig | None = None) -> CropBox:
    """Choose the crop of an event by the CRA; returns the box and each plane's window.

    ``planes`` as from :func:`~larseg.detector.planes.simulate_planes` (U, V, Y);
    ``constraints``: 3D points ``(n, 3)`` [cm], or ``(n, 4)`` with a time [ns]
    (charge made later arrives later; the vertex is at t = 0).
    """
    config = config or DetectorConfig()
    geometry = Geometry(config)
    crop, g = config.crop, config.geometry
    h, w = crop.rows, crop.cols
    points = np.atleast_2d(np.asarray(constraints, dtype=np.float64))
    if points.shape[0] == 0 or points.shape[1] not in (3, 4):
        raise CropError("constraints must be one or more points (x, y, z[, t])")
    if not np.all(geometry.contains(points[:, 0], points[:, 1], points[:, 2])):
        raise CropError("a constraint point lies outside the active volume")
    by_index = {p.plane: p for p in planes}
    collection_index = len(geometry.planes) - 1
    if collection_index not in by_index:
        raise CropError("the cropping algorithm needs the collection plane")
    collection = by_index[collection_index]
    yp = geometry.planes[collection_index]
    if abs(yp.cos_y) > 1e-9:
        raise CropError("the cropping algorithm needs vertical collection wires")
    n_rows, n_wires = collection.shape
    if any(h > p.shape[0] or w > p.shape[1] for p in planes):
        raise CropError(f"a {h}x{w} crop does not fit in every plane image")

    proj = geometry.project(points)  # (plane, point, (row, wire))
    rows_px = pixel_index(proj[collection_index, :, 0])
    cols_px = pixel_index(proj[collection_index, :, 1])
    r_range = _offset_range(rows_px, h, n_rows, crop.margin)
    c_range = _offset_range(cols_px, w, n_wires, crop.margin)
    if r_range[0] > r_range[1] or c_range[0] > c_range[1]:
        raise CropError(f"no {h}x{w} collection window holds all constraint points inside the image")
    counts = window_counts(collection.row, collection.col, (h, w), r_range, c_range)
    target = (float(proj[collection_index, :, 0].mean()), float(proj[collection_index, :, 1].mean()))
    r0, c0 = _best(counts, (r_range[0], c_range[0]), (h, w), target)
    n_nonzero = int(counts[r0 - r_range[0], c0 - c_range[0]])

    # The 3D box: x from the rows (t = 0), z from the collection wires, y full height or centred on the points.
    x_cm = (float(geometry.x_of_row(r0 - 0.5)), float(geometry.x_of_row(r0 + h - 0.5)))
    z_cm = tuple(float((yp.wire0_cm + (c - 0.5) * yp.pitch_cm) / yp.cos_z) for c in (c0, c0 + w))
    height = g.y_max_cm - g.y_min_cm
    if crop.height_cm == 0 or crop.height_cm >= height:
        y_cm = (g.y_min_cm, g.y_max_cm)
    else:
        hy = crop.height_cm
        y_lo = max(float(points[:, 1].max()) - hy, g.y_min_cm)
        y_hi = min(float(points[:, 1].min()), g.y_max_cm - hy)
        if y_lo > y_hi:
            raise CropError(f"the constraint points span more than the box height of {hy} cm")
        y0 = float(np.clip(points[:, 1].mean() - hy / 2, y_lo, y_hi))
        y_cm = (y0, y0 + hy)

    windows: list[Window] = []
    for plane in planes:
        k = plane.plane
        if k == collection_index:
            windows.append((r0, c0, h, w))
            continue
        pl = geometry.planes[k]
        corners = pl.wire_coordinate(np.array([y_cm[0], y_cm[0], y_cm[1], y_cm[1]]),
                                     np.array([z_cm[0], z_cm[1], z_cm[0], z_cm[1]]))
        k_min, k_max = float(corners.min()), float(corners.max())
        # Windows [c - 0.5, c + w - 0.5) inside the projection; if none, windows covering it.
        inside = (int(np.ceil(k_min + 0.5)), int(np.floor(k_max - w + 0.5)))
        covering = (int(np.ceil(k_max - w + 0.5)), int(np.floor(k_min + 0.5)))
        allowed = inside if inside[0] <= inside[1] else covering
        n_plane = plane.shape[1]
        held = _offset_range(pixel_index(proj[k, :, 1]), w, n_plane, crop.margin)
        lo, hi = max(allowed[0], held[0]), min(allowed[1], held[1])
        if lo > hi:
            lo, hi = held
        if lo > hi:
            c = int(np.clip(round(float(proj[k, :, 1].mean()) - (w - 1) / 2), 0, n_plane - w))
        else:
            in_rows = (plane.row >= r0) & (plane.row < r0 + h)
            cum = np.r_[0, np.cumsum(np.bincount(plane.col[in_rows], minlength=n_plane))]
            lefts = np.arange(lo, hi + 1)
            (c,) = _best(cum[lefts + w] - cum[lefts], (lo,), (w,), (0.5 * (k_min + k_max),))
        windows.append((r0, c, h, w))
    return CropBox(x_cm=x_cm, y_cm=y_cm, z_cm=z_cm, windows=windows, n_nonzero=n_nonzero)
