"""Shared test fixtures: where the shared reference files are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``../shared`` beside the checkout (override with LARSEG_SHARED)."""
    env = os.environ.get("LARSEG_SHARED")
    return Path(env) if env else REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not path.is_dir():
        pytest.fail(f"shared reference material not found at {path} (set LARSEG_SHARED)")
    return path


@pytest.fixture
def one_thread():
    """Tiny test networks run fastest on one thread (a shared machine's busy cores make 2 threads crawl)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
