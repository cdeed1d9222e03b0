"""Fixtures of the training tests: tiny sample files written directly (no simulation)."""

from __future__ import annotations

import pytest
from train_helpers import write_sample


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("samples")
    return {
        "train": write_sample(d / "train.h5", n=12, seed=1),
        "val": write_sample(d / "val.h5", n=6, seed=2),
        "single": write_sample(d / "single.h5", n=10, seed=3, single=True),
        "single_val": write_sample(d / "single_val.h5", n=5, seed=4, single=True),
    }


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs its networks on one thread (fixture in tests/conftest.py)."""
    yield
