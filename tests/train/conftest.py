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
def one_thread():
    """Tiny networks run fastest on one thread (and a shared machine's busy cores make 2 threads crawl)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
