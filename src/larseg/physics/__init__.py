"""Particle transport in liquid argon with exact per-deposit truth.

``transport(primaries, rng, config) -> SimEvent`` follows e+-, photons, muons,
charged pions and kaons, protons and pi0s through liquid argon (vectorised
numpy; see docs/physics.md for the physics model and its limits). Range and
stopping-power helpers are exported for generators and analyses.
"""

from larseg.physics.config import MICROBOONE_ACTIVE_VOLUME, PhysicsConfig
from larseg.physics.stopping import csda_range, kinetic_for_range, stopping_power
from larseg.physics.transport import transport
from larseg.physics.truth import PARTICLE_DTYPE, SHOWER_PDGS, Deposits, SimEvent, is_shower_pdg

__all__ = [
    "MICROBOONE_ACTIVE_VOLUME",
    "PARTICLE_DTYPE",
    "SHOWER_PDGS",
    "Deposits",
    "PhysicsConfig",
    "SimEvent",
    "csda_range",
    "is_shower_pdg",
    "kinetic_for_range",
    "stopping_power",
    "transport",
]
