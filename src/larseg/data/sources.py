"""Every event-file format larseg reads, behind one interface: larcv3 HDF5, LArCV1/2 ROOT, numpy.

:func:`open_input` recognises a file by its first bytes (HDF5, ROOT, npy, zip for
npz), falling back to its suffix for the error message, and returns a source with

* ``path``, ``format`` (``larcv3``, ``LArCV1``, ``LArCV2`` or ``numpy``), ``producer``
  (the image product read) and ``n_entries``;
* ``metadata`` (the larseg provenance attributes of a larcv3 file; ``{}`` otherwise),
  ``products`` (the producers it can read, by product type, always with a ``particle`` key:
  the particle tables :meth:`particles` reads) and ``unread`` (what the file holds beyond them);
* ``event_id(entry)`` and ``images(entry)``: a list of
  :class:`~larseg.data.arrays.DenseImage`, one per projection;
* ``has_labels``, ``label_source`` (where the truth labels are read from) and
  :meth:`require_labels` (a one-line :class:`~larseg.errors.DataFileError` naming the
  file when it has none);
* ``planes(entry, projection=None)``: :class:`~larseg.data.products.PlaneImage` s with the
  truth labels (0 where the file has none), the instances (-1 where none) and the vertex;
* ``read(entry)``: an :class:`Entry` (ids, planes, the particle tables of a larcv3 file).

Truth labels (0 background, 1 track, 2 shower) are the ``sparse2d segment`` product of
a larcv3 file, the ``image2d_segment_tree`` of a LArCV1/2 ROOT file (the same images'
labels, pixel for pixel) and the ``labels`` / ``label<k>`` arrays of an ``.npz``
(:mod:`larseg.data.arrays`); values other than 0, 1, 2 are an error, not remapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from larseg.data.arrays import ArrayFile, DenseImage, label_codes
from larseg.data.larcv3 import Event, Larcv3File
from larseg.data.larcv_root import LABEL_PRODUCERS, LarcvRootFile
from larseg.data.products import INSTANCE, SEGMENT, VERTEX, WIRE, PlaneImage, planes_from_event
from larseg.errors import DataFileError

FORMATS = "a larcv3 HDF5 file (.h5), a LArCV1/LArCV2 ROOT file (.root) or a numpy array (.npy/.npz)"
_MAGIC = {b"\x89HDF\r\n\x1a\n": "hdf5", b"root": "root", b"\x93NUMPY": "npy", b"PK\x03\x04": "npz",
          b"PK\x05\x06": "npz"}
_SUFFIX_KIND = {".h5": "an HDF5", ".hdf5": "an HDF5", ".root": "a ROOT", ".npy": "a .npy", ".npz": "a .npz"}


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


@dataclass
class Entry:
    """One entry of any source: event ids, dense planes with their truth, and particle tables."""

    entry: int
    run: int
    subrun: int
    event: int
    planes: list[PlaneImage]
    #: larcv particle tables by producer (``truth``, ``neutrino``): larcv3 files only
    particle: dict[str, np.ndarray] = field(default_factory=dict)
    has_labels: bool = False


class _Source:
    """What every source shares (see the module doc)."""

    path: Path
    format: str
    producer: str | None
    n_entries: int
    label_source: str | None = None

    @property
    def has_labels(self) -> bool:
        return self.label_source is not None

    @property
    def metadata(self) -> dict[str, str]:
        return {}

    @property
    def unread(self) -> list[str]:
        return []

    def _no_labels(self) -> str:
        raise NotImplementedError

    def require_labels(self) -> None:
        """Raise a one-line :class:`DataFileError` naming the file if it holds no truth labels."""
        if not self.has_labels:
            raise DataFileError(self.path, self._no_labels())

    def particles(self, producer: str, entry: int) -> np.ndarray:
        raise DataFileError(self.path, f"no particle product '{producer}' is read from a {self.format} file")

    def planes(self, entry: int, projection: int | None = None) -> list[PlaneImage]:
        """Dense planes of ``entry`` (every projection, or only ``projection``) with their truth."""
        images = [im for im in self.images(entry) if projection is None or im.projection_id == projection]
        if self.has_labels:
            labels = self._labels(entry, images)
        else:
            labels = [np.zeros(im.image.shape, np.uint8) for im in images]
        return [PlaneImage(im.meta, im.image, lab, np.full(im.image.shape, -1, np.int32), None)
                for im, lab in zip(images, labels)]

    def _labels(self, entry: int, images: list[DenseImage]) -> list[np.ndarray]:
        raise NotImplementedError

    def read(self, entry: int) -> Entry:
        run, subrun, event = self.event_id(entry)
        return Entry(entry, run, subrun, event, self.planes(entry), {}, self.has_labels)


class Larcv3Source(_Source):
    """The ``sparse2d <producer>`` images of a larseg/larcv3 HDF5 file, with ``segment`` labels,
    ``instance`` clusters, ``vertex`` and particle tables when the file has them."""

    format = "larcv3"

    def __init__(self, path: Path, producer: str | None = None):
        self.path = Path(path)
        self.file = Larcv3File(path)
        have = self.file.products["sparse2d"]
        self.producer = producer or WIRE
        if self.producer not in have:
            raise DataFileError(path, f"no sparse2d product '{self.producer}' (has: {', '.join(have) or 'none'}); "
                                      "choose one with --producer")
        self.n_entries = self.file.n_entries
        if SEGMENT in have and self.producer != SEGMENT:
            self.label_source = f"sparse2d {SEGMENT}"

    @property
    def products(self) -> dict[str, list[str]]:
        return self.file.products

    @property
    def metadata(self) -> dict[str, str]:
        return self.file.metadata

    def _no_labels(self) -> str:
        return f"no sparse2d '{SEGMENT}' product: the file has no labels"

    def event_id(self, entry: int) -> tuple[int, int, int]:
        return self.file.event_id(entry)

    def images(self, entry: int) -> list[DenseImage]:
        return [DenseImage(sp.meta, sp.dense()) for sp in self.file.sparse2d(self.producer, entry)]

    def particles(self, producer: str, entry: int) -> np.ndarray:
        return self.file.particles(producer, entry)

    def planes(self, entry: int, projection: int | None = None) -> list[PlaneImage]:
        f = self.file
        sparse = {WIRE: f.sparse2d(self.producer, entry, projection)}
        for name in (SEGMENT, VERTEX):
            if name in f.products["sparse2d"] and (name != SEGMENT or self.has_labels):
                sparse[name] = f.sparse2d(name, entry, projection)
        clusters = {INSTANCE: f.cluster2d(INSTANCE, entry, projection)} if INSTANCE in f.products["cluster2d"] else {}
        for name, images in {**sparse, **clusters}.items():
            if name != WIRE and [im.meta.projection_id for im in images] != \
                    [im.meta.projection_id for im in sparse[WIRE]]:
                raise DataFileError(self.path, f"entry {entry}: the '{name}' product's projections differ from "
                                               f"those of '{self.producer}'")
        return planes_from_event(Event(0, 0, 0, sparse2d=sparse, cluster2d=clusters))

    def read(self, entry: int) -> Entry:
        run, subrun, event = self.event_id(entry)
        particle = {p: self.file.particles(p, entry) for p in self.file.products["particle"]}
        return Entry(entry, run, subrun, event, self.planes(entry), particle, self.has_labels)


class RootSource(_Source):
    """The ``image2d <producer>`` images of a LArCV1/LArCV2 ROOT file (uproot), labelled by its
    ``image2d_segment_tree`` when it has one."""

    def __init__(self, path: Path, producer: str | None = None):
        self.path = Path(path)
        self._producer_arg = producer
        self.file = LarcvRootFile(path, producer)
        self.producer = self.file.producer
        self.format = self.file.version
        self.n_entries = self.file.n_entries
        self._label_file = None
        self._label_producer = next((p for p in LABEL_PRODUCERS if p in self.file.producers and p != self.producer),
                                    None)
        if self._label_producer is not None:
            self.label_source = f"image2d_{self._label_producer}_tree"

    def __getstate__(self):  # reopened in each DataLoader worker
        return {"path": self.path, "producer": self._producer_arg}

    def __setstate__(self, state) -> None:
        self.__init__(state["path"], state["producer"])

    @property
    def products(self) -> dict[str, list[str]]:
        return {"image2d": list(self.file.producers), "particle": []}

    @property
    def unread(self) -> list[str]:
        """The ROOT file's other trees (e.g. ``particle_mctruth_tree``: LArCV2 particle units are not larseg's)."""
        return [t for t in self.file.trees if not (t.startswith("image2d_") and t.endswith("_tree"))]

    def _no_labels(self) -> str:
        return (f"no truth labels: this {self.format} ROOT file has no image2d_segment_tree "
                f"(has: {', '.join(self.file.trees)})")

    def event_id(self, entry: int) -> tuple[int, int, int]:
        return self.file.event_id(entry)

    def images(self, entry: int) -> list[DenseImage]:
        return self.file.images(entry)

    def _labels(self, entry: int, images: list[DenseImage]) -> list[np.ndarray]:
        if self._label_file is None:
            self._label_file = LarcvRootFile(self.path, self._label_producer)
        if self._label_file.n_entries != self.n_entries:
            raise DataFileError(self.path, f"{self.label_source} has {self._label_file.n_entries} entries, "
                                           f"image2d_{self.producer}_tree {self.n_entries}")
        by_id = {im.projection_id: im for im in self._label_file.images(entry)}
        out = []
        for im in images:
            where = f"entry {entry} plane {im.projection_id}"
            lab = by_id.get(im.projection_id)
            if lab is None:
                raise DataFileError(self.path, f"{where}: no label image in {self.label_source} "
                                               f"(has planes {', '.join(map(str, sorted(by_id))) or 'none'})")
            if lab.image.shape != im.image.shape:
                raise DataFileError(self.path, f"{where}: the label image is {lab.image.shape[0]} x "
                                               f"{lab.image.shape[1]}, the image {im.image.shape[0]} x "
                                               f"{im.image.shape[1]}")
            out.append(label_codes(lab.image, self.path, where))
        return out


class ArraySource(_Source):
    """Images of a ``.npy`` / ``.npz`` file, with the ``.npz``'s truth labels (see :mod:`larseg.data.arrays`)."""

    format = "numpy"

    def __init__(self, path: Path, kind: str | None = None):
        self.path = Path(path)
        self._kind = kind
        self.file = ArrayFile(path, kind)
        self.producer = None
        self.n_entries = self.file.n_entries
        if self.file.has_labels:
            self.label_source = ", ".join(k for k in self.file.arrays if re.fullmatch(r"labels|label\d+", k))

    def __getstate__(self):  # reopened in each DataLoader worker
        return {"path": self.path, "kind": self._kind}

    def __setstate__(self, state) -> None:
        self.__init__(state["path"], state["kind"])

    @property
    def products(self) -> dict[str, list[str]]:
        return {"array": list(self.file.arrays), "particle": []}

    def _no_labels(self) -> str:
        if self.file.kind == "npy":
            return ("no truth labels: a .npy file holds images only (an .npz holds them as 'labels' beside "
                    "'images', or 'label0', 'label1', ... beside 'plane0', 'plane1', ...)")
        return (f"no truth labels: no 'labels' or 'label0', 'label1', ... arrays (has: "
                f"{', '.join(self.file.arrays)})")

    def event_id(self, entry: int) -> tuple[int, int, int]:
        return self.file.event_id(entry)

    def images(self, entry: int) -> list[DenseImage]:
        return self.file.images(entry)

    def _labels(self, entry: int, images: list[DenseImage]) -> list[np.ndarray]:
        return self.file.labels(entry, [im.projection_id for im in images])


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
    if path.stat().st_size == 0:
        raise DataFileError(path, f"an empty file; expected {FORMATS}")
    named = _SUFFIX_KIND.get(path.suffix.lower())
    if named is not None:
        raise DataFileError(path, f"not {named} file")
    raise DataFileError(path, f"unknown format (suffix '{path.suffix}'); expected {FORMATS}")
