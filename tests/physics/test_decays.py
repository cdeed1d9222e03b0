"""Decays and captures at rest and in flight."""

from __future__ import annotations

import numpy as np
import pytest
from physics_helpers import BIG_BOX, primaries
from scipy import stats

from larseg.physics import PhysicsConfig, transport
from larseg.physics.constants import MICHEL_ENDPOINT, MUON_MASS, PION_MASS, PION_ZERO_MASS

BIG = PhysicsConfig(bounding_box=BIG_BOX)


def test_michel_spectrum():
    n = 1500
    ev = transport(primaries(-13, 0.5, n), np.random.default_rng(41), BIG)
    p = ev.particles
    michel = p[(p["process"] == b"Decay") & (p["pdg"] == -11)]
    assert len(michel) == n  # every mu+ decays
    x = michel["energy_init"] / MICHEL_ENDPOINT
    assert x.max() <= 1.0
    # dN/dx ~ x^2 (3 - 2x): CDF 2x^3 - x^4
    assert stats.kstest(x, lambda v: 2 * v**3 - v**4).pvalue > 1e-3
    # isotropic
    assert abs(np.mean(michel["momentum"][:, 2] / np.linalg.norm(michel["momentum"], axis=1))) < 0.08
    # decay times follow the muon lifetime
    assert np.mean(michel["start"][:, 3]) == pytest.approx(2197.0, rel=0.1)


def test_mu_minus_capture_fraction():
    n = 1000
    ev = transport(primaries(13, 0.5, n), np.random.default_rng(42), BIG)
    p = ev.particles
    decayed = np.unique(p["parent_id"][(p["process"] == b"Decay") & (p["pdg"] == 11)])
    assert 1.0 - len(decayed) / n == pytest.approx(0.75, abs=0.05)
    assert np.all(np.isin(p["process"][n:], [b"Decay", b"muMinusCaptureAtRest", b"eBrem", b"compt", b"conv",
                                              b"eIoni", b"annihil"]))


def test_pi_plus_at_rest_gives_muon_then_positron():
    n = 200
    ev = transport(primaries(211, 0.0, n), np.random.default_rng(43), BIG)
    p = ev.particles
    mu = p[(p["parent_id"] < n) & (p["parent_id"] >= 0) & (p["pdg"] == -13)]
    assert len(mu) == n
    assert np.all(mu["process"] == b"Decay")
    np.testing.assert_allclose(mu["kinetic"], 4.12, atol=0.01)  # (m_pi^2 - m_mu^2)^2 / (2 m_pi) kinematics
    assert np.mean(mu["length"]) == pytest.approx(0.15, rel=0.1)  # about 1.5 mm
    e = p[np.isin(p["parent_id"], mu["track_id"]) & (p["pdg"] == -11) & (p["process"] == b"Decay")]
    assert len(e) == n


def test_pi_minus_at_rest_is_absorbed():
    n = 200
    ev = transport(primaries(-211, 0.0, n), np.random.default_rng(44), BIG)
    p = ev.particles
    kids = p[(p["parent_id"] >= 0) & (p["parent_id"] < n)]
    assert np.all(kids["process"] == b"hBertiniCaptureAtRest")
    assert set(kids["pdg"]) <= {2212, 22}
    assert np.sum(kids["pdg"] == 2212) > 0.5 * n  # a few protons per absorption, on average
    assert kids["kinetic"].sum() < n * PION_MASS


def test_pi0_decays_to_two_photons():
    kinetic = 300.0
    ev = transport(primaries(111, kinetic, 50), np.random.default_rng(45), BIG)
    p = ev.particles
    for i in range(50):
        g = p[(p["parent_id"] == i) & (p["process"] == b"Decay")]
        assert len(g) == 2 and np.all(g["pdg"] == 22)
        e = g["energy_init"].sum()
        pv = g["momentum"].sum(axis=0)
        assert e == pytest.approx(kinetic + PION_ZERO_MASS, rel=1e-9)
        assert np.sqrt(e * e - pv @ pv) == pytest.approx(PION_ZERO_MASS, rel=1e-6)


def test_kaon_decay_at_rest():
    n = 300
    ev = transport(primaries(321, 0.0, n), np.random.default_rng(46), BIG)
    p = ev.particles
    kids = p[(p["parent_id"] >= 0) & (p["parent_id"] < n)]
    mu = kids[kids["pdg"] == -13]
    pi = kids[kids["pdg"] == 211]
    assert len(mu) + len(pi) == n
    assert len(mu) / n == pytest.approx(0.755, abs=0.08)
    np.testing.assert_allclose(np.linalg.norm(mu["momentum"], axis=1), 235.5, rtol=1e-3)


def test_pion_decay_in_flight():
    # 200 MeV pi+: decay length beta gamma c tau ~ 16 m; a few percent decay before stopping
    n = 400
    cfg = PhysicsConfig(bounding_box=BIG_BOX, enable_hadronic=False, enable_delta_rays=False)
    ev = transport(primaries(211, 200.0, n), np.random.default_rng(47), cfg)
    p = ev.particles
    mu = p[(p["parent_id"] < n) & (p["parent_id"] >= 0) & (p["pdg"] == -13)]
    in_flight = mu["kinetic"] > 4.2
    assert 0.01 < in_flight.mean() < 0.10
    muon_energy = mu["energy_init"][in_flight]
    assert np.all(muon_energy > MUON_MASS)
