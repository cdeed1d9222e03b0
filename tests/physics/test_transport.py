"""The transport contract: table, deposits, determinism, config."""

from __future__ import annotations

import numpy as np
import pytest
from physics_helpers import BIG_BOX, descendants_mask, primaries

from larseg.config.base import from_dict
from larseg.errors import ConfigError
from larseg.physics import PARTICLE_DTYPE, PhysicsConfig, SimEvent, transport


def _mixed():
    return np.concatenate([
        primaries(11, 400.0, direction=(1, 0, 0), pos=(128.0, 0.0, 500.0)),
        primaries(13, 300.0, direction=(0, 1, 1), pos=(128.0, 0.0, 500.0)),
        primaries(2212, 120.0, direction=(0, 0, -1), pos=(128.0, 0.0, 500.0)),
        primaries(22, 200.0, direction=(-1, 1, 0), pos=(128.0, 0.0, 500.0)),
        primaries(-211, 150.0, direction=(1, -1, 0), pos=(128.0, 0.0, 500.0)),
    ])


def test_table_and_deposits_are_consistent():
    ev = transport(_mixed(), np.random.default_rng(51), PhysicsConfig())
    assert isinstance(ev, SimEvent)
    p, d = ev.particles, ev.deposits
    assert p.dtype == PARTICLE_DTYPE
    np.testing.assert_array_equal(p["track_id"], np.arange(len(p)))
    np.testing.assert_array_equal(p["parent_id"][:5], -1)
    assert np.all(p["process"][:5] == b"primary")
    assert np.all(p["parent_id"][5:] < np.arange(5, len(p)))  # parents come first
    assert np.all(p["parent_id"][5:] >= 0)
    # ancestors are the primaries
    for i in range(5):
        np.testing.assert_array_equal(p["ancestor_id"][descendants_mask(p, i)], i)
    assert np.all((d.track >= 0) & (d.track < len(p)))
    assert np.all(d.de >= 0) and np.all(d.dx > 0)
    np.testing.assert_allclose(np.bincount(d.track, d.de, minlength=len(p)), p["energy_deposit"])
    np.testing.assert_allclose(ev.vertex, (128.0, 0.0, 500.0))
    # kinematics at creation
    mass = p["energy_init"] - p["kinetic"]
    np.testing.assert_allclose(np.linalg.norm(p["momentum"], axis=1) ** 2,
                               p["energy_init"] ** 2 - mass**2, rtol=1e-6, atol=1e-6)
    # times are causal
    assert np.all(p["start"][5:, 3] >= p["start"][p["parent_id"][5:], 3] - 1e-9)


def test_deterministic():
    a = transport(_mixed(), np.random.default_rng(7), PhysicsConfig())
    b = transport(_mixed(), np.random.default_rng(7), PhysicsConfig())
    c = transport(_mixed(), np.random.default_rng(8), PhysicsConfig())
    assert a.particles.tobytes() == b.particles.tobytes()
    for name in ("x", "y", "z", "t", "de", "dx", "track"):
        assert getattr(a.deposits, name).tobytes() == getattr(b.deposits, name).tobytes()
    assert len(a.deposits) != len(c.deposits) or not np.array_equal(a.deposits.x, c.deposits.x)


def test_particles_leaving_the_box_stop_depositing():
    cfg = PhysicsConfig()
    ev = transport(primaries(13, 1000.0, pos=(128.0, 100.0, 500.0), direction=(0, 1, 0)),
                   np.random.default_rng(52), cfg)
    mu = ev.particles[0]
    assert mu["end"][1] == pytest.approx(116.5)
    assert mu["length"] == pytest.approx(16.5, rel=0.05)
    assert mu["energy_escape"] > 900.0
    d = ev.deposits
    assert np.all(d.y <= 116.5 + 1e-9)
    assert mu["energy_deposit"] + mu["energy_escape"] + sum(
        ev.particles["kinetic"][ev.particles["parent_id"] == 0]) == pytest.approx(1000.0, rel=0.01)


def test_long_tracks_inside_the_box_are_continued():
    # a muon whose path budget is shorter than its range but that stays inside: same result as unbounded
    cfg = PhysicsConfig(bounding_box=(-1e3, 1e3, -1e3, 1e3, -1e3, 30.0), enable_decays=False)
    ev = transport(primaries(13, 500.0, direction=(0.0, 0.0, -1.0)), np.random.default_rng(53), cfg)
    mu = ev.particles[0]
    assert mu["energy_escape"] == 0.0
    kids = ev.particles["parent_id"] == 0
    assert mu["energy_deposit"] + ev.particles["kinetic"][kids].sum() == pytest.approx(500.0, rel=1e-6)
    assert mu["length"] == pytest.approx(217.6, rel=0.08)


def test_energy_conservation_of_tracks():
    cfg = PhysicsConfig(bounding_box=BIG_BOX, enable_hadronic=False)
    ev = transport(primaries(2212, 300.0), np.random.default_rng(54), cfg)
    assert ev.deposits.de.sum() == pytest.approx(300.0, rel=1e-6)
    cfg = PhysicsConfig(bounding_box=BIG_BOX, enable_decays=False)
    ev = transport(primaries(13, 800.0), np.random.default_rng(55), cfg)
    assert ev.deposits.de.sum() + ev.particles["energy_escape"].sum() == pytest.approx(800.0, rel=0.01)


def test_config_from_dict():
    cfg = from_dict(PhysicsConfig, {"max_step": 0.05, "bounding_box": None, "enable_hadronic": False})
    assert cfg.max_step == 0.05 and cfg.bounding_box is None
    cfg = from_dict(PhysicsConfig, {"bounding_box": [0, 10, 0, 10, 0, 10]})
    assert cfg.bounding_box == (0.0, 10.0, 0.0, 10.0, 0.0, 10.0)
    with pytest.raises(ConfigError):
        from_dict(PhysicsConfig, {"max_step": -1.0})
    with pytest.raises(ConfigError):
        from_dict(PhysicsConfig, {"bounding_box": [0, -1, 0, 1, 0, 1]})


def test_unsupported_primaries_are_rejected():
    with pytest.raises(ValueError):
        transport([(1000180400, 0, 0, 0, 0, 0, 0, 100)], np.random.default_rng(1))
    ev = transport([(2112, 10, 0, 10, 0, 0, 0, 100), (14, 10, 0, 10, 0, 0, 0, 500)], np.random.default_rng(1))
    assert len(ev.particles) == 2 and len(ev.deposits) == 0
