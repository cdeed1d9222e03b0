"""The ``larseg`` command: a thin layer over the Python API.

Each subcommand lives in its own module and only parses options, calls the API
and prints; they register on the application of :mod:`larseg.cli.app` when
imported. The command modules import the API lazily, inside each command, so
that ``larseg --help`` starts without loading torch. User mistakes raise
:class:`larseg.errors.LarsegError`; :func:`main` prints them as one line and
exits with status 2.
"""

from __future__ import annotations

import sys

from larseg.cli import (  # noqa: F401  (commands register on import)
    config_cmd,
    data_cmd,
    detector_cmd,
    eval_cmd,
    infer_cmd,
    scan_cmd,
    simulate_cmd,
    train_cmd,
    validate_cmd,
)
from larseg.cli.app import app, err
from larseg.errors import LarsegError


def main() -> None:
    try:
        app()
    except LarsegError as exc:
        err.print(f"larseg: error: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("larseg: interrupted", markup=False)
        sys.exit(130)
