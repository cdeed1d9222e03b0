"""Decays and captures: pi0, stopped muons/pions/kaons, pions and kaons in flight.

* pi0 -> gamma gamma at its creation point (the 1.2% Dalitz mode is made
  gamma gamma too), isotropic in the pi0 rest frame, boosted.
* mu+ at rest decays (lifetime 2197 ns); mu- at rest forms muonic argon
  (lifetime 537 ns) and is captured by the nucleus with probability
  ``mu_minus_capture_fraction`` (0.75), else decays in orbit. Decay electrons
  follow the Michel spectrum dN/dx = 2x^2(3 - 2x), x = E/52.83 MeV, isotropic
  (no radiative or bound-state corrections). Capture ``mu- p -> n nu``: the
  neutrino carries most of the energy; the nucleus is left with 10-30 MeV of
  excitation that :func:`larseg.physics.hadronic.breakup` turns into
  neutrons (not recorded), a rare proton and de-excitation photons
  (process ``muMinusCaptureAtRest``).
* pi+ at rest -> mu+ nu (26 ns): a 4.12 MeV mu+ that stops in ~1.5 mm and
  decays. pi- at rest is absorbed (``hBertiniCaptureAtRest``): its mass
  excites the nucleus, which breaks up (a few protons of tens of MeV).
* K+ at rest or in flight -> mu+ nu (75.5%) or pi+ pi0 (24.5%) (the two main
  modes, renormalised); K- at rest is absorbed (250 MeV of excitation).
* pi+- in flight -> mu+- nu, two-body, boosted.

Neutrinos are not recorded. Units: MeV, cm, ns.
"""

from __future__ import annotations

import numpy as np

from larseg.physics import constants as C
from larseg.physics import kinematics as K
from larseg.physics import samplers
from larseg.physics.config import PhysicsConfig
from larseg.physics.hadronic import PROTON_SHARE_MUON_CAPTURE, PROTON_SHARE_PION_ABSORPTION, breakup
from larseg.physics.secondaries import Secondaries

_DECAY = C.PROC["Decay"]


def _two_body(track, m_parent, pos, time, direction, kinetic, daughters, p_star, rng) -> Secondaries:
    """Two-body decays (isotropic in the rest frame, boosted along ``direction``); ``daughters`` are
    (pdg, mass) pairs, pdg 0 for an unrecorded neutrino."""
    n = len(track)
    if n == 0:
        return Secondaries.empty()
    axis = K.isotropic(rng, n)
    p_parent = np.sqrt(kinetic * (kinetic + 2.0 * m_parent))
    beta = (p_parent / (kinetic + m_parent))[:, None] * direction
    out = []
    for sign, (pdg, mass) in zip((1.0, -1.0), daughters):
        if pdg == 0:
            continue
        e_lab, p_lab = K.boost(np.full(n, np.hypot(p_star, mass)), sign * p_star * axis, beta)
        out.append(Secondaries.make(track, pdg, _DECAY, pos, time, K.normalize(p_lab), np.maximum(e_lab - mass, 0.0)))
    return Secondaries.concatenate(out)


def pi0_decay(track, pos, time, direction, kinetic, rng) -> Secondaries:
    """pi0 -> gamma gamma."""
    return _two_body(track, C.PION_ZERO_MASS, pos, time, direction, kinetic,
                     ((C.PHOTON, 0.0), (C.PHOTON, 0.0)), 0.5 * C.PION_ZERO_MASS, rng)


def michel(track, pdg_electron: int, pos, time, rng) -> Secondaries:
    """Decay electrons (``pdg_electron`` 11 or -11) of muons at rest."""
    n = len(track)
    energy = samplers.michel_fraction(n, rng) * C.MICHEL_ENDPOINT
    return Secondaries.make(track, pdg_electron, _DECAY, pos, time, K.isotropic(rng, n),
                            np.maximum(energy - C.ELECTRON_MASS, 0.0))


def _kaon_decay(track, pdg, pos, time, direction, kinetic, rng) -> Secondaries:
    sign = np.sign(pdg)
    mu_nu = rng.random(len(track)) < C.KAON_MU_NU / (C.KAON_MU_NU + C.KAON_PI_PI0)
    out = []
    for s in (1, -1):
        a = (sign == s) & mu_nu
        b = (sign == s) & ~mu_nu
        out.append(_two_body(track[a], C.KAON_MASS, pos[a], time[a], direction[a], kinetic[a],
                             ((-s * C.MUON_MINUS, C.MUON_MASS), (0, 0.0)), C.KAON_MU_MOMENTUM, rng))
        out.append(_two_body(track[b], C.KAON_MASS, pos[b], time[b], direction[b], kinetic[b],
                             ((s * C.PION_PLUS, C.PION_MASS), (C.PION_ZERO, C.PION_ZERO_MASS)), C.KAON_PI_MOMENTUM,
                             rng))
    return Secondaries.concatenate(out)


