"""Fixtures of the evaluation tests: a tiny network checkpoint and small simulated samples."""

from __future__ import annotations

import pytest
import torch
from eval_helpers import write_checkpoint

from larseg.config import load_preset


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread (the machine's cores are shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
