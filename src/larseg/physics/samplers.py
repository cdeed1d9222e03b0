"""Vectorised samplers of secondary energies and angles.

Each sampler takes arrays (one entry per interaction) and a
``numpy.random.Generator``; rejection sampling redraws the rejected entries
until all are accepted (the draw order is fixed, so results are reproducible).
Energies in MeV.
"""

from __future__ import annotations

import numpy as np

from larseg.physics import constants as C

_ME = C.ELECTRON_MASS


def _rejection(n: int, propose, accept, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` values: ``propose(idx)`` candidates for entries ``idx``, kept with probability ``accept(idx, x)``."""
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        x = propose(todo)
        ok = rng.random(todo.size) < accept(todo, x)
        out[todo[ok]] = x[ok]
        todo = todo[~ok]
    return out


def _inverse_square(lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of a 1/x^2 density on [lo, hi]."""
    return 1.0 / (1.0 / lo - u * (1.0 / lo - 1.0 / hi))


def heavy_delta_energy(t: np.ndarray, mass: np.ndarray, spin_half: np.ndarray, cut: float, t_max: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """Kinetic energy of a delta ray above ``cut`` knocked out by a heavy particle (PDG eq. 34.6)."""
    e = t + mass
    beta2 = 1.0 - (mass / e) ** 2
    spin_term = np.where(spin_half, 0.5 / (e * e), 0.0)
    bound = 1.0 + spin_term * t_max**2

    def propose(idx):
        return _inverse_square(np.full(idx.size, cut), t_max[idx], rng.random(idx.size))

    def accept(idx, x):
        return (1.0 - beta2[idx] * x / t_max[idx] + spin_term[idx] * x * x) / bound[idx]

    return _rejection(len(t), propose, accept, rng)


def moller_energy(t: np.ndarray, cut: float, rng: np.random.Generator) -> np.ndarray:
    """Kinetic energy of the slower electron of a Moller collision, above ``cut`` (e+ use it too)."""
    gamma = 1.0 + t / _ME
    g2 = ((gamma - 1.0) / gamma) ** 2
    c = (2.0 * gamma - 1.0) / gamma**2
    a = cut / t

    def shape(idx, eps):  # eps^2 times the Moller bracket
        return g2[idx] * eps**2 + 1.0 - c[idx] * eps + (eps / (1.0 - eps)) ** 2 - c[idx] * eps**2 / (1.0 - eps)

    every = np.arange(len(t))
    bound = np.maximum(shape(every, a), shape(every, np.full(len(t), 0.5)))

    def propose(idx):
        return _inverse_square(a[idx], np.full(idx.size, 0.5), rng.random(idx.size))

    def accept(idx, eps):
        return shape(idx, eps) / bound[idx]

    return _rejection(len(t), propose, accept, rng) * t


def brems_energy(t: np.ndarray, k_cut: float, rng: np.random.Generator) -> np.ndarray:
    """Bremsstrahlung photon energy above ``k_cut`` from the complete-screening spectrum (1/k)(4/3 - 4/3 y + y^2)."""
    e = t + _ME
    yc, ym = k_cut / e, t / e

    def propose(idx):
        return yc[idx] * (ym[idx] / yc[idx]) ** rng.random(idx.size)

    def accept(idx, y):
        return 1.0 - y + 0.75 * y * y

    return _rejection(len(t), propose, accept, rng) * e


def delta_cos_theta(t_delta: np.ndarray, t: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Polar angle of a knock-on electron from two-body kinematics on a free electron at rest."""
    p = np.sqrt(t * (t + 2.0 * mass))
    p_delta = np.sqrt(t_delta * (t_delta + 2.0 * _ME))
    return np.clip(t_delta * (t + mass + _ME) / (p * p_delta), -1.0, 1.0)


def dipole_cos_theta(total_energy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Emission angle of a photon (bremsstrahlung) or pair lepton: dN/dtheta^2 ~ 1/(1 + (E theta/m)^2)^2."""
    u = rng.random(len(total_energy))
    theta = _ME / total_energy * np.sqrt(u / (1.0 - u))
    return np.cos(np.minimum(theta, np.pi))


def pair_fraction(n: int, rng: np.random.Generator) -> np.ndarray:
    """Share x of the pair's kinetic energy taken by the electron: dN/dx ~ 1 - 4/3 x (1 - x)."""

    def propose(idx):
        return rng.random(idx.size)

    def accept(idx, x):
        return 1.0 - 4.0 / 3.0 * x * (1.0 - x)

    return _rejection(n, propose, accept, rng)


def compton(k: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Klein-Nishina scattering of photons of energy ``k``: (k'/k, cos theta of the photon).

    Butcher-Messel sampling: eps from a mix of 1/eps and eps densities on
    [eps0, 1], eps0 = 1/(1 + 2k/m), accepted with 1 - eps sin^2/(1 + eps^2).
    """
    kappa = k / _ME
    eps0 = 1.0 / (1.0 + 2.0 * kappa)
    a1 = -np.log(eps0)
    a2 = 0.5 * (1.0 - eps0 * eps0)

    def propose(idx):
        first = rng.random(idx.size) * (a1[idx] + a2[idx]) < a1[idx]
        r = rng.random(idx.size)
        return np.where(first, np.exp(-a1[idx] * r), np.sqrt(eps0[idx] ** 2 + (1.0 - eps0[idx] ** 2) * r))

    def accept(idx, eps):
        one_minus_cos = (1.0 - eps) / (eps * kappa[idx])
        sin2 = one_minus_cos * (2.0 - one_minus_cos)
        return 1.0 - eps * sin2 / (1.0 + eps * eps)

    eps = _rejection(len(k), propose, accept, rng)
    cos_theta = 1.0 - (1.0 - eps) / (eps * kappa)
    return eps, np.clip(cos_theta, -1.0, 1.0)


def michel_fraction(n: int, rng: np.random.Generator) -> np.ndarray:
    """x = E_e / W of muon-decay electrons, dN/dx = 2 x^2 (3 - 2 x) on [0, 1] (no radiative corrections)."""

    def propose(idx):
        return rng.random(idx.size) ** (1.0 / 3.0)  # density 3 x^2

    def accept(idx, x):
        return 1.0 - 2.0 * x / 3.0  # (6x^2 - 4x^3) / (2 * 3x^2)

    return _rejection(n, propose, accept, rng)
