"""Charge physics: ionisation, recombination, drift (lifetime and diffusion), signal spread.

A deposit of energy ``de`` [MeV] over a step ``dx`` [cm] frees ``de / W`` electrons,
of which the fraction ``R(dE/dx)`` escapes recombination. On the way to the
anode (drift time ``t_d = (x - x_anode) / v``) the cloud loses electrons to
impurities, ``exp(-t_d / tau)``, and diffuses: Gaussian widths
``sqrt(2 D_L t_d)`` along the drift and ``sqrt(2 D_T t_d)`` across it. Steps
longer than ``substep_cm`` are cut into equal sub-steps along their direction so
that a long step spreads its charge along its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from larseg.detector.config import ChargeConfig, DetectorConfig
from larseg.detector.geometry import Geometry
from larseg.physics.truth import Deposits


def recombination_factor(dedx, charge: ChargeConfig | None = None) -> np.ndarray:
    """Fraction of ionisation electrons surviving recombination at dE/dx [MeV/cm].

    Modified box (ArgoNeuT, JINST 8 P08005): ``R = ln(alpha + xi) / xi`` with
    ``xi = beta dE/dx / (rho E)``. Birks (ICARUS): ``R = A / (1 + k dE/dx / (rho E))``.
    dE/dx is floored at ``min_dedx_mev_per_cm`` (1 MeV/cm, as LArSoft does): the box
    fit is not meant for lower values and goes negative below about 0.4 MeV/cm,
    which single short steps with a small Landau deposit can reach.
    """
    charge = charge or ChargeConfig()
    dedx = np.maximum(np.asarray(dedx, dtype=np.float64), charge.min_dedx_mev_per_cm)
    scale = charge.density_g_per_cm3 * charge.field_kv_per_cm
    if charge.recombination == "birks":
        return charge.birks_a / (1.0 + charge.birks_k * dedx / scale)
    xi = charge.box_beta * dedx / scale
    return np.log(charge.box_alpha + xi) / xi


@dataclass
class DriftedCharge:
    """Electron clouds arriving at the anode, one per (sub-)step inside the active volume.

    ``deposit`` is the index of the deposit each cloud comes from.
    """

    deposit: np.ndarray  # int64
    x: np.ndarray  # cm, where the cloud was made
    y: np.ndarray  # cm
    z: np.ndarray  # cm
    t: np.ndarray  # ns
    electrons: np.ndarray  # arriving at the anode (after recombination and attenuation)
    sigma_long_cm: np.ndarray  # diffusion along the drift
    sigma_trans_cm: np.ndarray  # diffusion across the drift

    def __len__(self) -> int:
        return len(self.electrons)


def _step_axes(deposits: Deposits, which: np.ndarray) -> np.ndarray:
    """Unit direction (n, 3) of the steps ``which``, from neighbouring deposits of the same particle.

    Deposits are taken to be step midpoints stored in path order per particle. A
    neighbour counts if it belongs to the same particle and lies within the two
    steps' combined length; a step with no such neighbour gets a zero vector.
    """
    n = len(deposits)
    pos = np.stack([deposits.x, deposits.y, deposits.z], axis=1)
    ends = []
    for nb in (which - 1, which + 1):
        nbc = np.clip(nb, 0, n - 1)
        gap = np.linalg.norm(pos[nbc] - pos[which], axis=1)
        usable = (
            (nb >= 0) & (nb < n) & (deposits.track[nbc] == deposits.track[which])
            & (gap > 0) & (gap <= 1.01 * (deposits.dx[nbc] + deposits.dx[which]))
        )
        ends.append(np.where(usable[:, None], pos[nbc], pos[which]))
    dirs = ends[1] - ends[0]
    norm = np.linalg.norm(dirs, axis=1, keepdims=True)
    return np.divide(dirs, norm, out=np.zeros_like(dirs), where=norm > 0)


def drift_charge(deposits: Deposits, config: DetectorConfig | None = None,
                 geometry: Geometry | None = None) -> DriftedCharge:
    """Electrons reaching the anode from each deposit, with their diffusion widths.

    Deposits outside the active volume, or with no energy, collect nothing.
    Deposits with ``dx`` below 1 um (energy dumped in place) use
    ``point_dedx_mev_per_cm`` for recombination.
    """
    config = config or DetectorConfig()
    geometry = geometry or Geometry(config)
    c = config.charge
    inside = geometry.contains(deposits.x, deposits.y, deposits.z) & (deposits.de > 0)
    idx = np.flatnonzero(inside)
    de = deposits.de[idx]
    dx = deposits.dx[idx]
    point = dx < 1e-4
    dedx = np.where(point, c.point_dedx_mev_per_cm, de / np.where(point, 1.0, dx))
    electrons = de * 1e6 / c.w_ion_ev * recombination_factor(dedx, c)

    # Sub-steps: equal charge at the centres of n equal pieces of the step, along its axis.
    n_sub = np.where(point, 1, np.ceil(dx / c.substep_cm)).astype(np.int64)
    long_steps = np.flatnonzero(n_sub > 1)
    axis = np.zeros((len(idx), 3))
    if len(long_steps):
        axis[long_steps] = _step_axes(deposits, idx[long_steps])
    rep = np.repeat(np.arange(len(idx)), n_sub)
    first = np.cumsum(n_sub) - n_sub
    k = np.arange(len(rep)) - first[rep]
    along = ((k + 0.5) / n_sub[rep] - 0.5) * dx[rep]
    src = idx[rep]
    x = deposits.x[src] + along * axis[rep, 0]
    y = deposits.y[src] + along * axis[rep, 1]
    z = deposits.z[src] + along * axis[rep, 2]
    # A sub-step pushed past the anode or cathode keeps its charge on that plane (no negative drift).
    g = config.geometry
    x = np.clip(x, g.x_min_cm, g.x_max_cm)

    t_drift_us = geometry.drift_time_us(x)
    q = electrons[rep] / n_sub[rep] * np.exp(-t_drift_us / c.lifetime_us)
    t_drift_s = t_drift_us * 1e-6
    return DriftedCharge(
        deposit=src,
        x=x,
        y=y,
        z=z,
        t=deposits.t[src],
        electrons=q,
        sigma_long_cm=np.sqrt(2.0 * c.diffusion_long_cm2_per_s * t_drift_s),
        sigma_trans_cm=np.sqrt(2.0 * c.diffusion_trans_cm2_per_s * t_drift_s),
    )


def gaussian_pixel_weights(mu: np.ndarray, sigma: np.ndarray, n_sigma: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Share of a Gaussian (centre ``mu``, width ``sigma``, pixel units) falling in each pixel.

    Returns ``(first, weights, width)``: ``weights[i, j]`` is the fraction of cloud
    ``i`` in pixel ``first[i] + j``, for a common stencil of ``width`` pixels that
    reaches at least ``n_sigma`` widths on both sides. Weights are renormalised
    to sum to 1 (the tails beyond the stencil are folded back in), so charge is
    conserved exactly.
    """
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), 1e-6)
    # A centre lies within half a pixel of its pixel's middle, whose outer edge is half + 0.5 away.
    half = int(np.ceil(n_sigma * float(sigma.max(initial=0.0)))) if len(mu) else 0
    centre = np.floor(mu + 0.5)
    edges = np.arange(-half, half + 2, dtype=np.float64) - 0.5
    cdf = erf(((centre - mu)[:, None] + edges[None, :]) * (1.0 / (np.sqrt(2.0) * sigma))[:, None])
    w = cdf[:, 1:] - cdf[:, :-1]
    w /= (cdf[:, -1] - cdf[:, 0])[:, None]
    return centre.astype(np.int64) - half, w, 2 * half + 1
