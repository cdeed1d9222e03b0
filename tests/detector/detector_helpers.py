"""Deposits made by hand for the detector tests: straight MIP lines and random-walk 'showers'."""

from __future__ import annotations

import dataclasses

import numpy as np

from larseg.detector import DetectorConfig
from larseg.physics.truth import PARTICLE_DTYPE, Deposits

MIP_DEDX = 2.12  # MeV/cm, PDG minimum ionisation in liquid argon
W_ION = 23.6e-6  # MeV per electron-ion pair


def line(start, direction, length, step=0.05, dedx=MIP_DEDX, track=0, t_ns=0.0) -> Deposits:
    """Straight track: deposits at the midpoints of equal steps, in path order."""
    d = np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    n = round(length / step)
    s = (np.arange(n) + 0.5) * step
    p = np.asarray(start, dtype=float)[None, :] + s[:, None] * d[None, :]
    return Deposits(p[:, 0], p[:, 1], p[:, 2], np.full(n, float(t_ns)), np.full(n, dedx * step),
                    np.full(n, step), np.full(n, track, dtype=np.int32))


def walk(rng, start, n_steps, track, step=0.05, mean_dedx=3.0) -> Deposits:
    """A jagged random walk with exponentially fluctuating deposits (a crude shower electron)."""
    d = rng.normal(size=(n_steps, 3)) * 0.6 + np.array([0.0, 0.0, 1.0])
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    p = np.asarray(start, dtype=float) + np.cumsum(d * step, axis=0)
    return Deposits(p[:, 0], p[:, 1], p[:, 2], np.zeros(n_steps), rng.exponential(mean_dedx * step, n_steps),
                    np.full(n_steps, step), np.full(n_steps, track, dtype=np.int32))


def particle_table(pdgs, ancestors=None, parents=None) -> np.ndarray:
    """Particle table with track_id = row; primaries are their own ancestors by default."""
    n = len(pdgs)
    p = np.zeros(n, dtype=PARTICLE_DTYPE)
    p["track_id"] = np.arange(n)
    p["pdg"] = pdgs
    p["ancestor_id"] = np.arange(n) if ancestors is None else ancestors
    p["parent_id"] = -1 if parents is None else parents
    return p


def quiet(config: DetectorConfig | None = None, **response) -> DetectorConfig:
    """A config with no noise, no dead wires and no zero-suppression (every pixel with charge kept)."""
    config = config or DetectorConfig()
    settings = {"noise_rms": (0.0, 0.0, 0.0), "threshold": 0.0, "min_true_value": 1e-12} | response
    resp = dataclasses.replace(config.response, **settings)
    dead = dataclasses.replace(config.dead_wires, fraction=(0.0, 0.0, 0.0))
    return dataclasses.replace(config, response=resp, dead_wires=dead)
