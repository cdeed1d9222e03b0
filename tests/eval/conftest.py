"""Fixtures of the evaluation tests: a tiny network checkpoint and small simulated samples."""

from __future__ import annotations

import pytest
from eval_helpers import write_checkpoint

from larseg.config import load_preset


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs its networks on one thread (fixture in tests/conftest.py)."""
    yield


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("model") / "best.pt")


@pytest.fixture(scope="session")
def sample_1e1p_le(tmp_path_factory):
    from larseg.simulation import simulate_file

    path = tmp_path_factory.mktemp("data") / "1e1p-le.h5"
    simulate_file(load_preset("simulation", "1e1p-le"), 3, path, seed=1)
    return path


@pytest.fixture(scope="session")
def sample_michel(tmp_path_factory):
    from larseg.simulation import simulate_file

    path = tmp_path_factory.mktemp("data") / "michel.h5"
    simulate_file(load_preset("simulation", "michel"), 2, path, seed=3)
    return path
