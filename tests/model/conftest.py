"""Fixtures of the model tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs its networks on one thread (fixture in tests/conftest.py)."""
    yield
