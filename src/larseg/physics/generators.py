"""Event generators: the primary particles of each sample of the paper.

A generator turns a :class:`GeneratorConfig` and a ``numpy.random.Generator``
into an :class:`Interaction`: a vertex, a list of primary particles and the
truth the evaluation needs (neutrino energy and mode, kinematics). Transport of
the primaries is :mod:`larseg.physics.transport`'s job.

Samples (``larseg config show simulation/<name>`` prints each preset):

* ``mpv`` - the paper's MultiPartVertex training mix (Sec. V A): 80% of events
  with 1-4 particles, one a light lepton, the rest photons, charged pions,
  protons or leptons; 20% low-energy events with 1-4 showers or tracks.
* ``1e1p``, ``1e1p-le``, ``1mu1p-le`` - the MPV benchmark samples (Sec. V B).
* ``single`` - one e-, gamma, mu-, pi- or p: the classifier sample used for
  transfer learning (Sec. IV A).
* ``nue-cc``, ``numu-cc``, ``ccpi0`` - charged-current interactions on argon
  from a Booster-beam-like spectrum (:func:`neutrino_interaction`; GENIE is not
  available, see docs/physics.md for the model and its limits).
* ``michel`` - a stopping cosmic muon whose decay electron is the constraint
  point of the crop.

Every random choice of the MPV generator is uniform in its range, as in the paper.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

# --- particle data


@functools.cache
def mass(pdg: int) -> float:
    """Rest mass [MeV] from the PDG tables of the ``particle`` package."""
    from particle import Particle

    m = Particle.from_pdgid(int(pdg)).mass
    if m is None:
        raise ValueError(f"no mass for PDG code {pdg}")
    return float(m)


def momentum_from_kinetic(pdg: int, kinetic: np.ndarray | float) -> np.ndarray:
    m = mass(pdg)
    t = np.asarray(kinetic, dtype=np.float64)
    return np.sqrt(t * (t + 2.0 * m))


def kinetic_from_momentum(pdg: int, p: np.ndarray | float) -> np.ndarray:
    m = mass(pdg)
    p = np.asarray(p, dtype=np.float64)
    return np.sqrt(p * p + m * m) - m


def isotropic(rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Unit vectors uniform on the sphere, shape (3,) or (n, 3)."""
    size = 1 if n is None else n
    cos_t = rng.uniform(-1.0, 1.0, size)
    phi = rng.uniform(0.0, 2.0 * np.pi, size)
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    d = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)
    return d[0] if n is None else d


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
        if not self.pdg:
            raise ValueError("pdg list is empty")
        if not 0 <= self.low <= self.high:
            raise ValueError(f"energy range {self.low}..{self.high} is not ordered")


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


@dataclass
class NeutrinoConfig:
    """Charged-current interactions on argon; see :func:`neutrino_interaction`."""

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


@dataclass
class MichelConfig:
    """A cosmic muon stopping in the TPC; its decay point is the crop constraint."""

    mu_plus_fraction: float = 0.555  # cosmic mu+/mu- = 1.25 at sea level
    residual_range: tuple[float, float] = (30.0, 200.0)  # cm of muon track before the stop
    require_michel: bool = True  # redraw until the muon decays (mu- is often captured)
    max_tries: int = 50


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


@dataclass
class GeneratorConfig:
    kind: Literal["mpv", "neutrino", "michel"] = "mpv"
    mixes: list[MPVMix] = field(default_factory=list)
    neutrino: NeutrinoConfig = field(default_factory=NeutrinoConfig)
    michel: MichelConfig = field(default_factory=MichelConfig)
    cosmics: CosmicConfig = field(default_factory=CosmicConfig)
    # Vertices are uniform in the active volume shrunk by this margin [cm].
    vertex_margin: tuple[float, float, float] = (20.0, 20.0, 20.0)


# --- the interaction record


@dataclass
class Primary:
    pdg: int
    position: np.ndarray  # (4,) x, y, z [cm], t [ns]
    momentum: np.ndarray  # (3,) [MeV/c]

    @property
    def kinetic(self) -> float:
        p = float(np.linalg.norm(self.momentum))
        return float(kinetic_from_momentum(self.pdg, p))


@dataclass
class Interaction:
    vertex: np.ndarray  # (3,) [cm]
    primaries: list[Primary]
    # neutrino truth (pdg 0 when not a neutrino event)
    nu_pdg: int = 0
    nu_energy: float = 0.0
    mode: str = ""  # "QE", "MEC", "RES", "DIS", "MPV", "michel"

    def as_array(self) -> np.ndarray:
        """Primaries as rows (pdg, x, y, z, t, px, py, pz)."""
        return np.array([[p.pdg, *p.position, *p.momentum] for p in self.primaries], dtype=np.float64).reshape(-1, 8)


