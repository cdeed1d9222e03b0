"""Where a file or checkpoint came from: larseg version and git commit."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from larseg._version import __version__


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the larseg source tree, or 'unknown' outside a git checkout.

    ``LARSEG_GIT_COMMIT`` overrides it (for installs from a wheel in a batch job).
    A tree with uncommitted changes gets a ``-dirty`` suffix.
    """
    env = os.environ.get("LARSEG_GIT_COMMIT")
    if env:
        return env
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here, capture_output=True, text=True, timeout=5,
        )
        suffix = "-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else ""
        return commit.stdout.strip() + suffix
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance() -> dict[str, str]:
    """The record stored in every dataset file and checkpoint."""
    return {"larseg_version": __version__, "git_commit": git_commit()}
