"""Nuclear interactions: inelastic scattering of p and pi+- in flight, and nuclear break-up.

These are deliberately simple models whose job is to give the images the
right *kinds* of topology (a kink, a few short proton stubs, an occasional
pi0 shower), not cross-section-accurate final states:

* **Inelastic pi+-** (``pi+Inelastic``/``pi-Inelastic``): 45% the pion
  survives with 40-95% of its kinetic energy (quasi-elastic knock-out), 10%
  charge exchange to a pi0 with the same energy share, 45% the pion is
  absorbed (its kinetic energy plus mass excite the nucleus).
* **Inelastic p** (``protonInelastic``): a leading proton keeps 30-90% of the
  kinetic energy; above 400 MeV a pion (pi+, pi0 or pi-) is made with
  probability rising to 50% at 1.2 GeV.
* The leading particle is deflected by |N(0, 0.5 rad)|; the rest of the
  energy excites the nucleus.
* **Break-up** of an excited nucleus of energy E*: nucleons are emitted
  while E* exceeds their separation energy (8 MeV), each with kinetic energy
  (E* - 8 MeV) * Beta(1, 2), isotropic; each is a proton with a
  process-dependent probability (neutrons are not recorded: they leave no
  charge here). What is left (< 8 MeV) goes to 0-2 de-excitation photons
  carrying 30-100% of it.

Momentum is not conserved (the nucleus takes the recoil); energy is, up to
binding and neutrons. Units: MeV, cm, ns.
"""

from __future__ import annotations

import numpy as np

from larseg.physics import constants as C
from larseg.physics import kinematics as K
from larseg.physics.secondaries import Secondaries

#: Probability that an emitted nucleon is a proton, by origin.
PROTON_SHARE_INELASTIC = C.ARGON_PROTON_FRACTION
PROTON_SHARE_PION_ABSORPTION = 0.35  # pi- absorbs mostly on (np) pairs -> nn
PROTON_SHARE_MUON_CAPTURE = 0.10  # mu- p -> n nu leaves a neutron-rich Cl* (proton emission is rare)


def breakup(excitation: float, proton_share: float, rng: np.random.Generator) -> tuple[list[int], list[float]]:
    """Particles (pdg, kinetic energy) from an excited argon nucleus; neutrons are left out."""
    pdgs: list[int] = []
    energies: list[float] = []
    left = float(excitation)
    sep = C.NUCLEON_SEPARATION_ENERGY
    while left > sep:
        ke = (left - sep) * rng.beta(1.0, 2.0)
        if rng.random() < proton_share:
            pdgs.append(C.PROTON)
            energies.append(ke)
        left -= sep + ke
    n_gamma = int(rng.integers(0, 3))
    if n_gamma and left > 0:
        total = left * rng.uniform(0.3, 1.0)
        shares = rng.dirichlet(np.ones(n_gamma)) if n_gamma > 1 else np.ones(1)
        pdgs += [C.PHOTON] * n_gamma
        energies += list(total * shares)
    return pdgs, energies


def _emit(parent: int, process: int, pos, time, pdgs: list[int], energies: list[float], directions) -> Secondaries:
    n = len(pdgs)
    return Secondaries.make(np.full(n, parent), np.array(pdgs, dtype=np.int64), process, np.tile(pos, (n, 1)),
                            np.full(n, time), np.asarray(directions).reshape(n, 3), np.array(energies))


def _leading_direction(direction: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    theta = min(abs(rng.normal(0.0, 0.5)), np.pi)
    return K.deflect(direction[None, :], np.array([np.cos(theta)]), rng.uniform(0.0, 2.0 * np.pi, 1))[0]


def inelastic(track: np.ndarray, pdg: np.ndarray, pos: np.ndarray, time: np.ndarray, direction: np.ndarray,
              kinetic: np.ndarray, rng: np.random.Generator) -> Secondaries:
    """Secondaries of inelastic interactions of p / pi+- (one per entry) with kinetic energy ``kinetic``."""
    out: list[Secondaries] = []
    for i in range(len(track)):
        t, code = float(kinetic[i]), int(pdg[i])
        lead_pdg: list[int] = []
        lead_e: list[float] = []
        if code == C.PROTON:
            process = C.PROC["protonInelastic"]
            share = rng.uniform(0.3, 0.9)
            lead_pdg.append(C.PROTON)
            lead_e.append(share * t)
            excitation = t - share * t
            if t > 400.0 and rng.random() < min(0.5, (t - 400.0) / 1600.0):
                pion = (C.PION_PLUS, C.PION_ZERO, C.PION_MINUS)[int(rng.integers(3))]
                m_pi = C.PION_ZERO_MASS if pion == C.PION_ZERO else C.PION_MASS
                e_pi = excitation * rng.uniform(0.3, 0.8)
                if e_pi > m_pi:
                    lead_pdg.append(pion)
                    lead_e.append(e_pi - m_pi)
                    excitation -= e_pi
        else:
            process = C.PROC["pi+Inelastic" if code == C.PION_PLUS else "pi-Inelastic"]
            r = rng.random()
            if r < 0.55:
                share = rng.uniform(0.4, 0.95)
                lead_pdg.append(code if r < 0.45 else C.PION_ZERO)
                lead_e.append(share * t)
                excitation = t - share * t
            else:
                excitation = t + C.PION_MASS
        dirs = [_leading_direction(direction[i], rng) for _ in lead_pdg]
        pdgs, energies = breakup(excitation, PROTON_SHARE_INELASTIC, rng)
        dirs += list(K.isotropic(rng, len(pdgs)))
        out.append(_emit(int(track[i]), process, pos[i], time[i], lead_pdg + pdgs, lead_e + energies, dirs))
    return Secondaries.concatenate(out)
