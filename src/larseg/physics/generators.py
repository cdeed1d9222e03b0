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

import numpy as np

from larseg.physics.generator_config import (  # noqa: F401  (re-exported: the settings of every generator)
    CosmicConfig,
    GeneratorConfig,
    MichelConfig,
    MPVMix,
    NeutrinoConfig,
    ParticleSpec,
)
from larseg.physics.neutrino import neutrino_interaction, stopping_muon
from larseg.physics.primaries import (  # noqa: F401  (re-exported)
    Interaction,
    Primary,
    isotropic,
    kinetic_from_momentum,
    mass,
    momentum_from_kinetic,
)

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
        vertex = random_vertex(rng, active_volume, config.vertex_margin)
        return neutrino_interaction(config.neutrino, vertex, rng)
    if config.kind == "michel":
        return stopping_muon(config.michel, active_volume, config.vertex_margin, rng)
    raise ValueError(f"unknown generator kind {config.kind!r}")
