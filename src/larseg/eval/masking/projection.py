"""Where the primary muon stops, in pixel coordinates of a plane's window: its 3D point from the
event's truth, projected into the window."""

from __future__ import annotations

import numpy as np

from larseg.data.larcv3 import INVALID_U4
from larseg.detector import DetectorConfig, Geometry
from larseg.errors import LarsegError


def _window_offset(meta) -> tuple[float, float]:
    """(row, col) of the window's first pixel in the full plane, from the meta's origin."""
    pitch = meta.size[0] / meta.shape[0]
    row_cm = meta.size[1] / meta.shape[1]
    return meta.origin[1] / row_cm, meta.origin[0] / pitch


def decay_point(particles: np.ndarray) -> np.ndarray:
    """(x, y, z, t) where the primary muon stops: its decay electron's start, else the muon's end."""
    mu = particles[(np.abs(particles["pdg"]) == 13) & (particles["parent_trackid"] == INVALID_U4)]
    if not len(mu):
        raise LarsegError("no primary muon in the event's truth: not a michel event")
    mu = mu[0]
    michel = particles[(np.abs(particles["pdg"]) == 11) & (particles["parent_trackid"] == mu["trackid"])
                       & (particles["process"] == b"Decay")]
    src = michel[0]["vtx"] if len(michel) else mu["end_pt"]
    return np.array([src["x"], src["y"], src["z"], src["t"]], dtype=float)


def project_to_window(point: np.ndarray, meta, detector_config=None) -> tuple[float, float]:
    """Continuous (row, col) of a 3D point (x, y, z, t ns) in a plane window."""
    geo = Geometry(detector_config or DetectorConfig())
    row, col = geo.project(point[None])[meta.projection_id][0]
    r0, c0 = _window_offset(meta)
    return float(row - r0), float(col - c0)
