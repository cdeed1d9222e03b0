"""Charge physics: recombination, electron lifetime, diffusion and charge conservation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from detector_helpers import MIP_DEDX, W_ION, line, particle_table, quiet
from scipy.stats import norm

from larseg.detector import (
    ChargeConfig,
    DetectorConfig,
    Geometry,
    drift_charge,
    recombination_factor,
    render,
    simulate_planes,
)
from larseg.physics.truth import Deposits

V_DRIFT = 0.1114  # cm/us


def box(dedx, field=0.273, alpha=0.93, beta=0.212, rho=1.3954):
    """Modified box model (ArgoNeuT), written out independently of the code."""
    xi = beta * dedx / (rho * field)
    return np.log(alpha + xi) / xi


def test_mip_recombination_modified_box():
    r = float(recombination_factor(MIP_DEDX))
    # xi = 0.212 * 2.12 / (1.3954 * 0.273) = 1.180; R = ln(2.110) / 1.180 = 0.633 at MicroBooNE's 273 V/cm.
    assert r == pytest.approx(0.6328, abs=5e-4)
    # At ArgoNeuT's ~0.48 kV/cm the same fit gives the familiar ~0.70 for a MIP.
    at_argoneut = float(recombination_factor(MIP_DEDX, ChargeConfig(field_kv_per_cm=0.481)))
    assert at_argoneut == pytest.approx(0.70, abs=0.01)
    # Birks (ICARUS A = 0.8, k = 0.0486) agrees within 2% for a MIP at 273 V/cm.
    birks = float(recombination_factor(MIP_DEDX, ChargeConfig(recombination="birks")))
    assert birks == pytest.approx(0.8 / (1 + 0.0486 * MIP_DEDX / (1.3954 * 0.273)))
    assert abs(birks - r) < 0.02


def test_recombination_falls_with_dedx_and_is_floored():
    dedx = np.array([1.0, 2.12, 5.0, 10.0, 20.0, 40.0])
    r = recombination_factor(dedx)
    np.testing.assert_allclose(r, box(dedx), rtol=1e-12)
    assert np.all(np.diff(r) < 0)
    # Below 1 MeV/cm the box fit is not used (it turns negative near 0.37 MeV/cm).
    assert float(recombination_factor(0.2)) == pytest.approx(float(box(1.0)))


def test_electron_lifetime_attenuation():
    tau_us = 15000.0
    x = np.array([1.0, 60.0, 128.0, 250.0])
    n = len(x)
    dep = Deposits(x, np.zeros(n), np.full(n, 500.0), np.zeros(n), np.full(n, 0.106), np.full(n, 0.05),
                   np.zeros(n, dtype=np.int32))
    q = drift_charge(dep, DetectorConfig()).electrons
    produced = 0.106 / W_ION * box(MIP_DEDX)
    np.testing.assert_allclose(q, produced * np.exp(-(x / V_DRIFT) / tau_us), rtol=1e-9)
    # Across the full 2.3 ms drift a 15 ms lifetime keeps about 86% of the charge.
    assert q[-1] / q[0] == pytest.approx(np.exp(-(249.0 / V_DRIFT) / tau_us), rel=1e-9)


def test_charge_conservation_on_every_plane(event):
    deposits, particles, vertex = event
    config = quiet()
    planes = simulate_planes(deposits, particles, vertex, config, np.random.default_rng(0))
    dedx = np.maximum(deposits.de / deposits.dx, 1.0)
    expected = np.sum(deposits.de / W_ION * box(dedx) * np.exp(-(deposits.x / V_DRIFT) / 15000.0))
    for p in planes:
        collected = p.value.astype(np.float64).sum() * config.response.electrons_per_unit
        assert collected == pytest.approx(expected, rel=5e-3), p.name


def _point_image(x, plane, config):
    """Dense image of one point-like deposit (0.05 cm step) at (x, 0, 300) on a wire."""
    dep = Deposits(np.array([x]), np.zeros(1), np.array([300.0]), np.zeros(1), np.array([0.106]), np.array([0.05]),
                   np.zeros(1, dtype=np.int32))
    planes = simulate_planes(dep, particle_table([13]), [x, 0.0, 300.0], config, np.random.default_rng(0))
    return render(planes)[plane].image.astype(np.float64)


@pytest.mark.parametrize("x", [50.0, 200.0])
def test_diffusion_widths_grow_as_sqrt_2Dt(x):
    config = quiet(time_sigma_ticks=(0.0, 0.0, 0.0), wire_sigma=(0.0, 0.0, 0.0))
    image = _point_image(x, 2, config)
    t_us = x / V_DRIFT
    sigma_t = np.sqrt(2 * 6.0e-6 * t_us) / 0.3  # wires (D_T = 6 cm^2/s)
    sigma_l = np.sqrt(2 * 3.74e-6 * t_us) / (V_DRIFT * 0.5) / 6  # rows (D_L = 3.74 cm^2/s)
    cols = image.sum(axis=0) / image.sum()
    wire = 1000  # z = 300 cm
    k = np.arange(-3, 4)
    expected_cols = norm.cdf((k + 0.5) / sigma_t) - norm.cdf((k - 0.5) / sigma_t)
    np.testing.assert_allclose(cols[wire - 3 : wire + 4], expected_cols, atol=3e-3)
    rows = image.sum(axis=1) / image.sum()
    rho = float(Geometry(config).row_coordinate(x))
    r = np.arange(int(rho) - 3, int(rho) + 4)
    expected_rows = norm.cdf((r + 0.5 - rho) / sigma_l) - norm.cdf((r - 0.5 - rho) / sigma_l)
    np.testing.assert_allclose(rows[r], expected_rows, atol=3e-3)


def test_long_steps_spread_their_charge_along_their_length():
    # 1 cm steps along z near the anode (little diffusion): without sub-steps only every
    # third or fourth wire would see charge.
    config = quiet(wire_sigma=(0.0, 0.0, 0.0))
    dep = line([5.0, 0.0, 300.0], [0.0, 0.0, 1.0], 60.0, step=1.0)
    planes = simulate_planes(dep, particle_table([13]), [5.0, 0.0, 300.0], config, np.random.default_rng(0))
    y = planes[2]
    per_wire = np.bincount(y.col, weights=y.value.astype(np.float64))
    interior = per_wire[1010:1190]  # wires 1000 - 1200 are z = 300 - 360 cm
    assert interior.min() > 0
    assert interior.std() / interior.mean() < 0.05


def test_deposits_outside_the_active_volume_collect_nothing():
    config = quiet()
    outside = line([-5.0, 0.0, 300.0], [0.0, 0.0, 1.0], 10.0)
    beyond = line([100.0, 120.0, 300.0], [0.0, 0.0, 1.0], 10.0)
    dep = Deposits.concatenate([outside, beyond])
    assert len(drift_charge(dep, config)) == 0
    planes = simulate_planes(dep, particle_table([13]), [100.0, 0.0, 300.0], config, np.random.default_rng(0))
    assert all(len(p) == 0 for p in planes)


def test_birks_option_changes_only_recombination():
    dep = line([100.0, 0.0, 300.0], [0.0, 0.0, 1.0], 10.0)
    cfg = DetectorConfig()
    birks = dataclasses.replace(cfg, charge=dataclasses.replace(cfg.charge, recombination="birks"))
    ratio = drift_charge(dep, birks).electrons / drift_charge(dep, cfg).electrons
    expected = (0.8 / (1 + 0.0486 * MIP_DEDX / (1.3954 * 0.273))) / box(MIP_DEDX)
    np.testing.assert_allclose(ratio, expected, rtol=1e-9)
