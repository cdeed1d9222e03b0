"""A simple charged-current neutrino-argon event generator (GENIE is not available).

Model (documented with its limits in docs/physics.md):

* Neutrino energy from a gamma distribution (Booster-beam-like: mean ~0.8 GeV
  for numu, a little higher for nue), truncated to a range.
* Target nucleons in a relativistic Fermi gas (``FERMI_MOMENTUM``, binding
  energy ``BINDING_ENERGY``); Pauli blocking of the outgoing nucleon.
* Channels: quasi-elastic ``nu n -> l- p``; two-nucleon (MEC) ``nu (np) -> l- p p``;
  resonant Delta(1232) production with isospin weights for argon
  (``l- p pi+``, ``l- p pi0``, ``l- n pi+``); a multi-pion "DIS" continuum
  ``l- N + 2-3 pions``. Every two-body step ``nu + target -> l- + X`` is done in
  the centre-of-mass frame with the lepton angle weighted by a dipole form
  factor in Q^2, then boosted to the lab; hadronic systems decay isotropically.
* Not modelled: final-state interactions in the nucleus (pion absorption,
  nucleon knock-out), neutral currents, coherent pion production, neutrons
  (they are produced but not transported, so they leave no charge - a
  reasonable first approximation for images, as their recoil protons are soft).
"""

from __future__ import annotations

import numpy as np

from larseg.physics import stopping
from larseg.physics.generator_config import MichelConfig, NeutrinoConfig
from larseg.physics.primaries import Interaction, Primary, isotropic, mass

FERMI_MOMENTUM = 250.0  # MeV/c, argon (Smith-Moniz Fermi gas, ~240-260 MeV/c)
BINDING_ENERGY = 30.0  # MeV, mean separation energy of an argon nucleon
AXIAL_MASS_QE = 1000.0  # MeV, dipole axial mass (M_A ~ 1.0 GeV)
AXIAL_MASS_RES = 1100.0  # MeV
DELTA_MASS, DELTA_WIDTH = 1232.0, 117.0  # MeV (PDG)
ARGON_Z, ARGON_N = 18, 22

PROTON, NEUTRON, PI_PLUS, PI_ZERO, PI_MINUS = 2212, 2112, 211, 111, -211


def _four(p3: np.ndarray, m: float) -> np.ndarray:
    return np.array([np.sqrt(m * m + p3 @ p3), *p3])


