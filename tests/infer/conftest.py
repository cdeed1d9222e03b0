"""Fixtures of the inference tests."""

from __future__ import annotations

import pytest
from infer_helpers import save_checkpoint, tiny_model


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs its networks on one thread (fixture in tests/conftest.py)."""
    yield


@pytest.fixture
def tiny_ckpt(tmp_path):
    return save_checkpoint(tiny_model(), tmp_path / "tiny.pt")
