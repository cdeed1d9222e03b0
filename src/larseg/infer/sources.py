"""Inputs of ``larseg predict``: one interface over larcv3 HDF5, LArCV1/2 ROOT and numpy files.

:func:`open_input` recognises a file by its first bytes (HDF5, ROOT, npy, zip for
npz), falling back to its suffix for the error message, and returns a source
with ``n_entries``, ``event_id(entry)`` and ``images(entry)`` (a list of
:class:`~larseg.data.arrays.DenseImage`, one per projection).
"""

from __future__ import annotations

from pathlib import Path

from larseg.data.arrays import ArrayFile, DenseImage
from larseg.data.larcv3 import Larcv3File
from larseg.errors import DataFileError

FORMATS = "a larcv3 HDF5 file (.h5), a LArCV1/LArCV2 ROOT file (.root) or a numpy array (.npy/.npz)"
_MAGIC = {b"\x89HDF\r\n\x1a\n": "hdf5", b"root": "root", b"\x93NUMPY": "npy", b"PK\x03\x04": "npz",
          b"PK\x05\x06": "npz"}


def sniff(path: Path) -> str:
    """``hdf5``, ``root``, ``npy``, ``npz`` or ``unknown``, from the file's first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise DataFileError(path, f"cannot read ({exc.strerror or exc})") from None
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return "unknown"


class Larcv3Source:
    """The ``sparse2d <producer>`` images of a larseg/larcv3 HDF5 file."""

    format = "larcv3"

    def __init__(self, path: Path, producer: str | None = None):
        self.path = path
        self.file = Larcv3File(path)
        have = self.file.products["sparse2d"]
        self.producer = producer or "wire"
        if self.producer not in have:
            raise DataFileError(path, f"no sparse2d product '{self.producer}' (has: {', '.join(have) or 'none'}); "
                                      "choose one with --producer")
        self.n_entries = self.file.n_entries

    def event_id(self, entry: int) -> tuple[int, int, int]:
        return self.file.event_id(entry)

    def images(self, entry: int) -> list[DenseImage]:
        return [DenseImage(sp.meta, sp.dense()) for sp in self.file.sparse2d(self.producer, entry)]


class RootSource:
    """The ``image2d <producer>`` images of a LArCV1/LArCV2 ROOT file (uproot)."""

    def __init__(self, path: Path, producer: str | None = None):
        from larseg.data.larcv_root import LarcvRootFile

        self.path = path
        self.file = LarcvRootFile(path, producer)
        self.producer = self.file.producer
        self.format = self.file.version
        self.n_entries = self.file.n_entries

    def event_id(self, entry: int) -> tuple[int, int, int]:
        return self.file.event_id(entry)

    def images(self, entry: int) -> list[DenseImage]:
        return self.file.images(entry)


class ArraySource:
    """Images of a ``.npy`` / ``.npz`` file (see :mod:`larseg.data.arrays`)."""

    format = "numpy"

    def __init__(self, path: Path, kind: str | None = None):
        self.path = path
        self.file = ArrayFile(path, kind)
        self.producer = None
        self.n_entries = self.file.n_entries

    def event_id(self, entry: int) -> tuple[int, int, int]:
        return self.file.event_id(entry)

    def images(self, entry: int) -> list[DenseImage]:
        return self.file.images(entry)


def open_input(path: str | Path, producer: str | None = None):
    """A source over the entries of ``path`` (see the module doc)."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "no such file")
    if path.is_dir():
        raise DataFileError(path, f"is a directory; expected {FORMATS}")
    kind = sniff(path)
    if kind == "hdf5":
        return Larcv3Source(path, producer)
    if kind == "root":
        return RootSource(path, producer)
    if kind in ("npy", "npz"):
        if producer:
            raise DataFileError(path, "--producer applies to larcv3 and ROOT files, not numpy arrays")
        return ArraySource(path, kind)
    size = path.stat().st_size
    what = "an empty file" if size == 0 else f"unknown format (suffix '{path.suffix}')"
    raise DataFileError(path, f"{what}; expected {FORMATS}")
