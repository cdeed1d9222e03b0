"""Helpers shared by the tests that run the command line in-process or interrupt runs."""

from __future__ import annotations

import sys
from contextlib import contextmanager


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``larseg ARGS`` in this process, as ``main()`` runs it (user errors -> one line, status 2)."""
    from larseg.cli import main

    old = sys.argv
    sys.argv = ["larseg", *map(str, args)]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return code, out.out, out.err


def kill_after(n: int):
    """A ``progress_factory`` whose ``advance`` raises KeyboardInterrupt after ``n`` events (an interrupted run)."""

    @contextmanager
    def factory(total, done):
        count = [0]

        def advance(k=1):
            count[0] += k
            if count[0] == n:
                raise KeyboardInterrupt

        yield advance

    return factory
