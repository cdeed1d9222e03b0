"""Parsing the command line's selections: ``--rect``, ``--polygon`` and ``--instances`` text."""

from __future__ import annotations

import numpy as np

from larseg.errors import LarsegError


def parse_rect(text: str) -> tuple[int, int, int, int]:
    """``r0,c0,r1,c1`` -> ``(r0, c0, r1, c1)``."""
    try:
        vals = [int(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4:
        raise LarsegError(f"--rect {text!r}: expected r0,c0,r1,c1 (integers)")
    return vals[0], vals[1], vals[2], vals[3]


def parse_polygon(text: str) -> np.ndarray:
    """``r,c;r,c;r,c;...`` -> the ``(k, 2)`` array of (row, col) vertices."""
    try:
        pts = [[float(x) for x in p.split(",")] for p in text.split(";") if p.strip()]
    except ValueError:
        pts = []
    if len(pts) < 3 or any(len(p) != 2 for p in pts):
        raise LarsegError(f"--polygon {text!r}: expected at least three points r,c;r,c;r,c")
    return np.array(pts)


def parse_ids(text: str) -> list[int]:
    """``1,2`` -> the instance ids ``[1, 2]``."""
    try:
        ids = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        ids = []
    if not ids:
        raise LarsegError(f"--instances {text!r}: expected comma-separated instance ids, e.g. 0,1")
    return ids
