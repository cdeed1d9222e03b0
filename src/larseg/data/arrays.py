"""Plain numpy images (``.npy`` / ``.npz``) as an input of ``larseg predict``, and :class:`DenseImage`.

Images are ``(rows = time, columns = wire)``, like larseg's dense images.

``.npy``: one array, read memory-mapped, of shape

* ``(H, W)``        one plane of one event (projection 0),
* ``(P, H, W)``     the P planes of one event (projections 0 .. P-1),
* ``(N, P, H, W)``  N events of P planes each.

``.npz``: either

* ``images``: an array with the ``.npy`` shapes above, or
* ``plane0``, ``plane1``, ...: one array per projection, ``(H_p, W_p)`` for one event or
  ``(N, H_p, W_p)`` for N events (planes of different sizes, e.g. 2400/2400/3456 wires),

plus, optionally, ``run``, ``subrun`` and ``event``: integer arrays of length N
(default ``0, 0, entry``), and truth labels (0 background, 1 track, 2 shower, larseg's
codes) of the same shape as the images: ``labels`` beside ``images``, or ``label0``,
``label1``, ... beside ``plane0``, ``plane1``, ... (one for every plane). Pickled
(object) arrays are refused.

Pixel sizes are unknown for plain arrays: their :class:`ImageMeta` has
``image_sizes`` in pixels (1 x 1 per pixel) and origin (0, 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from larseg.data.larcv3 import ImageMeta
from larseg.errors import DataFileError, first_line

ARRAY_SUFFIXES = (".npy", ".npz")
_PLANE_KEY = re.compile(r"^plane(\d+)$")
_LABEL_KEY = re.compile(r"^label(\d+)$")
_ID_KEYS = ("run", "subrun", "event")


@dataclass
class DenseImage:
    """One projection of one entry as a dense ``(rows = time, columns = wire)`` float32 array."""

    meta: ImageMeta
    image: np.ndarray

    @property
    def projection_id(self) -> int:
        return self.meta.projection_id


def _check_numeric(path: Path, name: str, arr: np.ndarray) -> None:
    if arr.dtype.kind not in "biuf":
        raise DataFileError(path, f"array '{name}' has dtype {arr.dtype}; numeric images are needed")


class ArrayFile:
    """Entries of a ``.npy`` / ``.npz`` file of images (see the module doc for the accepted shapes)."""

    def __init__(self, path: str | Path, kind: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataFileError(self.path, "no such file")
        suffix = f".{kind}" if kind else self.path.suffix.lower()
        self.kind = suffix[1:]
        self._labels: dict[int, np.ndarray] = {}
        if suffix == ".npy":
            arr = self._load_npy()
            self._planes = self._split_stack(arr, "array")
            self.arrays = ["array"]
        elif suffix == ".npz":
            self._planes = self._load_npz()
        else:
            raise DataFileError(self.path, f"not a .npy or .npz file (suffix '{self.path.suffix}')")
        counts = {len(a) for a in self._planes.values()}
        if len(counts) != 1:
            sizes = ", ".join(f"plane{p}: {len(a)}" for p, a in sorted(self._planes.items()))
            raise DataFileError(self.path, f"planes hold different numbers of events ({sizes})")
        self.n_entries = counts.pop()
        if self.n_entries == 0:
            raise DataFileError(self.path, "holds no events (first dimension is 0)")
        self._ids = self._read_ids()

    # -- loading

    def _load_npy(self) -> np.ndarray:
        try:
            arr = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            if "allow_pickle" in str(exc) or "Object arrays" in str(exc) or "Python objects" in str(exc):
                raise DataFileError(self.path, "holds pickled Python objects; only numeric arrays are read") from None
            raise DataFileError(self.path, f"not a readable .npy file ({first_line(exc)})") from None
        except Exception as exc:  # damaged headers: numpy's parser raises SyntaxError, OSError ...
            raise DataFileError(self.path, f"not a readable .npy file ({first_line(exc)})") from None
        if not isinstance(arr, np.ndarray):
            raise DataFileError(self.path, "not a .npy array")
        return arr

    def _load_npz(self) -> dict[int, np.ndarray]:
        try:
            npz = np.load(self.path, allow_pickle=False)
        except Exception as exc:  # damaged archives: zipfile, zlib, struct ...
            raise DataFileError(self.path, f"not a readable .npz file ({first_line(exc)})") from None
        if not hasattr(npz, "files"):
            raise DataFileError(self.path, "not a .npz archive")
        self._npz = npz
        keys = list(npz.files)
        self.arrays = keys
        plane_keys = {int(m.group(1)): k for k in keys if (m := _PLANE_KEY.match(k))}
        label_keys = {int(m.group(1)): k for k in keys if (m := _LABEL_KEY.match(k))}
        if "images" in keys and plane_keys:
            raise DataFileError(self.path, "has both 'images' and 'plane<k>' arrays; give one or the other")
        if "images" in keys:
            if label_keys:
                raise DataFileError(self.path, "has 'images' with 'label<k>' arrays; label 'images' with 'labels', "
                                               "or give 'plane<k>' and 'label<k>' arrays")
            planes = self._split_stack(self._npz_array("images"), "images")
            if "labels" in keys:
                self._labels = self._split_stack(self._npz_array("labels"), "labels")
                self._check_label_shapes(planes, {p: "labels" for p in planes})
            return planes
        if "labels" in keys:
            raise DataFileError(self.path, "has 'labels' but no 'images' array (label 'plane<k>' with 'label<k>')")
        if not plane_keys:
            have = ", ".join(keys) or "none"
            raise DataFileError(self.path, f"no 'images' or 'plane0', 'plane1', ... arrays (has: {have})")
        planes = {p: self._plane_array(key) for p, key in sorted(plane_keys.items())}
        if label_keys:
            if sorted(label_keys) != sorted(plane_keys):
                have = ", ".join(label_keys[p] for p in sorted(label_keys))
                want = ", ".join(f"label{p}" for p in sorted(plane_keys))
                raise DataFileError(self.path, f"has {have} but planes need {want}: give one label<k> per plane<k>")
            self._labels = {p: self._plane_array(key) for p, key in sorted(label_keys.items())}
            self._check_label_shapes(planes, label_keys)
        return planes

    def _plane_array(self, key: str) -> np.ndarray:
        arr = self._npz_array(key)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise DataFileError(self.path, f"array '{key}' has shape {arr.shape}; expected (H, W) or (N, H, W)")
        self._check_sides(arr.shape[-2:], key)
        return arr

    def _check_label_shapes(self, planes: dict[int, np.ndarray], names: dict[int, str]) -> None:
        for p, image in planes.items():
            label = self._labels.get(p)
            if label is None or label.shape != image.shape:
                got = "nothing" if label is None else f"shape {label.shape}"
                raise DataFileError(self.path, f"array '{names[p]}' (plane {p}) has {got}; the images have "
                                               f"shape {image.shape}")

    def _npz_array(self, key: str) -> np.ndarray:
        try:
            arr = self._npz[key]
        except ValueError as exc:
            if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                raise DataFileError(self.path, f"array '{key}' holds pickled Python objects; only numeric "
                                               "arrays are read") from None
            raise DataFileError(self.path, f"array '{key}' is not readable ({first_line(exc)})") from None
        except Exception as exc:  # damaged members: zlib, zipfile, numpy's header parser (SyntaxError) ...
            raise DataFileError(self.path, f"array '{key}' is not readable ({first_line(exc)})") from None
        _check_numeric(self.path, key, arr)
        return arr

    def _split_stack(self, arr: np.ndarray, name: str) -> dict[int, np.ndarray]:
        """{projection: (N, H, W)} views of an (H, W), (P, H, W) or (N, P, H, W) array."""
        _check_numeric(self.path, name, arr)
        if arr.ndim == 2:
            arr = arr[None, None]
        elif arr.ndim == 3:
            arr = arr[None]
        elif arr.ndim != 4:
            raise DataFileError(self.path, f"array '{name}' has shape {arr.shape}; expected (H, W), (P, H, W) "
                                           "or (N, P, H, W)")
        if arr.shape[1] == 0:
            raise DataFileError(self.path, f"array '{name}' has shape {arr.shape}: no planes")
        self._check_sides(arr.shape[-2:], name)
        return {p: arr[:, p] for p in range(arr.shape[1])}

    def _check_sides(self, shape, name: str) -> None:
        if min(shape) == 0:
            raise DataFileError(self.path, f"array '{name}' has empty images ({shape[0]} x {shape[1]} pixels)")

    def _read_ids(self) -> np.ndarray:
        ids = np.zeros((self.n_entries, 3), dtype=np.int64)
        ids[:, 2] = np.arange(self.n_entries)
        npz = getattr(self, "_npz", None)
        if npz is None:
            return ids
        for k, key in enumerate(_ID_KEYS):
            if key not in npz.files:
                continue
            col = np.atleast_1d(self._npz_array(key))
            if col.ndim != 1 or len(col) != self.n_entries or col.dtype.kind not in "iu":
                raise DataFileError(self.path, f"array '{key}' must hold {self.n_entries} integers "
                                               f"(has shape {col.shape}, dtype {col.dtype})")
            ids[:, k] = col
        return ids

    # -- reading

    @property
    def projections(self) -> list[int]:
        return sorted(self._planes)

    @property
    def has_labels(self) -> bool:
        """Whether the file holds truth labels (``labels`` or ``label<k>`` arrays)."""
        return bool(self._labels)

    def __len__(self) -> int:
        return self.n_entries

    def event_id(self, entry: int) -> tuple[int, int, int]:
        self._check_entry(entry)
        run, subrun, event = (int(v) for v in self._ids[entry])
        return run, subrun, event

    def _check_entry(self, entry: int) -> None:
        if not 0 <= entry < self.n_entries:
            raise DataFileError(self.path, f"entry {entry} out of range (file has {self.n_entries} entries)")

    def images(self, entry: int, projections: list[int] | None = None) -> list[DenseImage]:
        """The planes of ``entry`` (all, or those of ``projections``), as float32."""
        self._check_entry(entry)
        want = self.projections if projections is None else list(projections)
        out = []
        for p in want:
            if p not in self._planes:
                raise DataFileError(self.path, f"entry {entry}: no plane {p} (has planes "
                                               f"{', '.join(map(str, self.projections))})")
            image = np.asarray(self._planes[p][entry], dtype=np.float32)
            rows, cols = image.shape
            out.append(DenseImage(ImageMeta(p, (cols, rows), (float(cols), float(rows))), image))
        return out

    def labels(self, entry: int, projections: list[int] | None = None) -> list[np.ndarray]:
        """The truth labels of ``entry`` (uint8: 0 background, 1 track, 2 shower), in the order of
        :meth:`images`; a :class:`DataFileError` if the file has none or holds other values."""
        self._check_entry(entry)
        if not self._labels:
            raise DataFileError(self.path, "holds no truth labels")
        want = self.projections if projections is None else list(projections)
        out = []
        for p in want:
            if p not in self._labels:
                raise DataFileError(self.path, f"entry {entry}: no plane {p} (has planes "
                                               f"{', '.join(map(str, self.projections))})")
            out.append(label_codes(self._labels[p][entry], self.path, f"entry {entry} plane {p}"))
        return out


def label_codes(values, path: Path, where: str) -> np.ndarray:
    """Truth labels as uint8, checked to be larseg's codes 0 (background), 1 (track), 2 (shower)."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        codes = np.where(np.isfinite(values), np.rint(values), -1).astype(np.int64)
        bad = (codes < 0) | (codes > 2) | (codes != values)
    else:
        codes = values.astype(np.int64)
        bad = (codes < 0) | (codes > 2)
    if bad.any():
        found = ", ".join(f"{v:g}" for v in np.unique(values[bad])[:3])
        raise DataFileError(path, f"{where}: truth labels must be 0 (background), 1 (track) or 2 (shower); "
                                  f"found {found}")
    return codes.astype(np.uint8)


def save_npz(path: str | Path, planes: list[np.ndarray], ids: np.ndarray | None = None,
             labels: list[np.ndarray] | None = None) -> Path:
    """Write ``planes`` (one ``(N, H_p, W_p)`` array per projection) as a ``plane<k>`` ``.npz``, with
    optional event ids ``(N, 3)`` and truth ``labels`` (``label<k>``, same shapes as the planes)."""
    arrays = {f"plane{p}": np.asarray(a) for p, a in enumerate(planes)}
    if labels is not None:
        arrays.update({f"label{p}": np.asarray(a, dtype=np.uint8) for p, a in enumerate(labels)})
    if ids is not None:
        ids = np.asarray(ids, dtype=np.int64)
        arrays.update(run=ids[:, 0], subrun=ids[:, 1], event=ids[:, 2])
    path = Path(path)
    np.savez_compressed(path, **arrays)
    return path
