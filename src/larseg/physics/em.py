"""Photons in liquid argon: attenuation, pair production, Compton scattering, absorption.

* Compton scattering: the Klein-Nishina cross section per (free) electron
  times the electron density; binding is neglected.
* Pair production: the Bethe-Heitler cross section with Butcher-Messel
  screening functions and the Coulomb correction (Tsai 1974), integrated over
  the energy sharing; only its energy dependence is used, normalised so that
  the high-energy mean free path is 9/7 X0 = 18.0 cm (PDG). Nuclear and
  electron-field (triplet) production are not told apart.
* Photoelectric absorption and Rayleigh scattering are not modelled above the
  ``photon_cut`` (default 100 keV); photons below it are absorbed where they
  stand. (In argon the photoelectric effect is about a quarter of the
  attenuation at 100 keV and falls as E^-3.)

A photon is one particle from creation to absorption: Compton scattering
changes its direction and energy but not its track id, as in Geant4.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from larseg.physics import constants as C
from larseg.physics import kinematics as K
from larseg.physics import samplers
from larseg.physics.config import PhysicsConfig
from larseg.physics.secondaries import Secondaries
from larseg.physics.stopping import local_dx
from larseg.physics.truth import Deposits

_ME = C.ELECTRON_MASS


def klein_nishina(k: np.ndarray) -> np.ndarray:
    """Total Compton cross section per electron [cm^2] for photon energies ``k`` [MeV]."""
    x = np.asarray(k, dtype=np.float64) / _ME
    l2 = np.log1p(2.0 * x)
    return 2.0 * np.pi * C.CLASSICAL_ELECTRON_RADIUS**2 * (
        (1.0 + x) / x**2 * (2.0 * (1.0 + x) / (1.0 + 2.0 * x) - l2 / x)
        + l2 / (2.0 * x) - (1.0 + 3.0 * x) / (1.0 + 2.0 * x) ** 2
    )


def _screening(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Butcher-Messel approximations of the screening functions Phi1, Phi2."""
    big = 21.12 - 4.184 * np.log(delta + 0.952)
    phi1 = np.where(delta <= 1.0, 20.867 - 3.242 * delta + 0.625 * delta**2, big)
    phi2 = np.where(delta <= 1.0, 20.209 - 1.930 * delta - 0.086 * delta**2, big)
    return phi1, phi2


def pair_suppression(k: np.ndarray) -> np.ndarray:
    """Pair cross section at photon energy ``k`` [MeV] relative to its high-energy limit."""
    z = C.LAR_Z
    a2 = (C.FINE_STRUCTURE * z) ** 2
    f_c = a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2**2 - 0.002 * a2**3)
    half_f = 0.5 * (8.0 / 3.0 * np.log(z) + 8.0 * f_c)
    k = np.atleast_1d(np.asarray(k, dtype=np.float64))
    out = np.zeros(len(k))
    u = (np.arange(400) + 0.5) / 400.0  # midpoint rule on the allowed range of eps
    for i, kk in enumerate(k):
        lo = _ME / kk
        if lo >= 0.5:
            continue
        eps = lo + (1.0 - 2.0 * lo) * u
        delta = 136.0 * _ME / (z ** (1.0 / 3.0) * kk * eps * (1.0 - eps))
        phi1, phi2 = _screening(delta)
        dens = (eps**2 + (1.0 - eps) ** 2) * np.maximum(phi1 - half_f, 0.0) \
            + 2.0 / 3.0 * eps * (1.0 - eps) * np.maximum(phi2 - half_f, 0.0)
        out[i] = dens.mean() * (1.0 - 2.0 * lo)
    phi1_0, phi2_0 = _screening(np.zeros(1))
    limit = 2.0 / 3.0 * (phi1_0[0] - half_f) + (phi2_0[0] - half_f) / 9.0
    return out / limit


@functools.lru_cache(maxsize=1)
def photon_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ln E grid, Compton attenuation [1/cm], pair attenuation [1/cm])."""
    energy = np.logspace(-3.0, 5.0, 801)
    compton = C.LAR_ELECTRON_DENSITY * klein_nishina(energy)
    pair = pair_suppression(energy) / C.PAIR_MEAN_FREE_PATH
    return np.log(energy), compton, pair


def attenuation(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Compton, pair) attenuation coefficients [1/cm] at photon energies ``k`` [MeV]."""
    ln_e, compton, pair = photon_tables()
    x = np.log(np.asarray(k, dtype=np.float64))
    return np.interp(x, ln_e, compton), np.interp(x, ln_e, pair)


@dataclass
class PhotonResult:
    deposits: Deposits
    secondaries: Secondaries
    end_pos: np.ndarray
    end_time: np.ndarray
    length: np.ndarray
    escape: np.ndarray  # energy carried out of the box [MeV]


