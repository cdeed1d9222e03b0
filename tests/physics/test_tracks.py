"""Tracks (mu, pi, p): path length, Bragg peak, multiple scattering, fluctuations, delta rays."""

from __future__ import annotations

import numpy as np
import pytest
from physics_helpers import primaries, unbounded

from larseg.physics import PhysicsConfig, csda_range, transport
from larseg.physics.constants import ELECTRON_MASS, LAR_DENSITY, LAR_MEAN_EXCITATION, MUON_MIN_DEDX, RADIATION_LENGTH
from larseg.physics.fluctuations import fluctuate, landau_width
from larseg.physics.stopping import density_effect, kinematics, stopping_power


@pytest.mark.parametrize("kinetic", [50.0, 500.0])
def test_muon_mean_path_is_csda_range(kinetic):
    cfg = unbounded(enable_decays=False)
    event = transport(primaries(13, kinetic, 200), np.random.default_rng(11), cfg)
    length = event.particles["length"][:200]
    assert length.mean() == pytest.approx(float(csda_range(13, kinetic)), rel=0.02)
    # range straggling of muons: a few percent
    assert 0.005 < length.std() / length.mean() < 0.05


def test_proton_bragg_peak():
    cfg = unbounded(enable_hadronic=False)
    event = transport(primaries(2212, 150.0, 50), np.random.default_rng(12), cfg)
    dep, p = event.deposits, event.particles
    own = dep.track < 50
    end = p["end"][dep.track[own], :3]
    dist = np.linalg.norm(np.column_stack([dep.x[own], dep.y[own], dep.z[own]]) - end, axis=1)
    last_2cm = np.bincount(dep.track[own], weights=dep.de[own] * (dist < 2.0), minlength=50)
    assert np.all(last_2cm > 3.0 * MUON_MIN_DEDX * 2.0)
    # and the energy of a stopping proton is all deposited
    np.testing.assert_allclose(p["energy_deposit"][:50], 150.0, rtol=1e-9)


def test_highland_scattering_angle():
    # 1 GeV/c muons through a 14 cm (1 X0) slab: projected angle width vs the Highland formula
    p, m = 1000.0, 105.6583755
    kinetic = np.hypot(p, m) - m
    cfg = PhysicsConfig(bounding_box=(-1e4, 1e4, -1e4, 1e4, -1.0, 14.0), enable_delta_rays=False,
                        enable_decays=False, enable_hadronic=False)
    n = 2000
    event = transport(primaries(13, kinetic, n), np.random.default_rng(13), cfg)
    d = event.deposits
    last = np.nonzero(np.diff(np.append(d.track, -1)))[0]
    last = last[d.track[last] < n]
    v = np.column_stack([d.x[last] - d.x[last - 1], d.y[last] - d.y[last - 1], d.z[last] - d.z[last - 1]])
    theta_x = np.arctan2(v[:, 0], v[:, 2])
    theta_y = np.arctan2(v[:, 1], v[:, 2])
    beta = p / np.hypot(p, m)
    x = 14.0
    theta0 = 13.6 / (beta * p) * np.sqrt(x / RADIATION_LENGTH) * (1 + 0.038 * np.log(x / (RADIATION_LENGTH * beta**2)))
    assert theta_x.std() == pytest.approx(theta0, rel=0.1)
    assert theta_y.std() == pytest.approx(theta0, rel=0.1)
    # lateral displacement: PDG y_rms = x theta0 / sqrt(3)
    end = event.particles["end"][:n]
    assert end[:, 0].std() == pytest.approx(x * theta0 / np.sqrt(3.0), rel=0.15)


def test_landau_most_probable_loss():
    # most probable loss of a 1 GeV muon in 0.3 cm (one wire pitch) vs the PDG Landau-Vavilov formula
    dx, kinetic = 0.3, 1000.0
    beta2, gamma, _ = kinematics(np.array([kinetic]), 105.6583755)
    beta2 = float(beta2[0])
    bg = np.sqrt(beta2) * float(gamma[0])
    xi = float(landau_width(dx, beta2))
    delta = float(density_effect(np.array([bg]))[0])
    i = LAR_MEAN_EXCITATION
    mpv = xi * (np.log(2 * ELECTRON_MASS * bg**2 / i) + np.log(xi / i) + 0.200 - beta2 - delta)
    n = 200_000
    mean = np.full(n, float(stopping_power(13, kinetic, 2.0)) * dx)
    de = fluctuate(mean, np.full(n, dx), np.full(n, beta2), np.full(n, 2.0), np.random.default_rng(14))
    hist, edges = np.histogram(de, bins=300, range=(0.3, 0.9))
    measured = edges[np.argmax(hist)] + 0.001
    assert measured == pytest.approx(mpv, rel=0.1)
    assert de.mean() == pytest.approx(mean[0], rel=0.01)  # the fluctuations keep the mean loss