# --- generators


def random_vertex(rng: np.random.Generator, active_volume: tuple[float, ...], margin) -> np.ndarray:
    lo = np.array(active_volume[0::2]) + np.array(margin)
    hi = np.array(active_volume[1::2]) - np.array(margin)
    return rng.uniform(lo, hi)


def _draw(spec: ParticleSpec, rng: np.random.Generator) -> tuple[int, float]:
    """(pdg, momentum [MeV/c]) drawn uniformly from the spec's range."""
    pdg = spec.pdg[int(rng.integers(len(spec.pdg)))]
    value = rng.uniform(spec.low, spec.high)
    p = value if spec.variable == "momentum" else float(momentum_from_kinetic(pdg, value))
    return pdg, p


def mpv_particles(mixes: list[MPVMix], rng: np.random.Generator) -> list[tuple[int, float]]:
    """(pdg, |p|) of the particles of one MPV event."""
    weights = np.array([m.weight for m in mixes], dtype=np.float64)
    mix = mixes[int(rng.choice(len(mixes), p=weights / weights.sum()))]
    n_total = int(rng.integers(mix.multiplicity[0], mix.multiplicity[1] + 1))
    chosen = [_draw(spec, rng) for spec in mix.required][:n_total]
    counts = [0] * len(mix.others)
    while len(chosen) < n_total:
        free = [i for i, spec in enumerate(mix.others) if counts[i] < spec.max_count]
        if not free:
            break
        i = free[int(rng.integers(len(free)))]
        counts[i] += 1
        chosen.append(_draw(mix.others[i], rng))
    return chosen


def mpv_interaction(config: GeneratorConfig, active_volume, rng: np.random.Generator) -> Interaction:
    vertex = random_vertex(rng, active_volume, config.vertex_margin)
    particles = mpv_particles(config.mixes, rng)
    dirs = isotropic(rng, len(particles))
    pos = np.array([*vertex, 0.0])
    prims = [Primary(pdg, pos.copy(), p * d) for (pdg, p), d in zip(particles, dirs)]
    return Interaction(vertex, prims, mode="MPV")


def cosmic_muons(cfg: CosmicConfig, active_volume, rng: np.random.Generator) -> list[Primary]:
    """Cosmic muons entering through the top of the TPC (see :class:`CosmicConfig`)."""
    n = int(rng.poisson(cfg.mean)) if cfg.mean > 0 else 0
    out = []
    lo, hi = cfg.energy_range
    for _ in range(n):
        # (E + a)^-2.7 by inversion of its cumulative distribution between lo and hi [GeV].
        a, g = 3.64, 1.7
        u = rng.random()
        c_lo, c_hi = (lo / 1000 + a) ** -g, (hi / 1000 + a) ** -g
        kinetic = 1000.0 * ((c_lo - u * (c_lo - c_hi)) ** (-1.0 / g) - a)
        cos_z = rng.random() ** (1.0 / 3.0)
        phi = rng.uniform(0.0, 2.0 * np.pi)
        sin_z = np.sqrt(1.0 - cos_z * cos_z)
        direction = np.array([sin_z * np.cos(phi), -cos_z, sin_z * np.sin(phi)])
        x = rng.uniform(active_volume[0], active_volume[1])
        z = rng.uniform(active_volume[4], active_volume[5])
        y = active_volume[3] - 1e-3
        pdg = -13 if rng.random() < cfg.mu_plus_fraction else 13
        p = float(momentum_from_kinetic(pdg, kinetic))
        t = rng.uniform(*cfg.time_range_ns)
        out.append(Primary(pdg, np.array([x, y, z, t]), p * direction))
    return out


def generate(config: GeneratorConfig, active_volume, rng: np.random.Generator) -> Interaction:
    """One interaction of the configured kind, with cosmic muons added if configured."""
    interaction = _generate(config, active_volume, rng)
    if config.cosmics.mean > 0:
        interaction.primaries.extend(cosmic_muons(config.cosmics, active_volume, rng))
    return interaction


def _generate(config: GeneratorConfig, active_volume, rng: np.random.Generator) -> Interaction:
    if config.kind == "mpv":
        return mpv_interaction(config, active_volume, rng)
    if config.kind == "neutrino":
        from larseg.physics.neutrino import neutrino_interaction

        vertex = random_vertex(rng, active_volume, config.vertex_margin)
        return neutrino_interaction(config.neutrino, vertex, rng)
    if config.kind == "michel":
        from larseg.physics.neutrino import stopping_muon

        return stopping_muon(config.michel, active_volume, config.vertex_margin, rng)
    raise ValueError(f"unknown generator kind {config.kind!r}")
