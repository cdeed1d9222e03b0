"""Named physical constants of larseg.physics, each with its source.

Units: cm, ns, MeV, MeV/c, g. Liquid-argon values are those of the PDG table
"Atomic and nuclear properties of materials: liquid argon" unless noted
(collected in docs/physics.md of the shared project docs).
"""

from __future__ import annotations

import math

from particle import Particle


def _mass(pdg: int) -> float:
    return float(Particle.from_pdgid(pdg).mass)


def _lifetime(pdg: int) -> float:
    return float(Particle.from_pdgid(pdg).lifetime)


# --- PDG particle codes
ELECTRON, POSITRON, PHOTON = 11, -11, 22
MUON_MINUS, MUON_PLUS = 13, -13
PION_PLUS, PION_MINUS, PION_ZERO = 211, -211, 111
KAON_PLUS, KAON_MINUS = 321, -321
PROTON, NEUTRON = 2212, 2112
NEUTRINOS = (12, -12, 14, -14, 16, -16)

# --- masses [MeV] and lifetimes [ns]: PDG via the `particle` package
ELECTRON_MASS = _mass(ELECTRON)  # 0.51099895
MUON_MASS = _mass(MUON_MINUS)  # 105.6584
PION_MASS = _mass(PION_PLUS)  # 139.5704
PION_ZERO_MASS = _mass(PION_ZERO)  # 134.9768
KAON_MASS = _mass(KAON_PLUS)  # 493.677
PROTON_MASS = _mass(PROTON)  # 938.2721
MUON_LIFETIME = _lifetime(MUON_MINUS)  # 2196.98 ns
PION_LIFETIME = _lifetime(PION_PLUS)  # 26.03 ns
KAON_LIFETIME = _lifetime(KAON_PLUS)  # 12.38 ns

# --- fundamental constants (PDG 2024, "Physical constants")
SPEED_OF_LIGHT = 29.9792458  # cm/ns
CLASSICAL_ELECTRON_RADIUS = 2.8179403262e-13  # cm
FINE_STRUCTURE = 1.0 / 137.035999084
AVOGADRO = 6.02214076e23  # 1/mol
BETHE_K = 0.307075  # MeV cm^2/mol, 4 pi N_A r_e^2 m_e c^2 (PDG "Passage of particles through matter")

# --- liquid argon (PDG atomic and nuclear properties, liquid argon)
LAR_Z = 18
LAR_A = 39.948  # g/mol
LAR_DENSITY = 1.396  # g/cm^3 (MicroBooNE uses 1.3954)
LAR_Z_OVER_A = LAR_Z / LAR_A
LAR_ELECTRON_DENSITY = AVOGADRO * LAR_Z_OVER_A * LAR_DENSITY  # electrons/cm^3
LAR_MEAN_EXCITATION = 188.0e-6  # MeV (I = 188.0 eV)
# Sternheimer density-effect parameters (PDG table for liquid argon)
STERNHEIMER_A = 0.19559
STERNHEIMER_K = 3.0
STERNHEIMER_X0 = 0.2
STERNHEIMER_X1 = 3.0
STERNHEIMER_CBAR = 5.2146
STERNHEIMER_DELTA0 = 0.0
RADIATION_LENGTH = 14.0  # cm (19.55 g/cm^2 / 1.396 g/cm^3)
CRITICAL_ENERGY = 32.84  # MeV, e- (PDG; the paper quotes about 33 MeV)
MOLIERE_RADIUS = 9.04  # cm
NUCLEAR_INTERACTION_LENGTH = 85.8  # cm (119.7 g/cm^2 / 1.396 g/cm^3)
# Two minimum-ionisation dE/dx values for liquid argon, for two different uses (MeV/cm):
#: the PDG "Atomic and nuclear properties" summary value for liquid argon, <-dE/dx>_min =
#: 1.519 MeV cm^2/g x 1.396 g/cm^3 = 2.1205, rounded to 2.12: the energy loss of the straight
#: "MIP" lines that calibrate the pixel scale (larseg.detector.calibration, docs/detector.md)
LAR_MIP_DEDX = 2.12
#: the minimum of the PDG muon stopping-power table for liquid argon (muons in argon,
#: 1.508 MeV cm^2/g x 1.396 g/cm^3 = 2.105): what a minimum-ionising muon of the transport loses
MUON_MIN_DEDX = 2.105

