"""The hand-over record of particles produced by a process, before they enter the particle table."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class Secondaries:
    """New particles (struct of arrays). ``parent`` is the particle-table row of the parent."""

    parent: np.ndarray  # (n,) int
    pdg: np.ndarray  # (n,) int
    process: np.ndarray  # (n,) index into constants.PROCESS_NAMES
    pos: np.ndarray  # (n, 3) cm
    time: np.ndarray  # (n,) ns
    direction: np.ndarray  # (n, 3) unit vectors
    kinetic: np.ndarray  # (n,) MeV

    @classmethod
    def empty(cls) -> Secondaries:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3)),
                   np.zeros(0), np.zeros((0, 3)), np.zeros(0))

    @classmethod
    def make(cls, parent, pdg, process, pos, time, direction, kinetic) -> Secondaries:
        n = len(kinetic)
        return cls(
            np.broadcast_to(np.asarray(parent, dtype=np.int64), (n,)).copy(),
            np.broadcast_to(np.asarray(pdg, dtype=np.int64), (n,)).copy(),
            np.broadcast_to(np.asarray(process, dtype=np.int64), (n,)).copy(),
            np.asarray(pos, dtype=np.float64).reshape(n, 3),
            np.broadcast_to(np.asarray(time, dtype=np.float64), (n,)).copy(),
            np.asarray(direction, dtype=np.float64).reshape(n, 3),
            np.asarray(kinetic, dtype=np.float64),
        )

    @classmethod
    def concatenate(cls, parts: list[Secondaries]) -> Secondaries:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def select(self, mask) -> Secondaries:
        return Secondaries(*(getattr(self, f.name)[mask] for f in fields(self)))

    def __len__(self) -> int:
        return len(self.kinetic)
