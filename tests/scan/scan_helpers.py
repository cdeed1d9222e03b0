"""A small 3-plane .npz sample for the larseg scan tests, with known pixels and truth."""

from __future__ import annotations

import numpy as np

ROWS, COLS = 32, 48
#: plane 2 of every event: a track along row 5 (cols 5..30), a shower blob around (20, 30),
#: an isolated pixel at (28, 2), and a pixel below the threshold (value 5) at (10, 40).
TRACK_PIXELS = [(5, c) for c in range(5, 31)]
BLOB_PIXELS = [(r, c) for r in range(17, 24) for c in range(27, 34) if (r - 20) ** 2 + (c - 30) ** 2 <= 9]
ISOLATED = (28, 2)
FAINT = (10, 40)


def flat(rc) -> int:
    return rc[0] * COLS + rc[1]


def make_sample(path, n_events: int = 3) -> None:
    planes, labels = {}, {}
    for p, cols in ((0, 40), (1, 40), (2, COLS)):
        img = np.zeros((n_events, ROWS, cols), np.float32)
        lab = np.zeros((n_events, ROWS, cols), np.uint8)
        for e in range(n_events):
            for r, c in TRACK_PIXELS:
                if c < cols:
                    img[e, r, c], lab[e, r, c] = 50 + e, 1
            for r, c in BLOB_PIXELS:
                if c < cols:
                    img[e, r, c], lab[e, r, c] = 80, 2
            img[e][ISOLATED], lab[e][ISOLATED] = 20, 1
            img[e, FAINT[0], min(FAINT[1], cols - 1)] = 5
        planes[f"plane{p}"], labels[f"label{p}"] = img, lab
    np.savez(path, **planes, **labels, run=np.full(n_events, 9), subrun=np.zeros(n_events, int),
             event=np.arange(100, 100 + n_events))