def _exit_distance(pos, direction, box):
    lo, hi = np.array(box[0::2]), np.array(box[1::2])
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(direction > 0, (hi - pos) / direction, np.where(direction < 0, (lo - pos) / direction, np.inf))
    return np.maximum(d.min(axis=1), 0.0)


def transport_photons(track: np.ndarray, pos: np.ndarray, time: np.ndarray, direction: np.ndarray,
                      energy: np.ndarray, cfg: PhysicsConfig, rng: np.random.Generator) -> PhotonResult:
    """Follow photons (table rows ``track``) until they convert, are absorbed or leave the box."""
    n = len(energy)
    pos, time, direction, energy = pos.copy(), time.copy(), direction.copy(), energy.copy()
    length = np.zeros(n)
    escape = np.zeros(n)
    dep: list[tuple] = []
    secs: list[Secondaries] = []
    alive = np.arange(n)
    box = cfg.bounding_box
    while alive.size:
        absorbed = alive[energy[alive] < cfg.photon_cut]
        if absorbed.size:
            dep.append((pos[absorbed], time[absorbed], energy[absorbed], local_dx(energy[absorbed]), track[absorbed]))
            energy[absorbed] = 0.0
        alive = alive[energy[alive] >= cfg.photon_cut]
        if not alive.size:
            break
        mu_c, mu_p = attenuation(energy[alive])
        dist = rng.exponential(size=alive.size) / (mu_c + mu_p)
        if box is not None:
            to_wall = _exit_distance(pos[alive], direction[alive], box)
            out = dist > to_wall
            gone = alive[out]
            pos[gone] += to_wall[out, None] * direction[gone]
            time[gone] += to_wall[out] / C.SPEED_OF_LIGHT
            length[gone] += to_wall[out]
            escape[gone] = energy[gone]
            alive, dist, mu_c, mu_p = alive[~out], dist[~out], mu_c[~out], mu_p[~out]
        pos[alive] += dist[:, None] * direction[alive]
        time[alive] += dist / C.SPEED_OF_LIGHT
        length[alive] += dist
        is_pair = rng.random(alive.size) * (mu_c + mu_p) < mu_p
        conv = alive[is_pair]
        if conv.size:
            secs.append(_pair(conv, track, pos, time, direction, energy, rng))
            energy[conv] = 0.0
        comp = alive[~is_pair]
        if comp.size:
            k = energy[comp]
            eps, cos_t = samplers.compton(k, rng)
            phi = rng.uniform(0.0, 2.0 * np.pi, comp.size)
            new_dir = K.deflect(direction[comp], cos_t, phi)
            t_e = k * (1.0 - eps)
            e_dir = K.normalize(k[:, None] * direction[comp] - (eps * k)[:, None] * new_dir)
            made = t_e >= cfg.electron_cut
            c_made = comp[made]
            secs.append(Secondaries.make(track[c_made], C.ELECTRON, C.PROC["compt"], pos[c_made], time[c_made],
                                         e_dir[made], t_e[made]))
            c_loc = comp[~made]
            dep.append((pos[c_loc], time[c_loc], t_e[~made], local_dx(t_e[~made]), track[c_loc]))
            direction[comp] = new_dir
            energy[comp] = eps * k
        alive = comp
    deposits = Deposits.concatenate([
        Deposits(d[0][:, 0], d[0][:, 1], d[0][:, 2], d[1], d[2], d[3], d[4].astype(np.int32), local=True)
        for d in dep
    ])
    return PhotonResult(deposits, Secondaries.concatenate(secs), pos, time, length, escape)


def _pair(idx, track, pos, time, direction, energy, rng) -> Secondaries:
    """An e- e+ pair from photons ``idx``; kinetic energies share k - 2 m_e."""
    k = energy[idx]
    avail = np.maximum(k - 2.0 * _ME, 0.0)
    x = samplers.pair_fraction(idx.size, rng)
    t_minus, t_plus = x * avail, (1.0 - x) * avail
    phi = rng.uniform(0.0, 2.0 * np.pi, idx.size)
    d_minus = K.deflect(direction[idx], samplers.dipole_cos_theta(t_minus + _ME, rng), phi)
    d_plus = K.deflect(direction[idx], samplers.dipole_cos_theta(t_plus + _ME, rng), phi + np.pi)
    both = np.concatenate
    return Secondaries.make(
        both([track[idx], track[idx]]), both([np.full(idx.size, C.ELECTRON), np.full(idx.size, C.POSITRON)]),
        C.PROC["conv"], both([pos[idx], pos[idx]]), both([time[idx], time[idx]]), both([d_minus, d_plus]),
        both([t_minus, t_plus]),
    )
