"""Whole images as overlapping tiles whose scores are blended without seams.

The image is first zero-padded (bottom, right) to a multiple of the network's
``2**depth``, as the whole-image path does, and tiles start on multiples of it:
a U-ResNet is translation-equivariant only for such shifts, so a tile sees the
pixels exactly as the whole image does, up to its own borders.

Near a tile border that lies inside the image the network sees zeros where the
image goes on, so a tile's scores are weighted by a window that is 0 over the
outer quarter of the overlap, rises as ``sin^2`` over its middle half and is 1
inside. Along a border shared by two tiles overlapping by ``a`` pixels the two
windows sum to 1 exactly; borders on the image edge are not down-weighted.
Scores are the weighted mean of the tiles' softmax (so they still sum to 1).

Tiles without a single non-zero pixel are skipped (``skip_empty``): LArTPC events
fill a small part of a whole-event image, so this is most of the speed-up over the
whole image. Every non-zero pixel lies only in tiles that are run, so its scores are
the same as without skipping; pixels covered by skipped tiles alone get (1, 0, 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

#: weight floor, so that every pixel has a positive total weight whatever the tiling
_FLOOR = 1e-6


def tile_starts(length: int, tile: int, overlap: int, multiple: int = 1) -> list[int]:
    """Start offsets of tiles of side ``tile`` covering ``[0, length)``, overlapping by at least ``overlap``.

    ``length`` and ``tile`` must be multiples of ``multiple``; starts are too.
    """
    if length <= tile:
        return [0]
    if length % multiple or tile % multiple:
        raise ValueError(f"length {length} and tile {tile} must be multiples of {multiple}")
    stride = (tile - overlap) // multiple  # in units of `multiple`
    if stride < 1:
        raise ValueError(f"overlap {overlap} leaves no stride for tile {tile} (multiple {multiple})")
    span = (length - tile) // multiple
    n = math.ceil(span / stride) + 1
    return [multiple * int(round(i * span / (n - 1))) for i in range(n)]


def edge_ramp(overlap: int) -> np.ndarray:
    """Weights at distance 0, 1, ... ``overlap - 1`` from an inner tile border: 0, sin^2 rise, 1."""
    margin = overlap // 4
    ramp = max(overlap - 2 * margin, 1)
    d = np.arange(overlap, dtype=np.float64)
    u = np.clip((d - margin + 0.5) / ramp, 0.0, 1.0)
    w = np.sin(0.5 * np.pi * u) ** 2
    w[d < margin] = 0.0
    return w


def window_1d(starts: list[int], tile: int, k: int) -> np.ndarray:
    """The 1D window of tile ``k`` of a row of tiles: ramps only on the sides shared with a neighbour."""
    w = np.ones(tile, dtype=np.float64)
    if k > 0:
        a = starts[k - 1] + tile - starts[k]
        if a > 0:
            w[:a] = np.minimum(w[:a], edge_ramp(a))
    if k < len(starts) - 1:
        a = starts[k] + tile - starts[k + 1]
        if a > 0:
            w[tile - a:] = np.minimum(w[tile - a:], edge_ramp(a)[::-1])
    return np.maximum(w, _FLOOR)


def predict_tiled(run: Callable[[np.ndarray], np.ndarray], image: np.ndarray, tile: int, overlap: int,
                  multiple: int, batch: int = 1, num_classes: int = 3, skip_empty: bool = True) -> np.ndarray:
    """Blended scores ``(C, H, W)`` of an ``(H, W)`` image whose sides are multiples of ``multiple``.

    ``run`` maps a batch ``(n, 1, t, t)`` float32 to softmax scores ``(n, C, t, t)``.
    """
    h, w = image.shape
    th, tw = min(tile, h), min(tile, w)
    rows = tile_starts(h, th, overlap, multiple)
    cols = tile_starts(w, tw, overlap, multiple)
    wr = [window_1d(rows, th, i) for i in range(len(rows))]
    wc = [window_1d(cols, tw, j) for j in range(len(cols))]
    acc = np.zeros((num_classes, h, w), dtype=np.float64)
    norm = np.zeros((h, w), dtype=np.float64)
    jobs = [(i, j) for i in range(len(rows)) for j in range(len(cols))
            if not skip_empty or np.any(image[rows[i]: rows[i] + th, cols[j]: cols[j] + tw])]
    for b in range(0, len(jobs), max(1, batch)):
        chunk = jobs[b: b + max(1, batch)]
        x = np.stack([image[rows[i]: rows[i] + th, cols[j]: cols[j] + tw] for i, j in chunk])[:, None]
        scores = run(np.ascontiguousarray(x, dtype=np.float32))
        for (i, j), s in zip(chunk, scores):
            weight = np.outer(wr[i], wc[j])
            r0, c0 = rows[i], cols[j]
            acc[:, r0: r0 + th, c0: c0 + tw] += s * weight
            norm[r0: r0 + th, c0: c0 + tw] += weight
    empty = norm == 0  # only under skipped tiles: no charge anywhere near
    acc[0][empty] = 1.0
    norm[empty] = 1.0
    return (acc / norm).astype(np.float32)
