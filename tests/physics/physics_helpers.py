"""Helpers shared by the physics tests: primaries and big-box configs."""

from __future__ import annotations

import numpy as np

from larseg.physics import PhysicsConfig
from larseg.physics.transport import mass_of

#: A box far larger than any shower or track in these tests [cm].
BIG_BOX = (-1e4, 1e4, -1e4, 1e4, -1e4, 1e4)


def primaries(pdg: int, kinetic: float, n: int = 1, direction=(0.0, 0.0, 1.0), pos=(0.0, 0.0, 0.0)) -> np.ndarray:
    """``n`` identical primaries (pdg, x, y, z, t, px, py, pz) of kinetic energy ``kinetic`` [MeV]."""
    m = mass_of([pdg])[0]
    p = np.sqrt(kinetic * (kinetic + 2.0 * m))
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    return np.array([(pdg, *pos, 0.0, *(p * d))] * n, dtype=np.float64)


def unbounded(**changes) -> PhysicsConfig:
    return PhysicsConfig(bounding_box=None, **changes)


def descendants_mask(particles: np.ndarray, root: int) -> np.ndarray:
    """Rows that descend from row ``root`` (not including it)."""
    parent = particles["parent_id"]
    inside = np.zeros(len(particles), dtype=bool)
    inside[root] = True
    for i in range(root + 1, len(particles)):  # parents always come before their children
        if parent[i] >= 0 and inside[parent[i]]:
            inside[i] = True
    inside[root] = False
    return inside
