"""Fixtures of the inference tests."""

from __future__ import annotations

import pytest
from infer_helpers import save_checkpoint, tiny_model


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny test networks run fastest on one thread (the machine may be busy)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_ckpt(tmp_path):
    return save_checkpoint(tiny_model(), tmp_path / "tiny.pt")
