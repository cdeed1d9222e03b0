"""Pixel selections: which pixels of an image a rectangle, a polygon or a set of instances keeps,
and the image with every other pixel zeroed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from larseg.errors import LarsegError


def rect_mask(shape: tuple[int, int], r0: int, c0: int, r1: int, c1: int) -> np.ndarray:
    """Rows ``[r0, r1)`` x columns ``[c0, c1)`` of an image of ``shape`` (clipped to it)."""
    if r1 <= r0 or c1 <= c0:
        raise LarsegError(f"rectangle {r0},{c0},{r1},{c1}: need r1 > r0 and c1 > c0")
    m = np.zeros(shape, dtype=bool)
    m[max(r0, 0):max(min(r1, shape[0]), 0), max(c0, 0):max(min(c1, shape[1]), 0)] = True
    return m


def points_in_polygon(points: np.ndarray, vertices: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Whether each point ``(n, 2)`` lies inside the polygon ``(k, 2)`` or on its boundary (even-odd rule)."""
    p = np.asarray(points, dtype=float)
    v = np.asarray(vertices, dtype=float)
    x, y = p[:, 0][:, None], p[:, 1][:, None]
    a = v[None, :, :]
    b = np.roll(v, -1, axis=0)[None, :, :]
    ax_, ay = a[..., 0], a[..., 1]
    bx, by = b[..., 0], b[..., 1]
    # crossing number: edges straddling the horizontal line through the point, crossing to its right
    straddle = (ay > y) != (by > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = ax_ + (y - ay) * (bx - ax_) / (by - ay)
    inside = (straddle & (x < x_cross)).sum(axis=1) % 2 == 1
    # on an edge: collinear and between the end points
    ex, ey = bx - ax_, by - ay
    cross = ex * (y - ay) - ey * (x - ax_)
    dot = (x - ax_) * ex + (y - ay) * ey
    length2 = ex * ex + ey * ey
    on_edge = (np.abs(cross) <= tol * np.maximum(np.sqrt(length2), 1.0)) & (dot >= -tol) & (dot <= length2 + tol)
    return inside | on_edge.any(axis=1)


def polygon_mask(shape: tuple[int, int], vertices) -> np.ndarray:
    """Pixels of an image of ``shape`` whose centre ``(row, col)`` is inside the polygon or on its boundary."""
    v = np.asarray(vertices, dtype=float)
    if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3:
        raise LarsegError("a polygon needs at least 3 (row, col) vertices")
    r_lo, c_lo = np.floor(v.min(axis=0)).astype(int)
    r_hi, c_hi = np.ceil(v.max(axis=0)).astype(int)
    r_lo, c_lo = max(r_lo, 0), max(c_lo, 0)
    r_hi, c_hi = min(r_hi, shape[0] - 1), min(c_hi, shape[1] - 1)
    m = np.zeros(shape, dtype=bool)
    if r_hi < r_lo or c_hi < c_lo:
        return m
    rr, cc = np.mgrid[r_lo:r_hi + 1, c_lo:c_hi + 1]
    pts = np.stack([rr.ravel(), cc.ravel()], axis=1)
    m[rr.ravel(), cc.ravel()] = points_in_polygon(pts, v)
    return m


def instance_mask(instance: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """Pixels belonging to any of the instance ids."""
    return np.isin(np.asarray(instance), np.asarray(list(ids), dtype=np.int64))


def selection_mask(shape, rects=(), polygons=(), instances: Sequence[int] | None = None,
                   instance_image: np.ndarray | None = None) -> np.ndarray:
    """Union of rectangles, polygons and instance ids."""
    m = np.zeros(shape, dtype=bool)
    for r in rects:
        m |= rect_mask(shape, *r)
    for p in polygons:
        m |= polygon_mask(shape, p)
    if instances:
        if instance_image is None:
            raise LarsegError("instance selection needs the file's instance product")
        m |= instance_mask(instance_image, instances)
    return m


def masked(image: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``image`` with every pixel outside ``keep`` set to 0."""
    return np.where(keep, image, 0).astype(np.float32)
