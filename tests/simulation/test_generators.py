"""Generators against the paper's sample definitions and neutrino kinematics."""

from __future__ import annotations

import numpy as np
import pytest

from larseg.config import load_preset
from larseg.physics.generators import generate, kinetic_from_momentum, mass, mpv_particles
from larseg.physics.neutrino import BINDING_ENERGY, neutrino_interaction

ACTIVE = (0.0, 256.35, -116.5, 116.5, 0.0, 1036.8)


def _events(preset, n, seed=0):
    cfg = load_preset("simulation", preset).generator
    rng = np.random.default_rng(seed)
    return [generate(cfg, ACTIVE, rng) for _ in range(n)]


def test_mpv_mix_follows_the_paper():
    cfg = load_preset("simulation", "mpv").generator
    main, low = cfg.mixes
    assert (main.weight, low.weight) == (0.8, 0.2)
    rng = np.random.default_rng(1)
    mults = []
    for _ in range(2000):
        parts = mpv_particles([main], rng)
        pdgs = [p for p, _ in parts]
        mults.append(len(parts))
        assert 1 <= len(parts) <= 4
        # one light lepton of 50-1000 MeV kinetic energy, always
        pdg0, p0 = parts[0]
        assert pdg0 in (11, 13) and 50 <= kinetic_from_momentum(pdg0, p0) <= 1000
        assert sum(p in (11, 13) for p in pdgs) <= 3
        assert sum(p == 2212 for p in pdgs) <= 3
        assert sum(p == 22 for p in pdgs) <= 2
        assert sum(abs(p) == 211 for p in pdgs) <= 2
    counts = np.bincount(mults, minlength=5)[1:] / len(mults)
    assert np.all(np.abs(counts - 0.25) < 0.04), counts  # uniform in 1-4
    ranges = {11: (30, 100), 22: (30, 100), 13: (85, 175), 211: (95, 195), -211: (95, 195), 2212: (300, 450)}
    for _ in range(2000):
        parts = mpv_particles([low], rng)
        assert 1 <= len(parts) <= 4
        for pdg, p in parts:
            lo, hi = ranges[pdg]
            assert lo <= p <= hi
        kinds = [11 if p == 11 else 22 if p == 22 else 13 if p == 13 else 211 if abs(p) == 211 else 2212
                 for p, _ in parts]
        assert max(np.bincount(np.abs(kinds))) <= 2
    # the two parts mixed 80/20: low-energy events have no particle above 450 MeV/c
    n_le = sum(all(p <= 450 for _, p in mpv_particles(cfg.mixes, rng)) for _ in range(3000))
    n_main_below = sum(all(p <= 450 for _, p in mpv_particles([main], rng)) for _ in range(3000))
    frac_le = (n_le / 3000 - 0.8 * n_main_below / 3000) / 0.2
    assert abs(frac_le - 1.0) < 0.15


@pytest.mark.parametrize(
    "preset, ranges",
    [
        ("1e1p", {11: ("T", 50, 500), 2212: ("T", 50, 300)}),
        ("1e1p-le", {11: ("p", 30, 100), 2212: ("p", 300, 450)}),
        ("1mu1p-le", {13: ("p", 85, 175), 2212: ("p", 300, 450)}),
    ],
)
def test_benchmark_samples(preset, ranges):
    events = _events(preset, 300)
    values = {pdg: [] for pdg in ranges}
    for ev in events:
        assert sorted(p.pdg for p in ev.primaries) == sorted(ranges)
        for p in ev.primaries:
            assert np.allclose(p.position[:3], ev.vertex)
            kind, lo, hi = ranges[p.pdg]
            v = p.kinetic if kind == "T" else float(np.linalg.norm(p.momentum))
            assert lo - 1e-6 <= v <= hi + 1e-6
            values[p.pdg].append(v)
    for pdg, (_kind, lo, hi) in ranges.items():
        v = np.array(values[pdg])
        # uniform: mean in the middle, both ends populated
        assert abs(v.mean() - (lo + hi) / 2) < 0.08 * (hi - lo)
        assert v.min() < lo + 0.1 * (hi - lo) and v.max() > hi - 0.1 * (hi - lo)


def test_isotropic_directions():
    dirs = np.array([p.momentum / np.linalg.norm(p.momentum) for ev in _events("1e1p", 1000) for p in ev.primaries])
    assert np.all(np.abs(dirs.mean(axis=0)) < 0.06)
    assert abs(np.mean(dirs[:, 2] ** 2) - 1 / 3) < 0.03


def test_single_sample_types_are_uniform():
    pdgs = [ev.primaries[0].pdg for ev in _events("single", 2000)]
    values, counts = np.unique(pdgs, return_counts=True)
    assert sorted(values.tolist()) == [-211, 11, 13, 22, 2212]
    assert np.all(np.abs(counts / 2000 - 0.2) < 0.04)


def test_ccqe_energy_reconstruction():
    """The textbook QE formula recovers the neutrino energy from the muon alone (Fermi smearing ~10%)."""
    cfg = load_preset("simulation", "numu-cc").generator.neutrino
    cfg.qe, cfg.mec, cfg.res, cfg.dis = 1.0, 0.0, 0.0, 0.0
    rng = np.random.default_rng(3)
    m_mu, m_n, m_p = mass(13), mass(2112), mass(2212)
    mp = m_n - BINDING_ENERGY
    ratios = []
    for _ in range(400):
        ev = neutrino_interaction(cfg, np.zeros(3), rng)
        assert ev.mode == "QE" and [p.pdg for p in ev.primaries] == [13, 2212]
        mu = ev.primaries[0].momentum
        p_mu = np.linalg.norm(mu)
        e_mu = np.sqrt(p_mu ** 2 + m_mu ** 2)
        cos = mu[2] / p_mu
        e_qe = (2 * mp * e_mu - (mp ** 2 + m_mu ** 2 - m_p ** 2)) / (2 * (mp - e_mu + p_mu * cos))
        ratios.append(e_qe / ev.nu_energy)
    ratios = np.array(ratios)
    assert abs(np.median(ratios) - 1.0) < 0.03
    assert 0.02 < np.std(ratios) < 0.2


def test_neutrino_spectrum_and_modes():
    events = _events("numu-cc", 600)
    energies = np.array([ev.nu_energy for ev in events])
    assert 700 < energies.mean() < 1000  # gamma(mean 800) truncated to 0.2-3 GeV
    modes = [ev.mode for ev in events]
    assert {"QE", "MEC", "RES", "DIS"} <= set(modes)
    assert all(ev.primaries[0].pdg == 13 and ev.nu_pdg == 14 for ev in events)
    nue = _events("nue-cc", 50)
    assert all(ev.primaries[0].pdg == 11 and ev.nu_pdg == 12 for ev in nue)
    pi0 = _events("ccpi0", 50)
    assert all(any(p.pdg == 111 for p in ev.primaries) for ev in pi0)


def test_lepton_momentum_below_neutrino_energy():
    for ev in _events("numu-cc", 300, seed=5):
        assert np.linalg.norm(ev.primaries[0].momentum) < ev.nu_energy


def test_generation_is_reproducible():
    a = _events("mpv", 20, seed=9)
    b = _events("mpv", 20, seed=9)
    for x, y in zip(a, b):
        assert np.array_equal(x.as_array(), y.as_array())
