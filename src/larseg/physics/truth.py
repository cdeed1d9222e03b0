"""The truth record a simulated event carries: particles and energy deposits.

Units everywhere in larseg.physics: cm, ns, MeV, MeV/c. Coordinates are the
MicroBooNE detector frame: x along the drift (anode wire planes at x = 0,
cathode at x = 256.35 cm), y vertical, z along the beam.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: One row per simulated particle. ``track_id`` equals the row index.
PARTICLE_DTYPE = np.dtype(
    [
        ("track_id", "<i4"),
        ("parent_id", "<i4"),  # -1 for a primary
        ("ancestor_id", "<i4"),  # the primary this particle descends from
        ("pdg", "<i4"),
        ("process", "S32"),  # creation process: b"primary", b"eBrem", b"conv", ...
        ("start", "<f8", (4,)),  # x, y, z [cm], t [ns]
        ("end", "<f8", (4,)),
        ("momentum", "<f8", (3,)),  # at creation [MeV/c]
        ("energy_init", "<f8"),  # total energy at creation [MeV]
        ("kinetic", "<f8"),  # kinetic energy at creation [MeV]
        ("energy_deposit", "<f8"),  # sum of this particle's own deposits [MeV]
        ("length", "<f8"),  # path length [cm]
        ("energy_escape", "<f8"),  # kinetic energy carried out of the bounding box [MeV] (0 if it ended inside)
    ]
)

SHOWER_PDGS = (11, -11, 22)


def is_shower_pdg(pdg) -> np.ndarray:
    """True for e-, e+ and photons: the paper's 'shower' class. Everything else is 'track'."""
    pdg = np.asarray(pdg)
    return (np.abs(pdg) == 11) | (pdg == 22)


@dataclass
class Deposits:
    """Energy deposits, one entry per transport step (struct of arrays).

    ``de`` is the energy lost to ionisation and excitation in the step (before
    recombination); ``dx`` the step length, which recombination needs for dE/dx;
    ``track`` the row of the particle table of the particle that made it.
    ``local`` marks the deposits that are not transport steps: the energy of a
    particle below its tracking cut, put down where it stands (its ``dx`` is the
    CSDA range of that energy, see docs/physics.md "Energy bookkeeping").
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    t: np.ndarray
    de: np.ndarray
    dx: np.ndarray
    track: np.ndarray
    local: np.ndarray = field(default=None)  # type: ignore[assignment]  # (n,) bool; None: all steps

    def __post_init__(self):
        if self.local is None:
            self.local = np.zeros(len(self.de), dtype=bool)
        else:
            self.local = np.broadcast_to(np.asarray(self.local, dtype=bool), (len(self.de),)).copy()

    @classmethod
    def empty(cls) -> Deposits:
        f = np.zeros(0, dtype=np.float64)
        return cls(f, f, f, f, f, f, np.zeros(0, dtype=np.int32))

    @classmethod
    def concatenate(cls, parts: list[Deposits]) -> Deposits:
        if not parts:
            return cls.empty()
        return cls(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in ("x", "y", "z", "t", "de", "dx")),
            np.concatenate([p.track for p in parts]).astype(np.int32),
            np.concatenate([p.local for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.de)

    def select(self, mask) -> Deposits:
        return Deposits(self.x[mask], self.y[mask], self.z[mask], self.t[mask], self.de[mask], self.dx[mask],
                        self.track[mask], self.local[mask])


@dataclass
class SimEvent:
    """What transport returns for one event: particles, deposits and the vertex."""

    particles: np.ndarray  # PARTICLE_DTYPE
    deposits: Deposits
    vertex: np.ndarray  # (3,) interaction vertex [cm]
