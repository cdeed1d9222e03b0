"""Reading and writing the larcv3 HDF5 layout with h5py.

larcv3 (DeepLearnPhysics) stores each product type in flat, chunked, gzip
compressed tables linked by ``(first, N)`` extents; see ``docs/data-format.md``
for the products larseg uses and ``../shared/docs/larcv3-layout.md`` for the
layout. This module implements it without the larcv3 library:

* :class:`Larcv3Writer` commits events in self-contained segments to a journal
  directory ``<name>.partial`` and merges them into the final file only in
  :meth:`Larcv3Writer.close`; an interrupted run (even by kill -9) never leaves
  a file that looks complete, keeps every committed event, and
  ``Larcv3Writer(path, resume=True)`` continues it.
* :class:`Larcv3File` reads any entry at random, opening one HDF5 handle per
  process (safe in PyTorch ``DataLoader`` workers), and checks what it reads:
  a bad file raises :class:`~larseg.errors.DataFileError` with one line naming
  the file and the problem.

Pixel order (the larcv convention, matching files written by larcv3): a 2D
image has ``number_of_voxels = (n_wires, n_rows)``, dimension 0 along the wires
and dimension 1 along time, and voxel ``id = wire * n_rows + row``. larseg's
dense images are ``(rows = time, columns = wire)``; :meth:`SparseImage.dense`
and :func:`sparse_from_dense` convert.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import yaml

from larseg.atomic import atomic_open, write_error
from larseg.conventions import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE
from larseg.errors import DataFileError, first_line

# --- the larcv3 table dtypes (field names, offsets and sizes as larcv 3.5.1 writes them)

EVENT_ID_DTYPE = np.dtype([("run", "<i8"), ("subrun", "<i8"), ("event", "<i8")])
EXTENTS_DTYPE = np.dtype({"names": ["first", "N"], "formats": ["<u8", "<u4"], "offsets": [0, 8], "itemsize": 16})
ID_EXTENTS_DTYPE = np.dtype([("first", "<u8"), ("N", "<u4"), ("ID", "<u4")])
VOXEL_DTYPE = np.dtype({"names": ["id", "value"], "formats": ["<u8", "<f4"], "offsets": [0, 8], "itemsize": 16})
IMAGE_META_DTYPE = np.dtype(
    {
        "names": ["valid", "projection_id", "image_sizes", "number_of_voxels", "origin"],
        "formats": ["u1", "<u8", ("<f8", (2,)), ("<u8", (2,)), ("<f8", (2,))],
        "offsets": [0, 8, 16, 32, 48],
        "itemsize": 72,
    }
)
_VEC4 = np.dtype([("x", "<f8"), ("y", "<f8"), ("z", "<f8"), ("t", "<f8")])
LARCV_PARTICLE_DTYPE = np.dtype(
    {
        "names": [
            "id", "mcst_index", "mct_index", "shape", "current_type", "interaction_type", "trackid", "pdg",
            "px", "py", "pz", "vtx", "end_pt", "first_step", "last_step", "dist_travel", "energy_init",
            "energy_deposit", "process", "parent_trackid", "parent_pdg", "parent_vtx", "ancestor_trackid",
            "ancestor_pdg", "ancestor_vtx",
        ],
        "formats": [
            "<u2", "<u2", "<u2", "<i4", "<i2", "<i2", "<u4", "<i4", "<f8", "<f8", "<f8", _VEC4, _VEC4, _VEC4,
            _VEC4, "<f8", "<f8", "<f8", "S64", "<u4", "<i4", _VEC4, "<u4", "<i4", _VEC4,
        ],
        "offsets": [0, 2, 4, 8, 12, 14, 16, 20, 24, 32, 40, 48, 80, 112, 144, 176, 184, 192, 200, 264, 268,
                    272, 304, 308, 312],
        "itemsize": 344,
    }
)
#: larcv's "invalid" markers for unsigned fields.
INVALID_U2 = 0xFFFF
INVALID_U4 = 0xFFFFFFFF

#: Products per type: table name -> dtype, in the order larcv3 links them.
_TABLES = {
    "sparse2d": {"extents": EXTENTS_DTYPE, "voxel_extents": ID_EXTENTS_DTYPE, "voxels": VOXEL_DTYPE,
                 "image_meta": IMAGE_META_DTYPE},
    "cluster2d": {"extents": EXTENTS_DTYPE, "projection_extents": ID_EXTENTS_DTYPE,
                  "cluster_extents": ID_EXTENTS_DTYPE, "voxels": VOXEL_DTYPE, "image_meta": IMAGE_META_DTYPE},
    "particle": {"extents": EXTENTS_DTYPE, "particles": LARCV_PARTICLE_DTYPE},
}
_CHUNK_ROWS = {"voxels": 16384, "particles": 256, "cluster_extents": 1024}
#: which table each table's ``first`` field indexes (the merge shifts it by the rows before)
_LINKS = {"sparse2d": {"extents": "voxel_extents", "voxel_extents": "voxels"},
          "cluster2d": {"extents": "projection_extents", "projection_extents": "cluster_extents",
                        "cluster_extents": "voxels"},
          "particle": {"extents": "particles"}}
#: the per-entry index tables a reader keeps in memory once read (at most this many bytes each)
_INDEX_TABLES, _INDEX_CACHE_BYTES = ("voxel_extents", "image_meta", "projection_extents", "cluster_extents"), 64 << 20
PRODUCT_TYPES = tuple(_TABLES)


def group_name(product_type: str, producer: str) -> str:
    return f"{product_type}_{producer}_group"


# --- in-memory products


@dataclass
class ImageMeta:
    """Geometry of one 2D projection: ``shape = (n0, n1)`` pixels, ``size`` and ``origin`` in cm."""

    projection_id: int
    shape: tuple[int, int]
    size: tuple[float, float]
    origin: tuple[float, float] = (0.0, 0.0)

    @property
    def n_pixels(self) -> int:
        return int(self.shape[0]) * int(self.shape[1])

    @property
    def dense_shape(self) -> tuple[int, int]:
        """Shape of the dense ``(rows = time, columns = wire)`` image."""
        return int(self.shape[1]), int(self.shape[0])

    def to_record(self) -> np.void:
        rec = np.zeros((), dtype=IMAGE_META_DTYPE)
        rec["valid"] = 1
        rec["projection_id"] = self.projection_id
        rec["image_sizes"] = self.size
        rec["number_of_voxels"] = self.shape
        rec["origin"] = self.origin
        return rec

    @classmethod
    def from_record(cls, rec) -> ImageMeta:
        return cls(
            projection_id=int(rec["projection_id"]),
            shape=(int(rec["number_of_voxels"][0]), int(rec["number_of_voxels"][1])),
            size=(float(rec["image_sizes"][0]), float(rec["image_sizes"][1])),
            origin=(float(rec["origin"][0]), float(rec["origin"][1])),
        )

    @classmethod
    def for_dense(cls, projection_id: int, n_rows: int, n_wires: int, pixel_cm: tuple[float, float],
                  origin: tuple[float, float] = (0.0, 0.0)) -> ImageMeta:
        """Meta of a dense ``(n_rows, n_wires)`` image; ``pixel_cm = (wire pitch, row height)``."""
        return cls(projection_id, (n_wires, n_rows), (n_wires * pixel_cm[0], n_rows * pixel_cm[1]), origin)


@dataclass
class SparseImage:
    """The non-zero pixels of one projection: flat larcv ``index`` and ``value``."""

    meta: ImageMeta
    index: np.ndarray  # uint64, id = wire * n_rows + row
    value: np.ndarray  # float32

    def rows_cols(self) -> tuple[np.ndarray, np.ndarray]:
        """Row (time) and column (wire) of each stored pixel."""
        n_rows = self.meta.shape[1]
        wire, row = np.divmod(self.index.astype(np.int64), n_rows)
        return row, wire

    def dense(self, dtype=np.float32) -> np.ndarray:
        """The ``(rows = time, columns = wire)`` image; repeated ids add up."""
        n_wires, n_rows = self.meta.shape
        idx = self.index.astype(np.int64)
        # larcv's id = wire * n_rows + row; the image is C-ordered (row, wire)
        flat = np.bincount((idx % n_rows) * n_wires + idx // n_rows, weights=self.value, minlength=n_wires * n_rows)
        return flat.astype(dtype, copy=False).reshape(n_rows, n_wires)


def sparse_from_dense(image: np.ndarray, meta: ImageMeta, mask: np.ndarray | None = None) -> SparseImage:
    """Sparse image of the non-zero pixels of a dense ``(rows, wires)`` image (or of ``mask``)."""
    image = np.asarray(image)
    if image.shape != meta.dense_shape:
        raise ValueError(f"image shape {image.shape} does not match meta {meta.dense_shape}")
    keep = image != 0 if mask is None else mask
    # Transposed nonzero gives wire-major order, the order larcv stores.
    wire, row = np.nonzero(keep.T)
    index = (wire.astype(np.uint64) * np.uint64(meta.shape[1]) + row.astype(np.uint64))
    return SparseImage(meta, index, image[row, wire].astype(np.float32))


@dataclass
class Cluster:
    cluster_id: int
    index: np.ndarray
    value: np.ndarray


@dataclass
class ClusterSet:
    """The clusters (e.g. particle instances) of one projection."""

    meta: ImageMeta
    clusters: list[Cluster] = field(default_factory=list)

    def dense_ids(self, background: int = -1) -> np.ndarray:
        """``(rows, wires)`` image of cluster ids, ``background`` where no cluster is."""
        n_wires, n_rows = self.meta.shape
        flat = np.full(n_wires * n_rows, background, dtype=np.int64)
        for c in self.clusters:
            flat[c.index.astype(np.int64)] = c.cluster_id
        return flat.reshape(n_wires, n_rows).T


@dataclass
class Event:
    """One entry: its ids and its products, keyed by producer name."""

    run: int = 0
    subrun: int = 0
    event: int = 0
    sparse2d: dict[str, list[SparseImage]] = field(default_factory=dict)
    cluster2d: dict[str, list[ClusterSet]] = field(default_factory=dict)
    particle: dict[str, np.ndarray] = field(default_factory=dict)


# --- writing


class _Table:
    """One appendable dataset with an in-memory buffer."""

    def __init__(self, ds: h5py.Dataset):
        self.ds = ds
        self.pending: list[np.ndarray] = []
        self.n = ds.shape[0]  # rows in the file plus rows pending

    def append(self, rows: np.ndarray) -> int:
        first = self.n
        if len(rows):
            self.pending.append(rows)
            self.n += len(rows)
        return first

    def flush_chunks(self, chunk_rows: int) -> None:
        """Write the pending rows that fill whole chunks; keep the rest pending (a write pattern that depends
        only on the stream of rows, not on how it arrived)."""
        total = sum(len(r) for r in self.pending)
        n = (total // chunk_rows) * chunk_rows
        if n == 0:
            return
        rows = np.concatenate(self.pending)
        self.pending = [rows[n:]] if n < total else []
        start = self.ds.shape[0]
        self.ds.resize((start + n,))
        self.ds[start:] = rows[:n]

    def flush(self) -> None:
        if not self.pending:
            return
        rows = np.concatenate(self.pending)
        start = self.ds.shape[0]
        self.ds.resize((start + len(rows),))
        self.ds[start:] = rows
        self.pending = []


class _TableFile:
    """larcv3 tables of one open HDF5 file, appended event by event (the writer's segments and the merge)."""

    def __init__(self, file: h5py.File, compression_level: int):
        self.file = file
        self.compression_level = compression_level
        self._tables: dict[tuple[str, str, str], _Table] = {}
        self._events = self._create(file.require_group("Events"), "event_id", EVENT_ID_DTYPE)

    @property
    def n_entries(self) -> int:
        return self._events.n

    def _create(self, group: h5py.Group, name: str, dtype: np.dtype) -> _Table:
        ds = group.create_dataset(
            name, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(_CHUNK_ROWS.get(name, 128),),
            compression="gzip", compression_opts=self.compression_level,
        )
        return _Table(ds)

    def _table(self, product_type: str, producer: str, name: str) -> _Table:
        key = (product_type, producer, name)
        if key not in self._tables:
            group = self.file.require_group("Data").require_group(group_name(product_type, producer))
            self._tables[key] = self._create(group, name, _TABLES[product_type][name])
        return self._tables[key]

    def write(self, event: Event) -> None:
        """Append one event (the writer checked that its products are the file's)."""
        for producer, images in event.sparse2d.items():
            self._write_sparse2d(producer, images)
        for producer, sets in event.cluster2d.items():
            self._write_cluster2d(producer, sets)
        for producer, particles in event.particle.items():
            self._write_particles(producer, particles)
        self._events.append(np.array([(event.run, event.subrun, event.event)], dtype=EVENT_ID_DTYPE))

    def _write_sparse2d(self, producer: str, images: list[SparseImage]) -> None:
        t = {name: self._table("sparse2d", producer, name) for name in _TABLES["sparse2d"]}
        vext = np.zeros(len(images), dtype=ID_EXTENTS_DTYPE)
        metas = np.zeros(len(images), dtype=IMAGE_META_DTYPE)
        for i, img in enumerate(images):
            vox = np.zeros(len(img.index), dtype=VOXEL_DTYPE)
            vox["id"] = img.index
            vox["value"] = img.value
            vext[i] = (t["voxels"].append(vox), len(vox), img.meta.projection_id)
            metas[i] = img.meta.to_record()
        first = t["voxel_extents"].append(vext)
        t["image_meta"].append(metas)
        t["extents"].append(np.array([(first, len(images))], dtype=EXTENTS_DTYPE))

    def _write_cluster2d(self, producer: str, sets: list[ClusterSet]) -> None:
        t = {name: self._table("cluster2d", producer, name) for name in _TABLES["cluster2d"]}
        pext = np.zeros(len(sets), dtype=ID_EXTENTS_DTYPE)
        metas = np.zeros(len(sets), dtype=IMAGE_META_DTYPE)
        for i, cset in enumerate(sets):
            cext = np.zeros(len(cset.clusters), dtype=ID_EXTENTS_DTYPE)
            for j, c in enumerate(cset.clusters):
                vox = np.zeros(len(c.index), dtype=VOXEL_DTYPE)
                vox["id"] = c.index
                vox["value"] = c.value
                cext[j] = (t["voxels"].append(vox), len(vox), c.cluster_id)
            pext[i] = (t["cluster_extents"].append(cext), len(cext), cset.meta.projection_id)
            metas[i] = cset.meta.to_record()
        first = t["projection_extents"].append(pext)
        t["image_meta"].append(metas)
        t["extents"].append(np.array([(first, len(sets))], dtype=EXTENTS_DTYPE))

    def _write_particles(self, producer: str, particles: np.ndarray) -> None:
        particles = np.asarray(particles)
        if particles.dtype != LARCV_PARTICLE_DTYPE:
            raise ValueError("particles must have LARCV_PARTICLE_DTYPE (see larseg.data.truth)")
        first = self._table("particle", producer, "particles").append(particles)
        self._table("particle", producer, "extents").append(np.array([(first, len(particles))], dtype=EXTENTS_DTYPE))

    def flush(self) -> None:
        for tab in self._tables.values():
            tab.flush()
        self._events.flush()


def _as_os_error(exc: BaseException) -> OSError | None:
    """The OS error behind a write failure (h5py reports some as RuntimeError "... errno = 28 ...")."""
    if isinstance(exc, OSError):
        return exc
    if isinstance(exc, DataFileError) and getattr(exc, "errno", None):
        return OSError(exc.errno, os.strerror(exc.errno))
    m = re.search(r"errno = (\d+)", str(exc))
    if isinstance(exc, RuntimeError) and m:
        code = int(m.group(1))
        return OSError(code, os.strerror(code))
    return None


def _merge_tables(out: h5py.File, segments: list[Path], compression_level: int) -> None:
    """Concatenate the segments' tables into ``out``, table by table, shifting the ``first`` links.

    Each table is written in whole chunks as its rows arrive, tables one after the other in a
    fixed order: the file's bytes depend only on the events, not on where the segments began.
    """
    files = [h5py.File(seg, "r") for seg in segments]
    try:
        tables = _TableFile(out, compression_level)  # creates /Events/event_id
        for f in files:
            tables._events.append(f["Events/event_id"][:])
            tables._events.flush_chunks(_CHUNK_ROWS.get("event_id", 128))
        tables._events.flush()
        groups = sorted(files[0].get("Data", {})) if files else []
        for gname in groups:
            product_type = gname.split("_", 1)[0]
            links = _LINKS[product_type]
            sizes = [{t: f["Data"][gname][t].shape[0] for t in _TABLES[product_type]} for f in files]
            for table in _TABLES[product_type]:
                producer = gname[len(product_type) + 1: -len("_group")]
                target = tables._table(product_type, producer, table)
                chunk = _CHUNK_ROWS.get(table, 128)
                offset = 0
                for f, size in zip(files, sizes):
                    rows = f["Data"][gname][table][:]
                    if table in links and offset:
                        rows["first"] += offset
                    target.append(rows)
                    target.flush_chunks(chunk)
                    if table in links:
                        offset += size[links[table]]
                target.flush()
    finally:
        for f in files:
            f.close()


#: the journal of a writer: ``<path>.partial/`` holds committed segments ``seg-<k>.h5`` and the metadata
_SEGMENT, _JOURNAL_METADATA = "seg-{:08d}.h5", "metadata.yaml"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def journal_segments(partial: str | Path) -> list[Path]:
    """The committed segments of a writer's journal directory, in order."""
    partial = Path(partial)
    return sorted(partial.glob("seg-*.h5"))


def read_journal(partial: str | Path) -> tuple[dict[str, str], int]:
    """The metadata (root attributes) and number of committed events of a writer's ``.partial`` journal."""
    partial = Path(partial)
    if not partial.is_dir():
        raise DataFileError(partial, "cannot resume: not a larseg journal directory (written by larseg < 0.1.1, "
                                     "or not by larseg; delete it to start again)")
    meta: dict[str, str] = {}
    n = 0
    for seg in journal_segments(partial):
        try:
            with h5py.File(seg, "r") as f:
                if not meta:
                    meta = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
                n += int(f["Events/event_id"].shape[0])
        except (OSError, KeyError) as exc:
            raise DataFileError(seg, f"cannot resume: unreadable committed segment ({first_line(exc)}); "
                                     "delete the .partial directory to start again") from None
    meta_file = partial / _JOURNAL_METADATA
    if meta_file.is_file():  # the latest run's metadata (a segment holds its own run's)
        try:
            meta = {str(k): str(v) for k, v in (yaml.safe_load(meta_file.read_text()) or {}).items()}
        except yaml.YAMLError:
            raise DataFileError(meta_file, "cannot resume: unreadable journal metadata; delete the .partial "
                                           "directory to start again") from None
    return meta, n


class Larcv3Writer:
    """Append events to a larcv3-layout file, atomically and crash-safely.

    Events are committed to a journal, the directory ``<path>.partial``, in
    self-contained segments: every ``flush_every`` events the current segment,
    an HDF5 file of its own, is closed, fsynced and renamed into place
    (``seg-<k>.h5``). A kill -9 at any moment therefore loses at most the
    events of the segment being written; every committed event stays readable
    (HDF5 itself is not crash-consistent, so no committed file is ever
    written to again). :meth:`close` merges the segments, in order, into a
    temporary file beside ``path``, renames it to ``path`` and removes the
    journal: the final file is the same bytes whether or not the run was
    interrupted and resumed. Products must keep the same set of producers in
    every event. ``metadata`` (str -> str) is stored as HDF5 attributes of the
    root group (larcv3 itself ignores them): larseg puts the config YAML and its
    version and commit there.

    With ``resume=True`` an existing journal is continued after its last
    committed segment (:attr:`n_entries` tells how many events it already
    holds), and ``metadata`` replaces the recorded attributes. The writer does
    not judge whether the new events belong with the old ones: callers check
    that first, reading the journal only (:mod:`larseg.data.resume`).
    """

    def __init__(self, path: str | Path, metadata: dict[str, str] | None = None, *, resume: bool = False,
                 overwrite: bool = True, flush_every: int = 16, compression_level: int = 4):
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        if self.path.exists() and not overwrite:
            raise DataFileError(self.path, "exists already (use --overwrite to replace it)")
        if self.path.is_dir():
            raise DataFileError(self.path, "is a directory; give a file name to write")
        if not self.path.parent.exists():
            raise DataFileError(self.path, f"directory {self.path.parent} does not exist")
        self.metadata = {str(k): str(v) for k, v in (metadata or {}).items()}
        self.flush_every = max(1, int(flush_every))
        self.compression_level = compression_level
        self._closed = False
        self._current: _TableFile | None = None
        try:
            if resume and self.partial.exists():
                _, self._committed = read_journal(self.partial)
                self._next = len(journal_segments(self.partial))
                for stale in self.partial.glob(".seg-*.tmp"):  # a segment being written when the run stopped
                    stale.unlink()
            else:
                self._discard_journal()
                self.partial.mkdir()
                self._committed, self._next = 0, 0
            with atomic_open(self.partial / _JOURNAL_METADATA, "w", make_dirs=False) as f:
                f.write(yaml.safe_dump(self.metadata, sort_keys=False))
        except OSError as exc:
            raise write_error(self.partial, exc) from None
        self._products: set[tuple[str, str]] | None = None

    # -- the journal

    def _discard_journal(self) -> None:
        if self.partial.is_dir():
            shutil.rmtree(self.partial)
        elif self.partial.exists():
            self.partial.unlink()

    @property
    def n_entries(self) -> int:
        return self._committed + (self._current.n_entries if self._current is not None else 0)

    def _segment(self) -> _TableFile:
        if self._current is None:
            # built in memory (HDF5's core driver) and written by plain file I/O at commit: a full disk is
            # then an ordinary OSError, never an HDF5 file left half-flushed
            f = h5py.File(f"segment-{self._next}", "w", driver="core", backing_store=False)
            for key, value in sorted(self.metadata.items()):
                f.attrs[key] = value
            self._current = _TableFile(f, self.compression_level)
        return self._current

    # -- writing

    def write(self, event: Event) -> None:
        """Append one event (all of its products, then its ids)."""
        if self._closed:
            raise ValueError("writer is closed")
        products = {("sparse2d", p) for p in event.sparse2d} | {("cluster2d", p) for p in event.cluster2d} \
            | {("particle", p) for p in event.particle}
        if self._products is None:
            self._products = products
        elif products != self._products:
            raise ValueError(f"event products {sorted(products)} differ from the file's {sorted(self._products)}")
        with self._disk_errors(self.partial):
            self._segment().write(event)
            if self._current.n_entries >= self.flush_every:
                self.flush()

    def flush(self) -> None:
        """Commit the events written since the last commit: their in-memory segment is written atomically."""
        seg = self._current
        if seg is None or seg.n_entries == 0:
            return
        seg.flush()
        seg.file.flush()
        image = seg.file.id.get_file_image()
        seg.file.close()
        self._current = None  # the in-memory file is gone: a failed write below loses only this segment
        with atomic_open(self.partial / _SEGMENT.format(self._next), "wb", make_dirs=False) as f:
            f.write(image)
        _fsync_dir(self.partial)
        self._committed += seg.n_entries
        self._next += 1

    @contextlib.contextmanager
    def _disk_errors(self, path: Path):
        """A full disk or a read-only place while writing: stop, keep the journal, say so in one line."""
        try:
            yield
        except (OSError, RuntimeError, DataFileError) as exc:
            os_error = _as_os_error(exc)
            if os_error is None:
                raise
            self.abort()
            what = str(write_error(path, os_error)).split("cannot write: ", 1)[1].split(";")[0]
            raise DataFileError(path, f"cannot write: {what}; the {self._committed} committed events are kept in "
                                      f"{self.partial.name} for --resume") from None

    def close(self) -> Path:
        """Commit, merge the journal into ``path`` (atomically) and remove the journal. Returns ``path``."""
        if self._closed:
            return self.path
        with self._disk_errors(self.path):
            self.flush()
            self._merge()
        self._closed = True
        shutil.rmtree(self.partial, ignore_errors=True)
        return self.path

    def _merge(self) -> None:
        segments = journal_segments(self.partial)
        needed = sum(seg.stat().st_size for seg in segments) * 1.05 + (1 << 20)
        if shutil.disk_usage(self.path.parent).free < needed:  # checked first: HDF5 must not meet a full disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        try:
            with h5py.File(tmp, "w") as out:
                for key, value in sorted(self.metadata.items()):  # canonical order: same bytes
                    out.attrs[key] = value
                _merge_tables(out, segments, self.compression_level)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def abort(self) -> None:
        """Stop without merging: the committed events stay in the journal for ``resume``."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        except (OSError, RuntimeError, DataFileError):  # a full disk: the segment in progress is lost
            pass
        finally:
            if self._current is not None:
                with contextlib.suppress(Exception):
                    self._current.file.close()
            self._current = None

    def __enter__(self) -> Larcv3Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# --- reading


#: the largest image read from a file (larseg.conventions)
MAX_SIDE, MAX_PIXELS = MAX_IMAGE_SIDE, MAX_IMAGE_PIXELS

#: what h5py and numpy raise on damaged or malformed files
_READ_ERRORS = (OSError, KeyError, ValueError, TypeError, IndexError, RuntimeError, AttributeError, OverflowError)


def _guarded(method):
    """Errors of the HDF5 library or of malformed tables become one-line DataFileErrors naming the file."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except DataFileError:
            raise
        except _READ_ERRORS as exc:
            raise DataFileError(self.path, f"damaged or malformed larcv3 file ({type(exc).__name__}: "
                                           f"{first_line(exc, 120)})") from None

    return wrapper


class Larcv3File:
    """Random access to the entries of a larcv3-layout file.

    The HDF5 handle is opened lazily and re-opened in a forked or spawned
    process, so one object can be shared by PyTorch DataLoader workers (each
    worker gets its own handle).
    """

    @_guarded
    def __init__(self, path: str | Path, cache_tables: bool = True):
        self.path = Path(path)
        self.cache_tables = cache_tables
        self._index_cache: dict[str, np.ndarray] = {}
        self._dataset_cache: dict[str, h5py.Dataset] = {}
        self._group_cache: dict[tuple[str, str], h5py.Group] = {}
        self._file: h5py.File | None = None
        self._pid: int | None = None
        f = self._handle()
        if "Events" not in f or "event_id" not in f["Events"]:
            raise DataFileError(self.path, "not a larcv3 file (no /Events/event_id table)")
        try:
            self._event_ids = f["Events/event_id"][:]
        except (OSError, KeyError) as exc:
            raise DataFileError(self.path, f"cannot read /Events/event_id ({first_line(exc)})") from None
        self.n_entries = len(self._event_ids)
        self.products: dict[str, list[str]] = {t: [] for t in PRODUCT_TYPES}
        for gname in f.get("Data", {}):
            ptype, _, rest = gname.partition("_")
            if ptype in self.products and rest.endswith("_group"):
                self.products[ptype].append(rest[: -len("_group")])
        self._extents_cache: dict[tuple[str, str], np.ndarray] = {}

    # -- file handle

    def _handle(self) -> h5py.File:
        if self._file is None or self._pid != os.getpid():
            self._dataset_cache, self._group_cache = {}, {}  # h5py objects of another handle
            if not self.path.exists():
                raise DataFileError(self.path, "no such file")
            if not h5py.is_hdf5(self.path):
                raise DataFileError(self.path, "not an HDF5 file")
            try:
                self._file = h5py.File(self.path, "r")
            except OSError as exc:
                raise DataFileError(self.path, f"truncated or corrupt HDF5 file ({first_line(exc)})") from None
            self._pid = os.getpid()
        return self._file

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_file"] = None
        state["_pid"] = None
        state["_index_cache"] = {}  # each process reads its own (workers should not receive copies)
        state["_dataset_cache"], state["_group_cache"] = {}, {}  # h5py handles belong to one process
        return state

    def __enter__(self) -> Larcv3File:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self.n_entries

    @property
    @_guarded
    def metadata(self) -> dict[str, str]:
        return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in self._handle().attrs.items()}

    @_guarded
    def event_id(self, entry: int) -> tuple[int, int, int]:
        self._check_entry(entry)
        r = self._event_ids[entry]
        return int(r["run"]), int(r["subrun"]), int(r["event"])

    # -- checks

    def _check_entry(self, entry: int) -> None:
        if not 0 <= entry < self.n_entries:
            raise DataFileError(self.path, f"entry {entry} out of range (file has {self.n_entries} entries)")

    def _group(self, product_type: str, producer: str) -> h5py.Group:
        handle = self._handle()  # first: reopening in another process clears the caches
        cached = self._group_cache.get((product_type, producer)) if self.cache_tables else None
        if cached is not None:
            return cached
        if producer not in self.products.get(product_type, []):
            have = ", ".join(self.products.get(product_type, [])) or "none"
            raise DataFileError(self.path, f"no {product_type} product '{producer}' (has: {have})")
        group = handle["Data"][group_name(product_type, producer)]
        missing = [n for n in _TABLES[product_type] if n not in group]
        if missing:
            raise DataFileError(self.path, f"{product_type} product '{producer}' lacks its '{missing[0]}' table")
        if self.cache_tables:
            self._group_cache[(product_type, producer)] = group
        return group

    def _read(self, ds: h5py.Dataset, first: int, n: int, what: str) -> np.ndarray:
        if first + n > ds.shape[0]:
            raise DataFileError(
                self.path, f"inconsistent extents: {what} rows {first}..{first + n} beyond its {ds.shape[0]} rows"
            )
        try:
            if self.cache_tables and ds.name.rsplit("/", 1)[-1] in _INDEX_TABLES \
                    and ds.shape[0] * ds.dtype.itemsize <= _INDEX_CACHE_BYTES:
                # the small index tables are read whole once: one h5py call per row costs ~0.5 ms
                table = self._index_cache.get(ds.name)
                if table is None:
                    table = self._index_cache[ds.name] = ds[:]
                return table[first: first + n]
            return ds[first: first + n]
        except OSError as exc:
            raise DataFileError(self.path, f"truncated or corrupt data in {ds.name} ({first_line(exc)})") from None

    def _extent(self, product_type: str, producer: str, entry: int) -> tuple[h5py.Group, int, int]:
        self._check_entry(entry)
        group = self._group(product_type, producer)
        key = (product_type, producer)
        if key not in self._extents_cache:
            table = self._dataset(group, "extents")
            ext = self._read(table, 0, table.shape[0], f"{group.name}/extents")
            if len(ext) != self.n_entries:
                raise DataFileError(
                    self.path, f"inconsistent extents: {product_type} '{producer}' has {len(ext)} entries, "
                               f"/Events has {self.n_entries}")
            self._extents_cache[key] = ext
        row = self._extents_cache[key][entry]
        return group, int(row["first"]), int(row["N"])

    def _metas(self, group: h5py.Group, first: int, n: int) -> list[ImageMeta]:
        rows = self._read(self._dataset(group, "image_meta"), first, n, f"{group.name}/image_meta")
        metas = [ImageMeta.from_record(r) for r in rows]
        for m in metas:
            if not (0 < m.shape[0] <= MAX_SIDE and 0 < m.shape[1] <= MAX_SIDE and m.n_pixels <= MAX_PIXELS):
                raise DataFileError(self.path, f"image of {m.shape[0]} x {m.shape[1]} pixels in {group.name} "
                                               f"(projection {m.projection_id}): sides must be 1..{MAX_SIDE} and "
                                               f"the image at most {MAX_PIXELS} pixels")
        return metas

    def _voxels(self, group: h5py.Group, first: int, n: int, meta: ImageMeta) -> tuple[np.ndarray, np.ndarray]:
        vox = self._read(self._dataset(group, "voxels"), first, n, f"{group.name}/voxels")
        ids = np.asarray(vox["id"], dtype=np.uint64)
        if len(ids) and int(ids.max()) >= meta.n_pixels:
            raise DataFileError(
                self.path, f"pixel index {int(ids.max())} out of the {meta.shape[0]}x{meta.shape[1]} image "
                           f"(projection {meta.projection_id}) in {group.name}")
        return ids, np.asarray(vox["value"], dtype=np.float32)

    def _dataset(self, group: h5py.Group, name: str) -> h5py.Dataset:
        """``group[name]``, looked up once per reader (h5py's lookup costs ~0.1 ms a call)."""
        if not self.cache_tables:
            return group[name]
        key = f"{group.name}/{name}"
        ds = self._dataset_cache.get(key)
        if ds is None:
            ds = self._dataset_cache[key] = group[name]
        return ds

    # -- products

    @_guarded
    def sparse2d(self, producer: str, entry: int, projection: int | None = None) -> list[SparseImage]:
        """The sparse images of every projection of ``entry`` (or only of ``projection``)."""
        group, first, n = self._extent("sparse2d", producer, entry)
        vext = self._read(self._dataset(group, "voxel_extents"), first, n, f"{group.name}/voxel_extents")
        metas = self._metas(group, first, n)
        out = []
        for row, meta in zip(vext, metas):
            if projection is not None and meta.projection_id != projection:
                continue
            idx, val = self._voxels(group, int(row["first"]), int(row["N"]), meta)
            out.append(SparseImage(meta, idx, val))
        return out

    @_guarded
    def cluster2d(self, producer: str, entry: int, projection: int | None = None) -> list[ClusterSet]:
        """The cluster sets of every projection of ``entry`` (or only of ``projection``)."""
        group, first, n = self._extent("cluster2d", producer, entry)
        pext = self._read(self._dataset(group, "projection_extents"), first, n, f"{group.name}/projection_extents")
        metas = self._metas(group, first, n)
        out = []
        for prow, meta in zip(pext, metas):
            if projection is not None and meta.projection_id != projection:
                continue
            cext = self._read(self._dataset(group, "cluster_extents"), int(prow["first"]), int(prow["N"]),
                              f"{group.name}/cluster_extents")
            firsts, counts = cext["first"].astype(np.int64), cext["N"].astype(np.int64)
            clusters = []
            if len(cext) and np.array_equal(firsts[1:], firsts[:-1] + counts[:-1]):
                # the clusters' voxels are contiguous (as larseg and larcv3 write them): one read
                idx, val = self._voxels(group, int(firsts[0]), int(counts.sum()), meta)
                bounds = np.concatenate([[0], np.cumsum(counts)])
                for k, crow in enumerate(cext):
                    a, b = bounds[k], bounds[k + 1]
                    clusters.append(Cluster(int(crow["ID"]), idx[a:b], val[a:b]))
            else:
                for crow in cext:
                    idx, val = self._voxels(group, int(crow["first"]), int(crow["N"]), meta)
                    clusters.append(Cluster(int(crow["ID"]), idx, val))
            out.append(ClusterSet(meta, clusters))
        return out

    @_guarded
    def particles(self, producer: str, entry: int) -> np.ndarray:
        group, first, n = self._extent("particle", producer, entry)
        return self._read(self._dataset(group, "particles"), first, n, f"{group.name}/particles")

    @_guarded
    def read(self, entry: int) -> Event:
        """Every product of ``entry``."""
        run, subrun, event = self.event_id(entry)
        return Event(
            run, subrun, event,
            sparse2d={p: self.sparse2d(p, entry) for p in self.products["sparse2d"]},
            cluster2d={p: self.cluster2d(p, entry) for p in self.products["cluster2d"]},
            particle={p: self.particles(p, entry) for p in self.products["particle"]},
        )

    def __iter__(self) -> Iterable[Event]:
        for i in range(self.n_entries):
            yield self.read(i)
