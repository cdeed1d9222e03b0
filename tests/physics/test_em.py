"""Electromagnetic showers and photons against textbook (PDG / Longo) values."""

from __future__ import annotations

import numpy as np
import pytest
from physics_helpers import BIG_BOX, descendants_mask, primaries
from scipy import optimize, stats

from larseg.physics import PhysicsConfig, is_shower_pdg, transport
from larseg.physics.constants import CRITICAL_ENERGY, MOLIERE_RADIUS, RADIATION_LENGTH

BIG = PhysicsConfig(bounding_box=BIG_BOX)


def _showers(pdg, energy, n, seed):
    return [transport(primaries(pdg, energy), np.random.default_rng(seed + i), BIG) for i in range(n)]


def test_photon_conversion_distance_at_1_gev():
    n = 1000
    # no shower development: e+- are stopped at once (only the photons' first step matters here)
    cfg = PhysicsConfig(bounding_box=BIG_BOX, electron_cut=5000.0)
    event = transport(primaries(22, 1000.0, n), np.random.default_rng(21), cfg)
    p = event.particles
    first = p[:n]
    distance = np.linalg.norm(first["end"][:, :3], axis=1)  # photons start at the origin along +z
    converted = np.isin(np.arange(n), p["parent_id"][p["process"] == b"conv"])
    assert converted.mean() > 0.97  # Compton is ~1% of the attenuation at 1 GeV
    # exponential with mean ~ 9/7 X0 = 18 cm (the 1 GeV cross section is ~95% of its asymptote)
    assert distance.mean() == pytest.approx(18.0, rel=0.1)
    assert stats.kstest(distance, "expon", args=(0, distance.mean())).pvalue > 1e-3


def test_compton_dominates_at_low_energy():
    n = 400
    event = transport(primaries(22, 3.0, n), np.random.default_rng(22), BIG)
    p = event.particles
    converted = np.unique(p["parent_id"][(p["process"] == b"conv") & (p["parent_id"] < n)])
    assert len(converted) < 0.1 * n  # pair production is ~6% of the attenuation at 3 MeV (XCOM)


def _longitudinal_max(events, energy):
    """Depth [X0] of the maximum of the mean longitudinal profile (gamma-distribution fit)."""
    edges = np.arange(0.0, 25.0, 0.25)
    prof = np.zeros(len(edges) - 1)
    for ev in events:
        d = ev.deposits
        prof += np.histogram(d.z / RADIATION_LENGTH, bins=edges, weights=d.de)[0]
    prof /= len(events) * energy * np.diff(edges)
    t = 0.5 * (edges[1:] + edges[:-1])

    def gamma_profile(t, a, b):
        from scipy.special import gammaln

        return np.exp(a * np.log(b) + (a - 1) * np.log(t) - b * t - gammaln(a)) * b

    (a, b), _ = optimize.curve_fit(lambda t, a, b: gamma_profile(t, a, b) / b * b, t, prof, p0=(3.0, 0.5))
    return (a - 1.0) / b


@pytest.mark.parametrize("pdg,offset", [(11, -0.5), (22, 0.5)])
@pytest.mark.parametrize("energy,n", [(500.0, 16), (2000.0, 8)])
def test_shower_maximum(pdg, offset, energy, n):
    events = _showers(pdg, energy, n, seed=100)
    t_max = _longitudinal_max(events, energy)
    assert t_max == pytest.approx(np.log(energy / CRITICAL_ENERGY) + offset, abs=1.0)


def test_moliere_radius_containment():
    # Grindhammer-Peters (GEANT-fitted, material-dependent) for argon, 1 GeV e-: 81.7% within one Moliere
    # radius, 96.5% within 3.5 R_M; the PDG's "~90%" is a dense-medium rule (the same parameterisation gives
    # 90% for lead). In argon the most penetrating photons (attenuation length ~29 cm, > 3 R_M) widen the halo.
    from larseg.validate import grindhammer

    events = _showers(11, 1000.0, 10, seed=200)
    r = np.concatenate([np.hypot(ev.deposits.x, ev.deposits.y) for ev in events])  # axis: +z
    de = np.concatenate([ev.deposits.de for ev in events])
    assert de[r < MOLIERE_RADIUS].sum() / de.sum() == pytest.approx(grindhammer.containment(1000.0, 1.0), abs=0.03)
    assert de[r < 3.5 * MOLIERE_RADIUS].sum() / de.sum() > 0.95


@pytest.mark.parametrize("pdg,energy", [(11, 1000.0), (22, 1000.0), (-11, 300.0), (11, 30.0)])
def test_em_energy_conservation(pdg, energy):
    ev = transport(primaries(pdg, energy), np.random.default_rng(31), BIG)
    escape = ev.particles["energy_escape"].sum()
    # positrons bring their rest mass back through annihilation photons
    extra = 2 * 0.51099895 if pdg == -11 else 0.0
    assert ev.deposits.de.sum() + escape == pytest.approx(energy + extra, rel=0.01)


def test_energy_accounting_in_the_detector_box():
    # a shower near a wall: deposited + carried out = initial
    cfg = PhysicsConfig()
    ev = transport(primaries(11, 800.0, pos=(20.0, 0.0, 500.0), direction=(-1.0, 0.2, 0.3)),
                   np.random.default_rng(32), cfg)
    escaped = ev.particles["energy_escape"].sum()
    assert escaped > 10.0
    assert ev.deposits.de.sum() + escaped == pytest.approx(800.0, rel=0.01)
    box = np.array(cfg.bounding_box)
    d = ev.deposits
    assert np.all((d.x >= box[0] - 1e-6) & (d.x <= box[1] + 1e-6) & (d.z >= box[4] - 1e-6))


def test_shower_descendants_are_electromagnetic():
    for pdg in (11, 22):
        ev = transport(primaries(pdg, 1000.0), np.random.default_rng(33), BIG)
        p = ev.particles
        kids = descendants_mask(p, 0)
        assert kids.sum() > 50
        assert np.all(is_shower_pdg(p["pdg"][kids]))
        assert set(p["process"][kids]) <= {b"eBrem", b"conv", b"compt", b"eIoni", b"annihil"}


def test_electron_tracks_are_wiggly():
    # a 30 MeV electron (below Ec) is a track with large multiple scattering
    ev = transport(primaries(11, 30.0), np.random.default_rng(34), BIG)
    p = ev.particles[0]
    straight = np.linalg.norm(p["end"][:3] - p["start"][:3])
    assert p["length"] > 1.2 * straight
