"""User-facing errors.

Everything a user can cause (a bad file, a wrong option, a config typo) raises a
:class:`LarsegError` with a one-line message naming the file or setting and the
problem. The command line prints that line and exits with status 2; it never
shows a traceback for these.
"""

from __future__ import annotations


class LarsegError(Exception):
    """A problem with the user's input, reported as one line."""


class ConfigError(LarsegError):
    """A config file or preset is malformed or names unknown settings."""


class DataFileError(LarsegError):
    """A data file is missing, not in the expected format, or inconsistent."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def first_line(exc: BaseException, limit: int = 160, default: str | None = None) -> str:
    """The first line of an exception's message (at most ``limit`` characters), for a one-line error.

    An exception with no message gives ``default`` (or its type name).
    """
    text = str(exc).strip().splitlines()
    return (text[0] if text else (default if default is not None else type(exc).__name__))[:limit]


__all__ = ["ConfigError", "DataFileError", "LarsegError", "first_line"]
