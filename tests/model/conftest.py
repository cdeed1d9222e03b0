"""Fixtures of the model tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_thread():
    """Small test networks run fastest on one thread (and a shared machine's busy cores make 2 threads crawl)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
