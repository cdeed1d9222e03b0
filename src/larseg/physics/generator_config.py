"""The typed settings of the event generators (the ``generator`` section of a simulation preset).

Each sample of the paper is a :class:`GeneratorConfig`; see :mod:`larseg.physics.generators`
for what each setting does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from larseg.config.base import SettingError, require, require_finite, require_ordered
from larseg.physics import constants as C
from larseg.physics.stopping import SPECIES_PDG

#: PDG codes a generator may ask for: the particles the transport knows (charged species it
#: tracks, photons and pi0s; neutrons and neutrinos are recorded but not tracked).
PRIMARY_PDG = frozenset({*SPECIES_PDG, C.PHOTON, C.PION_ZERO, C.NEUTRON, *C.NEUTRINOS})
#: Largest particle energy [MeV] (or momentum [MeV/c]): the transport's energy tables end at 100 GeV.
MAX_ENERGY_MEV = 1e5
#: Most particles one MPV event may hold.
MAX_MULTIPLICITY = 100
#: Most cosmic muons per event on average (MicroBooNE: about 20 in its 4.8 ms readout).
MAX_COSMICS = 1000

# --- configs


@dataclass
class ParticleSpec:
    """A particle type (one of ``pdg``, picked uniformly) and its energy range.

    ``variable`` says whether ``low``-``high`` [MeV or MeV/c] is kinetic energy
    or momentum; the value is drawn uniformly. ``max_count`` caps how many of
    this type one event may hold.
    """

    pdg: list[int]
    low: float
    high: float
    variable: Literal["kinetic", "momentum"] = "kinetic"
    max_count: int = 1

    def __post_init__(self):
        require_finite(self)
        if not self.pdg:
            raise SettingError("pdg", "the list of PDG codes is empty")
        for i, code in enumerate(self.pdg):
            if code not in PRIMARY_PDG:
                known = ", ".join(map(str, sorted(PRIMARY_PDG)))
                raise SettingError(f"pdg[{i}]", f"unknown PDG code {code} (known: {known})")
        require(self, "low", "high", low=0, high=MAX_ENERGY_MEV, why="the transport's tables end at 100 GeV")
        if self.low > self.high:
            raise SettingError("low", f"must not be larger than high {self.high!r}, got {self.low!r} (the energy range "
                                      "is reversed)")
        require(self, "max_count", low=1, high=MAX_MULTIPLICITY, integer=True)


@dataclass
class MPVMix:
    """One configuration of the MultiPartVertex generator.

    ``multiplicity`` (inclusive range) draws the total particle count; the
    ``required`` particles come first, the rest are drawn from ``others`` type
    by type (uniformly among the types that have not reached ``max_count``).
    """

    weight: float = 1.0
    multiplicity: tuple[int, int] = (1, 1)
    required: list[ParticleSpec] = field(default_factory=list)
    others: list[ParticleSpec] = field(default_factory=list)

    def __post_init__(self):
        require_finite(self)
        require(self, "weight", low=0)
        require_ordered(self, "multiplicity", low=1, high=MAX_MULTIPLICITY, integer=True)
        if not self.required and not self.others:
            raise SettingError("others", "a mix needs particles: required and others are both empty")


@dataclass
class NeutrinoConfig:
    """Charged-current interactions on argon; see :func:`larseg.physics.neutrino.neutrino_interaction`."""

    flavour: Literal["nue", "numu"] = "numu"
    # Booster-beam-like spectrum: a gamma distribution of mean ``mean_energy``.
    mean_energy: float = 800.0  # MeV
    spectrum_shape: float = 2.5  # gamma shape parameter k (mean = k * theta)
    energy_range: tuple[float, float] = (200.0, 3000.0)  # MeV
    # Fractions of the final-state channels (normalised on use).
    qe: float = 0.45
    mec: float = 0.15
    res: float = 0.30
    dis: float = 0.10
    require_pi0: bool = False  # keep only final states with a pi0 (the CCpi0 sample)

    def __post_init__(self):
        require_finite(self)
        require(self, "mean_energy", "spectrum_shape", low=0, high=MAX_ENERGY_MEV, low_open=True)
        # low < high: energies are drawn from the spectrum until one falls in the range
        require_ordered(self, "energy_range", low=0, high=MAX_ENERGY_MEV, strict=True)
        require(self, "qe", "mec", "res", "dis", low=0, high=1)
        if self.qe + self.mec + self.res + self.dis <= 0:
            raise SettingError("qe", "the channel fractions qe, mec, res and dis are all 0")


@dataclass
class MichelConfig:
    """A cosmic muon stopping in the TPC; its decay point is the crop constraint."""

    mu_plus_fraction: float = 0.555  # cosmic mu+/mu- = 1.25 at sea level
    residual_range: tuple[float, float] = (30.0, 200.0)  # cm of muon track before the stop
    require_michel: bool = True  # redraw until the muon decays (mu- is often captured)
    max_tries: int = 50

    def __post_init__(self):
        require_finite(self)
        require(self, "mu_plus_fraction", low=0, high=1)
        require_ordered(self, "residual_range", low=0, high=10000.0)
        require(self, "max_tries", low=1, high=100000, integer=True)


@dataclass
class CosmicConfig:
    """Cosmic-ray muons overlaid on an event (MicroBooNE is at the surface).

    ``mean`` muons per event (Poisson); each enters through the top face of
    the TPC at a uniform point, with a cos^2(zenith) direction, a
    kinetic-energy spectrum dN/dE ~ (E + 3.64 GeV)^-2.7 (a Gaisser-like sea
    level spectrum flattened at low energy) between ``energy_range`` [MeV],
    mu+/mu- = 1.25, and a time uniform in ``time_range_ns`` relative to the
    trigger (their charge then lands anywhere in the readout window or beyond).
    Off (mean 0) by default, as in the paper's training sample.
    """

    mean: float = 0.0
    energy_range: tuple[float, float] = (200.0, 50000.0)
    time_range_ns: tuple[float, float] = (-2.7e6, 2.6e6)
    mu_plus_fraction: float = 0.555

    def __post_init__(self):
        require_finite(self)
        require(self, "mean", low=0, high=MAX_COSMICS)
        require_ordered(self, "energy_range", low=0, high=MAX_ENERGY_MEV)
        require_ordered(self, "time_range_ns")
        require(self, "mu_plus_fraction", low=0, high=1)


@dataclass
class GeneratorConfig:
    kind: Literal["mpv", "neutrino", "michel"] = "mpv"
    mixes: list[MPVMix] = field(default_factory=list)
    neutrino: NeutrinoConfig = field(default_factory=NeutrinoConfig)
    michel: MichelConfig = field(default_factory=MichelConfig)
    cosmics: CosmicConfig = field(default_factory=CosmicConfig)
    # Vertices are uniform in the active volume shrunk by this margin [cm].
    vertex_margin: tuple[float, float, float] = (20.0, 20.0, 20.0)

    def __post_init__(self):
        require_finite(self)
        require(self, "vertex_margin", low=0)
        if self.kind == "mpv":
            if not self.mixes:
                raise SettingError("mixes", "an mpv generator needs at least one mix (the list is empty)")
            if sum(m.weight for m in self.mixes) <= 0:
                raise SettingError("mixes", "the weights of the mixes are all 0")


__all__ = ["MAX_ENERGY_MEV", "PRIMARY_PDG", "CosmicConfig", "GeneratorConfig", "MPVMix", "MichelConfig",
           "NeutrinoConfig", "ParticleSpec"]