def _pion_decay(track, pdg, pos, time, direction, kinetic, rng) -> Secondaries:
    muon = np.where(pdg > 0, C.MUON_PLUS, C.MUON_MINUS)
    out = []
    for code in (C.MUON_PLUS, C.MUON_MINUS):
        m = muon == code
        out.append(_two_body(track[m], C.PION_MASS, pos[m], time[m], direction[m], kinetic[m],
                             ((code, C.MUON_MASS), (0, 0.0)), C.PION_DECAY_MOMENTUM, rng))
    return Secondaries.concatenate(out)


def decay_in_flight(track, pdg, pos, time, direction, kinetic, rng) -> Secondaries:
    """pi+- and K+- decaying in flight with kinetic energy ``kinetic``."""
    pion = np.abs(pdg) == C.PION_PLUS
    return Secondaries.concatenate([
        _pion_decay(track[pion], pdg[pion], pos[pion], time[pion], direction[pion], kinetic[pion], rng),
        _kaon_decay(track[~pion], pdg[~pion], pos[~pion], time[~pion], direction[~pion], kinetic[~pion], rng),
    ])


def _absorbed(track, pos, time, excitation, proton_share, process, rng) -> Secondaries:
    out = []
    for i in range(len(track)):
        pdgs, energies = breakup(float(excitation[i]), proton_share, rng)
        n = len(pdgs)
        out.append(Secondaries.make(np.full(n, track[i]), np.array(pdgs, dtype=np.int64), process,
                                    np.tile(pos[i], (n, 1)), np.full(n, time[i]), K.isotropic(rng, n),
                                    np.array(energies)))
    return Secondaries.concatenate(out)


def at_rest(track: np.ndarray, pdg: np.ndarray, pos: np.ndarray, time: np.ndarray, cfg: PhysicsConfig,
            rng: np.random.Generator) -> Secondaries:
    """What stopped mu, pi and K (table rows ``track``) turn into; protons and others give nothing."""
    zero = np.zeros((len(track), 3))
    out = []
    sel = pdg == C.MUON_PLUS
    t = time[sel] + rng.exponential(C.MUON_LIFETIME, sel.sum())
    out.append(michel(track[sel], C.POSITRON, pos[sel], t, rng))
    sel = np.nonzero(pdg == C.MUON_MINUS)[0]
    t = time[sel] + rng.exponential(C.MU_MINUS_ARGON_LIFETIME, sel.size)
    captured = rng.random(sel.size) < cfg.mu_minus_capture_fraction
    out.append(michel(track[sel[~captured]], C.ELECTRON, pos[sel[~captured]], t[~captured], rng))
    cap = sel[captured]
    out.append(_absorbed(track[cap], pos[cap], t[captured], rng.uniform(10.0, 30.0, cap.size),
                         PROTON_SHARE_MUON_CAPTURE, C.PROC["muMinusCaptureAtRest"], rng))
    sel = pdg == C.PION_PLUS
    t = time[sel] + rng.exponential(C.PION_LIFETIME, sel.sum())
    out.append(_pion_decay(track[sel], pdg[sel], pos[sel], t, zero[sel] + (0.0, 0.0, 1.0), zero[sel, 0], rng))
    sel = pdg == C.PION_MINUS
    out.append(_absorbed(track[sel], pos[sel], time[sel], np.full(sel.sum(), C.PION_MASS),
                         PROTON_SHARE_PION_ABSORPTION, C.PROC["hBertiniCaptureAtRest"], rng))
    sel = pdg == C.KAON_PLUS
    t = time[sel] + rng.exponential(C.KAON_LIFETIME, sel.sum())
    out.append(_kaon_decay(track[sel], pdg[sel], pos[sel], t, zero[sel] + (0.0, 0.0, 1.0), zero[sel, 0], rng))
    sel = pdg == C.KAON_MINUS
    out.append(_absorbed(track[sel], pos[sel], time[sel], np.full(sel.sum(), 250.0),
                         PROTON_SHARE_PION_ABSORPTION, C.PROC["hBertiniCaptureAtRest"], rng))
    return Secondaries.concatenate(out)
