"""Atomic file writing: a reader never sees half a file, an interrupted write leaves none."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from larseg.errors import DataFileError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: errors of the place written to, not of larseg: reported as one line, the old file kept
WRITE_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EROFS: "read-only file system",
                errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
                errno.EDQUOT: "disk quota exceeded", errno.EIO: "input/output error",
                errno.ENOTDIR: "a parent is not a directory", errno.EISDIR: "is a directory"}


def write_error(path: str | Path, exc: OSError, kept: bool = True) -> DataFileError:
    """A one-line error for an OS error while writing ``path`` (``kept``: an existing file there is untouched)."""
    what = WRITE_ERRNOS.get(exc.errno or 0, os.strerror(exc.errno) if exc.errno else str(exc))
    note = "; nothing was written there" + (" and the old file is kept" if kept and Path(path).exists() else "")
    err = DataFileError(path, f"cannot write: {what}{note}")
    err.errno = exc.errno  # for callers that say more (what was kept)
    return err


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", make_dirs: bool = True) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success fsync and rename it to ``path``.

    On an exception the temporary file is removed and ``path`` is untouched. A full
    disk, a read-only file system or a missing permission becomes a one-line
    ``DataFileError`` (:func:`write_error`). ``make_dirs=False`` reports a missing
    directory as a one-line ``DataFileError``.
    """
    path = Path(path)
    if path.is_dir():
        raise DataFileError(path, "is a directory; give a file name to write")
    try:
        if make_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.parent.exists():
            raise DataFileError(path, f"directory {path.parent} does not exist")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
            raise write_error(path, exc) from None
        raise


def output_dir(path: str | Path) -> Path:
    """The output directory ``path``, created if needed; a one-line error if it is a file or cannot be made."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataFileError(path, "exists and is not a directory; choose a directory for the output")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(path, exc) from None
    return path


#: figure formats larseg writes (by file suffix)
FIGURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """Save a matplotlib figure atomically; the suffix picks the format and must be a figure format."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FIGURE_FORMATS:
        raise DataFileError(path, f"a figure file must end in .{', .'.join(FIGURE_FORMATS)}")
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format=fmt, dpi=dpi)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename: readers never see half a file."""
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def remove_stale_temporaries(path: str | Path) -> int:
    """Remove the temporary files that :func:`atomic_open` left beside ``path`` when a process was killed
    (``.<name>.*.tmp``); returns how many. Call it where only one writer of ``path`` can be running."""
    path = Path(path)
    n = 0
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            tmp.unlink()
            n += 1
        except OSError:
            pass
    return n