# --- multiple scattering: Highland formula with the Lynch-Dahl constants (PDG eq. 34.15)
HIGHLAND_P0 = 13.6  # MeV
HIGHLAND_LOG = 0.038

# --- Bethe-Heitler pair production: Butcher-Messel screening functions and
# Coulomb correction (Tsai, Rev. Mod. Phys. 46 (1974) 815; Geant4 Physics Reference Manual)
PAIR_MEAN_FREE_PATH = 9.0 / 7.0 * RADIATION_LENGTH  # cm, high-energy limit (PDG eq. 34.31)

# --- muon decay and capture
# Michel endpoint: W = (m_mu^2 + m_e^2) / (2 m_mu) = 52.83 MeV (total e energy)
MICHEL_ENDPOINT = (MUON_MASS**2 + ELECTRON_MASS**2) / (2.0 * MUON_MASS)
# Lifetime of mu- bound in argon (Suzuki, Measday, Roalsvig, PRC 35 (1987) 2212: 537 ns);
# the capture fraction 1 - 537/2197 = 0.76 follows from it (physics.md: about 75%).
MU_MINUS_ARGON_LIFETIME = 537.0  # ns
MU_MINUS_CAPTURE_FRACTION = 0.75

# --- two-body decays at rest (PDG branching fractions)
PION_ZERO_GAMMA_GAMMA = 0.98823  # pi0 -> gamma gamma; the Dalitz rest is also made gamma gamma
KAON_MU_NU = 0.6356  # K+ -> mu+ nu
KAON_PI_PI0 = 0.2067  # K+ -> pi+ pi0 (the other, 3-body, modes are folded into these two)


def two_body_momentum(m_parent: float, m1: float, m2: float) -> float:
    """Momentum [MeV/c] of either daughter of a two-body decay at rest."""
    s = m_parent * m_parent
    return math.sqrt((s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)) / (2.0 * m_parent)


PION_DECAY_MOMENTUM = two_body_momentum(PION_MASS, MUON_MASS, 0.0)  # 29.79 MeV/c -> mu KE 4.12 MeV
KAON_MU_MOMENTUM = two_body_momentum(KAON_MASS, MUON_MASS, 0.0)  # 235.5 MeV/c
KAON_PI_MOMENTUM = two_body_momentum(KAON_MASS, PION_MASS, PION_ZERO_MASS)  # 205.1 MeV/c

# --- nuclear de-excitation and break-up (simple models, see docs/physics.md)
NUCLEON_SEPARATION_ENERGY = 8.0  # MeV, mean binding of an emitted nucleon (40Ar: S_n 9.9, S_p 12.5 MeV)
ARGON_PROTON_FRACTION = LAR_Z / 40.0  # chance that an emitted nucleon is a proton (18 of 40)

# Creation-process names (Geant4 spelling). Delta rays are b"eIoni" from e+-,
# b"muIoni" from muons and b"hIoni" from hadrons.
DELTA_RAY_PROCESSES = (b"eIoni", b"muIoni", b"hIoni")

#: Creation-process names; particles carry an index into this tuple until the table is written.
PROCESS_NAMES = (
    b"primary", b"eIoni", b"muIoni", b"hIoni", b"eBrem", b"conv", b"compt", b"annihil", b"Decay",
    b"muMinusCaptureAtRest", b"hBertiniCaptureAtRest", b"protonInelastic", b"pi+Inelastic", b"pi-Inelastic",
)
PROC = {name.decode(): i for i, name in enumerate(PROCESS_NAMES)}
