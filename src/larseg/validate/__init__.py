"""``larseg validate``: the simulator against references larseg did not write.

Each module compares one part of the simulation with outside numbers and
returns :class:`~larseg.validate.checks.Check` rows (value, reference,
tolerance, source) plus one figure; :mod:`larseg.validate.report` writes them
as one HTML page.

* :mod:`~larseg.validate.showers`: EM showers vs PDG / Longo, ArgoNeuT;
* :mod:`~larseg.validate.geant4`: a 100 MeV muon vs a Geant4 record;
* :mod:`~larseg.validate.response`: the detector response vs MicroBooNE's kernels
  and noise spectrum.

The reference files are the project's shared fixtures (``shared/fixtures``
beside the repository, or ``$LARSEG_SHARED`` / ``--shared``).
"""

from __future__ import annotations

import os
from pathlib import Path

from larseg.validate.checks import Check


def shared_fixtures(shared: str | Path | None = None) -> Path:
    """The folder of reference files: ``SHARED/fixtures`` for ``shared`` or ``$LARSEG_SHARED``, else the
    ``shared/fixtures`` beside the current directory or beside the source checkout."""
    given = shared if shared is not None else os.environ.get("LARSEG_SHARED")
    if given:
        base = Path(given)
        return base / "fixtures" if (base / "fixtures").is_dir() else base
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = root.parent / "shared" / "fixtures"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "fixtures"


__all__ = ["Check", "shared_fixtures"]
