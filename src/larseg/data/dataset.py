"""PyTorch datasets over event files: random access by entry, one file handle per worker.

larcv3 HDF5 files are read product by product (one plane's sparse pixels); LArCV1/2 ROOT
and ``.npy``/``.npz`` files through their :mod:`larseg.data.sources` source.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from larseg.conventions import PIXEL_THRESHOLD, apply_threshold
from larseg.data.larcv3 import Larcv3File
from larseg.data.products import INSTANCE, SEGMENT, VERTEX, WIRE
from larseg.data.sources import open_input, sniff
from larseg.errors import DataFileError


class PlaneDataset(Dataset):
    """One wire plane of every entry of one or more files, as dense tensors.

    Items are dicts: ``image`` (1, rows, wires) float32 with pixels below
    ``threshold`` set to 0, ``label`` (rows, wires) int64 (0 background,
    1 track, 2 shower; 0 wherever the thresholded image is 0), ``instance``
    (rows, wires) int64 (-1 background), ``vertex`` (2,) float32 (row, col of
    the vertex pixel; NaN if the plane's window misses it), ``index`` (int, the global entry).
    ``labels=False`` reads only the image (for files without truth).

    Files are larcv3 HDF5 (``sparse2d wire`` / ``segment``, ``cluster2d instance``, ``sparse2d
    vertex``), or any other format of :func:`larseg.data.sources.open_input`: ``files`` then
    holds its source (same ``path``, ``n_entries``, ``metadata``, ``products``, ``event_id``).
    """

    def __init__(self, files: Sequence[str | Path], plane: int = 2, threshold: float = PIXEL_THRESHOLD,
                 labels: bool = True):
        self.files = [_open(f) for f in files]
        self.plane = int(plane)
        self.threshold = float(threshold)
        self.labels = labels
        self.offsets = np.cumsum([0] + [f.n_entries for f in self.files]).tolist()
        for f in self.files:
            if not isinstance(f, Larcv3File):
                if labels:
                    f.require_labels()
                continue
            if WIRE not in f.products["sparse2d"]:
                raise DataFileError(f.path, f"no sparse2d '{WIRE}' product: not a wire-image file")
            if labels and SEGMENT not in f.products["sparse2d"]:
                raise DataFileError(f.path, f"no sparse2d '{SEGMENT}' product: the file has no labels")

    def __len__(self) -> int:
        return self.offsets[-1]

    def locate(self, index: int) -> tuple[object, int]:
        """``(file, entry)`` of a global index: the :class:`Larcv3File` or source, and the entry in it."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        k = bisect_right(self.offsets, index) - 1
        return self.files[k], index - self.offsets[k]

    def _projection(self, images, f: Larcv3File, what: str):
        for img in images:
            if img.meta.projection_id == self.plane:
                return img
        raise DataFileError(f.path, f"{what} has no projection {self.plane}")

    def __getitem__(self, index: int) -> dict:
        f, entry = self.locate(index)
        if not isinstance(f, Larcv3File):
            return self._source_item(f, entry, index)
        wire = self._projection(f.sparse2d(WIRE, entry, self.plane), f, WIRE)
        image = wire.dense()
        _check_finite(image, f.path, entry)
        apply_threshold(image, self.threshold)
        item = {"image": torch.from_numpy(image[None]), "index": index}  # image: a fresh array of our own
        if not self.labels:
            return item
        label = self._projection(f.sparse2d(SEGMENT, entry, self.plane), f, SEGMENT).dense().astype(np.int64)
        label[image == 0] = 0
        if label.max(initial=0) > 2 or label.min(initial=0) < 0:
            raise DataFileError(f.path, f"entry {entry}: labels outside 0..2")
        item["label"] = torch.from_numpy(label)
        if INSTANCE in f.products["cluster2d"]:
            inst = self._projection(f.cluster2d(INSTANCE, entry, self.plane), f, INSTANCE).dense_ids()
            inst = inst.astype(np.int64)
            inst[image == 0] = -1
        else:
            inst = np.full(image.shape, -1, dtype=np.int64)
        item["instance"] = torch.from_numpy(inst)
        vertex = np.full(2, np.nan, dtype=np.float32)
        if VERTEX in f.products["sparse2d"]:
            v = self._projection(f.sparse2d(VERTEX, entry, self.plane), f, VERTEX)
            if len(v.index):
                row, col = v.rows_cols()
                vertex[:] = (row[0], col[0])
        item["vertex"] = torch.from_numpy(vertex)
        return item

    def _source_item(self, src, entry: int, index: int) -> dict:
        """The item of a non-larcv3 source (its dense planes)."""
        planes = src.planes(entry, self.plane)
        if not planes:
            raise DataFileError(src.path, f"entry {entry} has no projection {self.plane}")
        p = planes[0]
        image = np.array(p.image, dtype=np.float32)  # a copy: the threshold must not change the source's array
        _check_finite(image, src.path, entry)
        apply_threshold(image, self.threshold)
        item = {"image": torch.from_numpy(image[None]), "index": index}
        if not self.labels:
            return item
        label = p.label.astype(np.int64)
        label[image == 0] = 0
        inst = p.instance.astype(np.int64)
        inst[image == 0] = -1
        vertex = np.full(2, np.nan, dtype=np.float32)
        if p.vertex is not None:
            vertex[:] = p.vertex
        item.update(label=torch.from_numpy(label), instance=torch.from_numpy(inst), vertex=torch.from_numpy(vertex))
        return item


def _open(path: str | Path):
    """A :class:`Larcv3File`, or the source of a ROOT / numpy file (recognised by its first bytes)."""
    p = Path(path)
    if p.is_file() and sniff(p) in ("root", "npy", "npz"):
        return open_input(p)
    return Larcv3File(p)


def _check_finite(image: np.ndarray, path, entry: int) -> None:
    """NaN/inf pixels are refused here, as ``predict`` refuses them (they would poison metrics and training)."""
    bad = int(image.size - np.count_nonzero(np.isfinite(image)))
    if bad:
        raise DataFileError(path, f"entry {entry}: {bad} NaN/inf pixels")