def _boost(p4: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Lorentz-boost four-vector ``p4`` by velocity ``beta`` (frame moving with -beta sees it)."""
    b2 = float(beta @ beta)
    if b2 < 1e-18:
        return p4.copy()
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = float(beta @ p4[1:])
    e = gamma * (p4[0] + bp)
    p3 = p4[1:] + ((gamma - 1.0) * bp / b2 + gamma * p4[0]) * beta
    return np.array([e, *p3])


def _two_body_momentum(m0: float, m1: float, m2: float) -> float:
    """Momentum of either daughter of a decay m0 -> m1 m2 at rest."""
    a = (m0 * m0 - (m1 + m2) ** 2) * (m0 * m0 - (m1 - m2) ** 2)
    return float(np.sqrt(max(a, 0.0))) / (2.0 * m0)


def _decay(p4: np.ndarray, masses: list[float], rng: np.random.Generator) -> list[np.ndarray]:
    """Isotropic sequential two-body decays of a system of four-momentum ``p4`` into ``masses``."""
    out = []
    m_sys = float(np.sqrt(max(p4[0] ** 2 - p4[1:] @ p4[1:], 0.0)))
    current = p4
    for i, m in enumerate(masses[:-1]):
        rest = masses[i + 1:]
        m_rest_min = sum(rest)
        if len(rest) == 1:
            m_rest = rest[0]
        else:  # uniform invariant mass of the remaining system in its allowed range
            m_rest = rng.uniform(m_rest_min, max(m_sys - m, m_rest_min))
        q = _two_body_momentum(m_sys, m, m_rest)
        d = isotropic(rng)
        beta = current[1:] / current[0]
        out.append(_boost(_four(q * d, m), beta))
        current = _boost(_four(-q * d, m_rest), beta)
        m_sys = m_rest
    out.append(current)
    return out


def _scatter(k: np.ndarray, target: np.ndarray, m_lep: float, m_x: float, axial_mass: float,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
    """nu (four-momentum k) + target -> lepton + X of mass ``m_x``; None if below threshold."""
    total = k + target
    s = total[0] ** 2 - total[1:] @ total[1:]
    if s <= (m_lep + m_x) ** 2:
        return None
    w = np.sqrt(s)
    beta = total[1:] / total[0]
    k_cm = _boost(k, -beta)
    q = _two_body_momentum(w, m_lep, m_x)
    e_l = np.sqrt(q * q + m_lep * m_lep)
    axis = k_cm[1:] / np.linalg.norm(k_cm[1:])
    # Lepton angle: uniform in cos(theta*) accepted with the dipole weight in Q^2
    # (Q^2 is linear in cos(theta*) in the CM frame, smallest forward).
    for _ in range(1000):
        cos_t = rng.uniform(-1.0, 1.0)
        q2 = -m_lep ** 2 + 2.0 * k_cm[0] * (e_l - q * cos_t)
        q2_min = -m_lep ** 2 + 2.0 * k_cm[0] * (e_l - q)
        weight = ((1.0 + max(q2_min, 0.0) / axial_mass ** 2) / (1.0 + max(q2, 0.0) / axial_mass ** 2)) ** 4
        if rng.random() < weight:
            break
    phi = rng.uniform(0.0, 2.0 * np.pi)
    u = np.cross(axis, [0.0, 0.0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    d = cos_t * axis + sin_t * (np.cos(phi) * u + np.sin(phi) * v)
    lep = _boost(_four(q * d, m_lep), beta)
    x = _boost(_four(-q * d, m_x), beta)
    return lep, x


def _fermi_nucleon(m: float, rng: np.random.Generator, n: int = 1) -> np.ndarray:
    """Four-momentum of ``n`` bound nucleons (Fermi gas, off shell by the binding energy)."""
    p = FERMI_MOMENTUM * rng.random() ** (1.0 / 3.0)
    p3 = p * isotropic(rng)
    return np.array([n * (np.sqrt(m * m + p * p) - BINDING_ENERGY), *(p3)])


def draw_energy(cfg: NeutrinoConfig, rng: np.random.Generator) -> float:
    theta = cfg.mean_energy / cfg.spectrum_shape
    lo, hi = cfg.energy_range
    while True:
        e = rng.gamma(cfg.spectrum_shape, theta)
        if lo <= e <= hi:
            return float(e)


def _final_state(cfg: NeutrinoConfig, e_nu: float, direction: np.ndarray, rng: np.random.Generator):
    """(mode, [(pdg, four-momentum), ...]) of one CC interaction, or None below threshold."""
    lepton = 11 if cfg.flavour == "nue" else 13
    m_l = mass(lepton)
    m_p, m_n = mass(PROTON), mass(NEUTRON)
    k = np.array([e_nu, *(e_nu * direction)])
    fractions = np.array([cfg.qe, cfg.mec, cfg.res, cfg.dis], dtype=np.float64)
    mode = ["QE", "MEC", "RES", "DIS"][int(rng.choice(4, p=fractions / fractions.sum()))]
    if mode == "QE":
        out = _scatter(k, _fermi_nucleon(m_n, rng), m_l, m_p, AXIAL_MASS_QE, rng)
        if out is None:
            return None
        lep, p = out
        if np.linalg.norm(p[1:]) < FERMI_MOMENTUM:  # Pauli blocked
            return None
        return mode, [(lepton, lep), (PROTON, p)]
    if mode == "MEC":
        target = _fermi_nucleon(m_n, rng) + _fermi_nucleon(m_p, rng)
        m_x = rng.uniform(m_p + m_p + 1.0, m_p + m_p + 300.0)
        out = _scatter(k, target, m_l, m_x, AXIAL_MASS_QE, rng)
        if out is None:
            return None
        lep, x = out
        p1, p2 = _decay(x, [m_p, m_p], rng)
        return mode, [(lepton, lep), (PROTON, p1), (PROTON, p2)]
    if mode == "RES":
        m_pi = mass(PI_PLUS)
        # Isospin: sigma(nu p -> Delta++) : sigma(nu n -> Delta+) = 3 : 1; Delta+ -> p pi0 (2/3), n pi+ (1/3).
        w_pp, w_n = 3.0 * ARGON_Z, 1.0 * ARGON_N
        on_proton = rng.random() < w_pp / (w_pp + w_n)
        if on_proton:
            nucleon, pion, target_m = PROTON, PI_PLUS, m_p
        else:
            nucleon, pion, target_m = (PROTON, PI_ZERO, m_n) if rng.random() < 2.0 / 3.0 else (NEUTRON, PI_PLUS, m_n)
        m_pion = mass(pion)
        m_nuc = mass(nucleon)
        for _ in range(100):
            w = DELTA_MASS + 0.5 * DELTA_WIDTH * np.tan(np.pi * (rng.random() - 0.5))
            if m_nuc + m_pi + 5.0 < w < 1600.0:
                break
        out = _scatter(k, _fermi_nucleon(target_m, rng), m_l, w, AXIAL_MASS_RES, rng)
        if out is None:
            return None
        lep, x = out
        n4, pi4 = _decay(x, [m_nuc, m_pion], rng)
        return mode, [(lepton, lep), (nucleon, n4), (pion, pi4)]
    # DIS-like multi-pion continuum.
    n_pi = int(rng.integers(2, 4))
    pions = [int(rng.choice([PI_PLUS, PI_ZERO, PI_MINUS], p=[0.4, 0.35, 0.25])) for _ in range(n_pi)]
    nucleon = PROTON if rng.random() < 0.6 else NEUTRON
    masses = [mass(nucleon)] + [mass(p) for p in pions]
    target = _fermi_nucleon(m_n, rng)
    total = k + target
    w_max = np.sqrt(max(total[0] ** 2 - total[1:] @ total[1:], 0.0)) - m_l
    w_min = sum(masses) + 20.0
    if w_max <= w_min:
        return None
    w = rng.uniform(w_min, w_max)
    out = _scatter(k, target, m_l, w, AXIAL_MASS_RES, rng)
    if out is None:
        return None
    lep, x = out
    hadrons = _decay(x, masses, rng)
    return mode, [(lepton, lep)] + list(zip([nucleon] + pions, hadrons))


def neutrino_interaction(cfg: NeutrinoConfig, vertex: np.ndarray, rng: np.random.Generator,
                         beam_direction=(0.0, 0.0, 1.0)) -> Interaction:
    """One CC interaction at ``vertex`` with the beam along ``beam_direction`` (the Booster beam is along +z)."""
    direction = np.asarray(beam_direction, dtype=np.float64)
    direction = direction / np.linalg.norm(direction)
    nu_pdg = 12 if cfg.flavour == "nue" else 14
    for _ in range(10_000):
        e_nu = draw_energy(cfg, rng)
        result = _final_state(cfg, e_nu, direction, rng)
        if result is None:
            continue
        mode, finals = result
        if cfg.require_pi0 and not any(pdg == PI_ZERO for pdg, _ in finals):
            continue
        pos = np.array([*vertex, 0.0])
        prims = [Primary(pdg, pos.copy(), p4[1:].copy()) for pdg, p4 in finals if pdg != NEUTRON]
        return Interaction(np.asarray(vertex, dtype=np.float64), prims, nu_pdg=nu_pdg, nu_energy=e_nu, mode=mode)
    raise RuntimeError("neutrino generator found no allowed final state in 10000 tries")


def stopping_muon(cfg: MichelConfig, active_volume, margin, rng: np.random.Generator,
                  kinetic_for_range=None) -> Interaction:
    """A cosmic muon that stops inside the fiducial volume.

    The stopping point is uniform in the volume shrunk by ``margin``; the
    direction follows the cos^2(zenith) distribution of cosmic muons, coming
    from above; the start point lies ``R`` (uniform in ``residual_range``)
    back along the direction, and the kinetic energy is that of a CSDA range
    ``R`` (``kinetic_for_range(pdg, R)``). The vertex of the returned
    interaction is the stopping point (where the Michel electron starts).
    """
    if kinetic_for_range is None:
        kinetic_for_range = stopping.kinetic_for_range
    lo = np.array(active_volume[0::2]) + np.array(margin)
    hi = np.array(active_volume[1::2]) - np.array(margin)
    stop = rng.uniform(lo, hi)
    # cos^2 zenith: cos(theta) = u^(1/3) for dN/dcos ~ cos^2.
    cos_z = rng.random() ** (1.0 / 3.0)
    phi = rng.uniform(0.0, 2.0 * np.pi)
    sin_z = np.sqrt(1.0 - cos_z * cos_z)
    direction = np.array([sin_z * np.cos(phi), -cos_z, sin_z * np.sin(phi)])  # downward going
    # Muons enter through the TPC boundary: cut the range at the wall behind the stop.
    box_lo, box_hi = np.array(active_volume[0::2]), np.array(active_volume[1::2])
    back = -direction
    with np.errstate(divide="ignore"):
        to_wall = np.where(back > 0, (box_hi - stop) / back, np.where(back < 0, (box_lo - stop) / back, np.inf))
    r = min(rng.uniform(*cfg.residual_range), float(to_wall.min()) - 0.01)
    start = stop - r * direction
    pdg = -13 if rng.random() < cfg.mu_plus_fraction else 13
    t = float(kinetic_for_range(pdg, r))
    p = float(np.sqrt(t * (t + 2.0 * mass(pdg))))
    prim = Primary(pdg, np.array([*start, 0.0]), p * direction)
    return Interaction(stop, [prim], mode="michel")
