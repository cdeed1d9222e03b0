"""Primary particles: their PDG masses and kinematics, and the interaction record a generator returns.

:class:`Interaction` (a vertex, its :class:`Primary` particles and the neutrino
truth) is what every generator (:mod:`larseg.physics.generators`,
:mod:`larseg.physics.neutrino`) produces and transport consumes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

# --- particle data


@functools.cache
def mass(pdg: int) -> float:
    """Rest mass [MeV] from the PDG tables of the ``particle`` package."""
    from particle import Particle  # its PDG tables load slowly: only when a mass is first needed

    m = Particle.from_pdgid(int(pdg)).mass
    if m is None:
        raise ValueError(f"no mass for PDG code {pdg}")
    return float(m)


def momentum_from_kinetic(pdg: int, kinetic: np.ndarray | float) -> np.ndarray:
    m = mass(pdg)
    t = np.asarray(kinetic, dtype=np.float64)
    return np.sqrt(t * (t + 2.0 * m))


def kinetic_from_momentum(pdg: int, p: np.ndarray | float) -> np.ndarray:
    m = mass(pdg)
    p = np.asarray(p, dtype=np.float64)
    return np.sqrt(p * p + m * m) - m


def isotropic(rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Unit vectors uniform on the sphere, shape (3,) or (n, 3)."""
    size = 1 if n is None else n
    cos_t = rng.uniform(-1.0, 1.0, size)
    phi = rng.uniform(0.0, 2.0 * np.pi, size)
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    d = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)
    return d[0] if n is None else d


# --- the interaction record


@dataclass
class Primary:
    pdg: int
    position: np.ndarray  # (4,) x, y, z [cm], t [ns]
    momentum: np.ndarray  # (3,) [MeV/c]

    @property
    def kinetic(self) -> float:
        p = float(np.linalg.norm(self.momentum))
        return float(kinetic_from_momentum(self.pdg, p))


@dataclass
class Interaction:
    vertex: np.ndarray  # (3,) [cm]
    primaries: list[Primary]
    # neutrino truth (pdg 0 when not a neutrino event)
    nu_pdg: int = 0
    nu_energy: float = 0.0
    mode: str = ""  # "QE", "MEC", "RES", "DIS", "MPV", "michel"

    def as_array(self) -> np.ndarray:
        """Primaries as rows (pdg, x, y, z, t, px, py, pz)."""
        return np.array([[p.pdg, *p.position, *p.momentum] for p in self.primaries], dtype=np.float64).reshape(-1, 8)


__all__ = ["Interaction", "Primary", "isotropic", "kinetic_from_momentum", "mass", "momentum_from_kinetic"]
