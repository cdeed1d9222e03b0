"""Transport invariants (issue 11): step lengths, dE/dx bounds, local deposits, energy bookkeeping, daughters.

The checks live in ``larseg.physics.invariants``; these tests run them over
events of every generator preset and over single particles of every species,
show that each check catches a doctored event, and pin the defect of issue 11
(an e+- that stopped showering and left one straight deposit of hundreds of MeV).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from physics_helpers import BIG_BOX, primaries

from larseg.config import list_presets, load_preset
from larseg.physics import PhysicsConfig, transport
from larseg.physics import constants as C
from larseg.physics.invariants import check_event, energy_balance, particle_ledger
from larseg.physics.transport import mass_of
from larseg.simulation.pipeline import transport_entry

PRESETS = list_presets("simulation")["simulation"]
SPECIES = (11, -11, 22, 13, -13, 211, -211, 321, -321, 2212, 111)


def _preset_violations(name: str, n: int, seed: int) -> tuple[list[str], int]:
    cfg = load_preset("simulation", name)
    found: list[str] = []
    long_lepton_steps = 0
    for i in range(n):
        _, event, _ = transport_entry(cfg, seed, i)
        found += [f"{name} event {i}: {v}" for v in check_event(event, cfg.physics, limit=2)]
        d = event.deposits
        lepton = np.abs(event.particles["pdg"][d.track]) == C.ELECTRON
        long_lepton_steps += int(np.sum(lepton & (d.dx > cfg.physics.max_step * (1 + 1e-9)) & ~d.local))
        # a local deposit is below the tracking cut, so never a long e+- line
        long_lepton_steps += int(np.sum(lepton & d.local & (d.de > cfg.physics.electron_cut * (1 + 1e-9))))
    return found, long_lepton_steps


def test_issue_11_event_has_no_long_electron_step():
    # mpv seed 1003 entry 162 (the mpv-test sample): before the fix, the 951 MeV primary electron put
    # 648 MeV into ONE deposit of dx = 291.6 cm (a capped particle ended as STOPPED after a bremsstrahlung)
    cfg = load_preset("simulation", "mpv")
    _, event, _ = transport_entry(cfg, 1003, 162)
    d = event.deposits
    primary = event.particles[0]
    assert primary["pdg"] == C.ELECTRON and primary["kinetic"] == pytest.approx(951.0, abs=1.0)
    assert d.dx.max() < 0.5  # the longest is a local deposit of <= 1 MeV (its CSDA range, 0.42 cm)
    assert d.de.max() <= cfg.physics.delta_threshold * 3
    assert check_event(event, cfg.physics) == []


@pytest.mark.parametrize("name", PRESETS)
def test_preset_events_are_physical(name):
    found, long_steps = _preset_violations(name, 50, seed=1003)
    assert long_steps == 0
    assert found == []


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESETS)
def test_preset_events_are_physical_1000(name):
    found, long_steps = _preset_violations(name, 1000, seed=1003)
    assert long_steps == 0
    assert found[:10] == []


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(pdg=st.sampled_from(SPECIES), log_t=st.floats(0.0, np.log10(3000.0)), seed=st.integers(0, 2**31),
       bounded=st.booleans(), cos_t=st.floats(-1.0, 1.0), phi=st.floats(0.0, 2 * np.pi),
       frac=st.tuples(st.floats(0.02, 0.98), st.floats(0.02, 0.98), st.floats(0.02, 0.98)))
def test_single_particles_are_physical(pdg, log_t, seed, bounded, cos_t, phi, frac):
    """Every species from 1 MeV to 3 GeV, anywhere in the MicroBooNE box (or in unbounded argon)."""
    cfg = PhysicsConfig() if bounded else PhysicsConfig(bounding_box=BIG_BOX)
    box = np.array(PhysicsConfig().bounding_box)
    pos = box[0::2] + np.array(frac) * (box[1::2] - box[0::2])
    sin_t = np.sqrt(1.0 - cos_t**2)
    direction = (sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t)
    event = transport(primaries(pdg, 10.0**log_t, direction=direction, pos=pos), np.random.default_rng(seed), cfg)
    assert check_event(event, cfg) == []
    balance = energy_balance(event, cfg)
    assert abs(balance.residual) < 1e-6 * (balance.initial + balance.released + 1.0)


def test_muon_decay_invisible_energy_is_the_neutrinos():
    """mu+ at rest -> e+ nu nu: what the ledger calls invisible is m_mu - E_e; the Michel spectrum
    2x^2(3 - 2x) (x = E_e / 52.83 MeV) has mean x = 0.7, so <invisible> = 105.66 - 0.7 * 52.83 = 68.68 MeV."""
    cfg = PhysicsConfig(bounding_box=BIG_BOX)
    event = transport(primaries(-13, 20.0, n=400), np.random.default_rng(11), cfg)
    led = particle_ledger(event, cfg)
    mu = event.particles["pdg"] == -13
    assert np.all(led["released"][mu] == pytest.approx(C.MUON_MASS))
    michel_mean = 0.7 * (C.MUON_MASS**2 + C.ELECTRON_MASS**2) / (2 * C.MUON_MASS)
    assert led["invisible"][mu].mean() == pytest.approx(C.MUON_MASS - michel_mean, abs=1.0)
    # and nothing else in these events is invisible (EM particles and the positron's annihilation)
    assert np.abs(led["invisible"][~mu]).max() < 1e-6


def _event():
    return transport(primaries(13, 300.0, pos=(100.0, 0.0, 500.0)), np.random.default_rng(3), PhysicsConfig())


def test_checks_catch_a_long_step():
    event = _event()
    assert check_event(event) == []
    bad = copy.deepcopy(event)
    i = int(np.nonzero(~bad.deposits.local)[0][10])
    bad.deposits.dx[i] = 0.5
    assert [v.kind for v in check_event(bad)] == ["step"]


def test_checks_catch_an_impossible_loss():
    bad = copy.deepcopy(_event())
    i = int(np.nonzero(~bad.deposits.local)[0][10])
    moved = 40.0
    bad.deposits.de[i] += moved
    bad.deposits.de[i + 1] -= moved  # the particle's total is unchanged
    assert "dedx" in {v.kind for v in check_event(bad)}


def test_checks_catch_lost_energy_and_a_misplaced_daughter():
    # an electron cannot lose energy unseen (a muon can: its neutrinos; see the Michel test above)
    electron = transport(primaries(11, 300.0, pos=(100.0, 0.0, 500.0)), np.random.default_rng(4), PhysicsConfig())
    assert check_event(electron) == []
    bad = copy.deepcopy(electron)
    bad.deposits.de[np.nonzero(bad.deposits.track == 0)[0][:50]] *= 0.9
    assert "energy" in {v.kind for v in check_event(bad)}
    event = _event()
    bad = copy.deepcopy(event)
    child = int(np.nonzero(bad.particles["parent_id"] == 0)[0][0])
    bad.particles["start"][child, :3] += (0.0, 5.0, 0.0)
    assert "daughter" in {v.kind for v in check_event(bad)}


def test_checks_catch_a_big_local_deposit():
    bad = copy.deepcopy(_event())
    loc = np.nonzero(bad.deposits.local)[0]
    assert loc.size
    bad.deposits.de[loc[0]] = 50.0
    assert "local" in {v.kind for v in check_event(bad)}


def test_unstable_particle_rest_energy_is_released():
    # pi+ at rest -> mu+ nu -> e+ nu nu nu: the pion's and muon's masses are released, the neutrinos are invisible
    cfg = PhysicsConfig(bounding_box=BIG_BOX)
    event = transport(primaries(211, 30.0, n=50), np.random.default_rng(5), cfg)
    led = particle_ledger(event, cfg)
    pdg = event.particles["pdg"]
    decayed = (pdg == 211) & np.isin(np.arange(len(pdg)), event.particles["parent_id"][
        event.particles["process"] == b"Decay"])
    assert decayed.sum() > 10
    assert np.all(led["released"][decayed] == pytest.approx(mass_of([211])[0]))
    # pi+ -> mu+ nu at rest: the neutrino takes 29.79 MeV (two-body)
    assert np.median(led["invisible"][decayed]) == pytest.approx(29.79, abs=0.05)
