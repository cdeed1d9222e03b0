"""Fixtures of the detector tests."""

from __future__ import annotations

import numpy as np
import pytest
from detector_helpers import line, particle_table, walk

from larseg.physics.truth import Deposits


@pytest.fixture
def event():
    """A muon, a proton and an electron from one vertex, plus two shower daughters of the electron."""
    rng = np.random.default_rng(7)
    vertex = np.array([120.0, 10.0, 500.0])
    deposits = Deposits.concatenate([
        line(vertex, [0.3, 0.4, 1.0], 150.0, track=0),
        line(vertex, [-0.6, 0.2, 0.3], 8.0, dedx=8.0, track=1),
        walk(rng, vertex, 1500, track=2),
        walk(rng, vertex + [0.0, 3.0, 25.0], 600, track=3),
        walk(rng, vertex + [2.0, -3.0, 30.0], 600, track=4),
    ])
    particles = particle_table([13, 2212, 11, 11, 11], ancestors=[0, 1, 2, 2, 2], parents=[-1, -1, -1, 2, 2])
    return deposits, particles, vertex