def _pdg_delta_density(t_delta, kinetic, mass):
    """PDG eq. 34.6 for a spin-1/2 projectile: d2N/dT dx [1/(MeV cm)]."""
    me = ELECTRON_MASS
    e = kinetic + mass
    gamma = e / mass
    beta2 = 1.0 - 1.0 / gamma**2
    tmax = 2 * me * beta2 * gamma**2 / (1 + 2 * gamma * me / mass + (me / mass) ** 2)
    k_half = 0.5 * 0.307075 * 18 / 39.948 * LAR_DENSITY
    dens = k_half / beta2 / t_delta**2 * (1 - beta2 * t_delta / tmax + t_delta**2 / (2 * e * e))
    return np.where(t_delta < tmax, dens, 0.0), tmax


def test_delta_ray_spectrum_and_rate():
    from scipy import stats

    from larseg.physics.samplers import heavy_delta_energy

    mass, kinetic, cut = 105.6583755, 1000.0, 2.0
    # spectrum at fixed muon energy: KS test against the PDG density
    _, tmax = _pdg_delta_density(np.array([cut]), kinetic, mass)
    n = 5000
    t = heavy_delta_energy(np.full(n, kinetic), np.full(n, mass), np.full(n, True), cut, np.full(n, tmax),
                           np.random.default_rng(15))
    grid = np.geomspace(cut, tmax, 4000)
    dens, _ = _pdg_delta_density(grid, kinetic, mass)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    cdf /= cdf[-1]
    assert stats.kstest(t, lambda x: np.interp(x, grid, cdf)).pvalue > 1e-3
    # number along stopping 1 GeV muons: integral of the PDG rate over the slowing-down
    cfg = unbounded(enable_decays=False, delta_threshold=cut)
    n_mu = 100
    event = transport(primaries(13, kinetic, n_mu), np.random.default_rng(16), cfg)
    p = event.particles
    n_delta = np.sum((p["process"] == b"muIoni") & (p["parent_id"] < n_mu))
    energies = np.linspace(1.0, kinetic, 3000)
    rate = []
    for e in energies:
        g = np.geomspace(cut, 1e3, 2000)
        d, _ = _pdg_delta_density(g, e, mass)
        rate.append(np.sum(0.5 * (d[1:] + d[:-1]) * np.diff(g)))
    per_muon = np.sum(np.array(rate) / stopping_power(13, energies) * np.gradient(energies))
    expected = n_mu * per_muon
    assert n_delta == pytest.approx(expected, rel=3 * np.sqrt(expected) / expected + 0.03)


def test_steps_are_below_pixel_scale():
    event = transport(primaries(13, 300.0), np.random.default_rng(16), unbounded())
    d = event.deposits
    own = d.track == 0
    assert d.dx[own].max() <= 0.1 + 1e-9
    assert np.all(d.de >= 0)


def test_proton_nuclear_interaction_length():
    # 1 GeV protons through 30 cm: the interacting fraction follows lambda_I = 85.8 cm (PDG, liquid argon)
    n, depth = 600, 30.0
    cfg = PhysicsConfig(bounding_box=(-1e3, 1e3, -1e3, 1e3, -1.0, depth), enable_delta_rays=False)
    event = transport(primaries(2212, 1000.0, n), np.random.default_rng(17), cfg)
    p = event.particles
    interacted = np.isin(np.arange(n), p["parent_id"][p["process"] == b"protonInelastic"])
    expected = 1.0 - np.exp(-depth / 85.8)
    assert interacted.mean() == pytest.approx(expected, abs=3 * np.sqrt(expected * (1 - expected) / n))
    # the others leave the slab at its far side carrying their energy out
    escaped = p[:n][~interacted]
    np.testing.assert_allclose(escaped["end"][:, 2], depth, atol=1e-6)
    assert np.all(escaped["energy_escape"] > 900.0)
