"""Reading ``image2d`` products of LArCV1 and LArCV2 ROOT files with uproot (no ROOT install).

Both versions store one TTree per product, ``image2d_<producer>_tree``, with one
split branch ``image2d_<producer>_branch`` of class ``larcv::EventImage2D``:
the event ids (``larcv::EventBase``: ``_run``, ``_subrun``, ``_event``) and
``_image_v``, a vector of ``larcv::Image2D`` whose leaves are

==========================  ====================================  =====================================
leaf of ``_image_v.``       LArCV2                                LArCV1
==========================  ====================================  =====================================
``_img``                    pixel values, ``vector<float>``       same
``_meta._row_count/_col``   rows, columns                         same
``_meta._id``               projection id                         (``_meta._plane``: the plane id)
box                         ``_meta._p1.x/y`` (min corner),       ``_meta._origin.x/y`` (top-left),
                            ``_meta._p2.x/y`` (max corner)        ``_meta._width``, ``_meta._height``
row 0 is                    the lowest y (earliest tick)          the highest y (latest tick)
==========================  ====================================  =====================================

Pixels are column-major in both: ``flat index = col * rows + row``. larseg's
images have row 0 at the lowest y, so LArCV1 images are flipped upside down on
reading (their meta is converted accordingly). The layout is recognised from
the leaf names, so the reader does not depend on the file's class version.
LArCV2 is checked against real LArCV2 files (the shared fixtures); the LArCV1
mapping follows the LArCV1 headers and is tested on synthetic leaves only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from larseg.data.arrays import DenseImage
from larseg.data.larcv3 import ImageMeta
from larseg.errors import DataFileError, LarsegError, first_line

ROOT_SUFFIXES = (".root",)

#: short leaf names (the part after ``_image_v.``) each layout needs
_V2_LEAVES = ("_img", "_meta._id", "_meta._p1.x", "_meta._p1.y", "_meta._p2.x", "_meta._p2.y",
              "_meta._row_count", "_meta._col_count")
_V1_LEAVES = ("_img", "_meta._plane", "_meta._origin.x", "_meta._origin.y", "_meta._width", "_meta._height",
              "_meta._row_count", "_meta._col_count")
_ID_LEAVES = ("_run", "_subrun", "_event")


def _uproot():
    try:
        import uproot
    except ImportError:
        raise LarsegError("reading ROOT files needs uproot: pip install 'larseg[root]'") from None
    return uproot


def _short(key: str) -> str:
    """The member path of a leaf: ``a_branch/_image_v/_image_v._meta._id`` -> ``_meta._id``; ids -> ``_run``."""
    last = key.rsplit("/", 1)[-1]
    if last.startswith("_image_v."):
        return last[len("_image_v."):]
    return last


def images_from_leaves(layout: int, leaves: dict[str, np.ndarray], where: str = "entry") -> list[DenseImage]:
    """Dense images of one entry from its ``_image_v`` leaves (short names, one value per image).

    Raises ``ValueError`` (with ``where`` in the message) if the pixel count does not match the meta.
    """
    n = len(leaves["_img"])
    out = []
    for k in range(n):
        rows, cols = int(leaves["_meta._row_count"][k]), int(leaves["_meta._col_count"][k])
        flat = np.asarray(leaves["_img"][k], dtype=np.float32)
        if flat.size != rows * cols:
            raise ValueError(f"{where} image {k}: {flat.size} pixels, its meta says {rows} x {cols}")
        image = flat.reshape(cols, rows).T  # column-major: flat = col * rows + row
        if layout == 2:
            pid = int(leaves["_meta._id"][k])
            x0, y0 = float(leaves["_meta._p1.x"][k]), float(leaves["_meta._p1.y"][k])
            width = float(leaves["_meta._p2.x"][k]) - x0
            height = float(leaves["_meta._p2.y"][k]) - y0
        else:
            pid = int(leaves["_meta._plane"][k])
            width, height = float(leaves["_meta._width"][k]), float(leaves["_meta._height"][k])
            x0 = float(leaves["_meta._origin.x"][k])
            y0 = float(leaves["_meta._origin.y"][k]) - height  # origin is the top-left corner
            image = image[::-1]  # row 0 = top (highest y) in LArCV1
        meta = ImageMeta(pid, (cols, rows), (width, height), (x0, y0))
        out.append(DenseImage(meta, np.ascontiguousarray(image, dtype=np.float32)))
    return out


#: image2d producers that hold truth labels, not images (see :mod:`larseg.data.sources`)
LABEL_PRODUCERS = ("segment",)


def default_producer(producers: list[str]) -> str:
    """The image producer read when none is chosen: the only image2d tree; else ``wire``; else the only
    tree that is not a label tree (``data`` of a ``data`` + ``segment`` file)."""
    if len(producers) == 1:
        return producers[0]
    if "wire" in producers:
        return "wire"
    images = [p for p in producers if p not in LABEL_PRODUCERS]
    return images[0] if len(images) == 1 else "wire"


class LarcvRootFile:
    """The ``image2d`` images of a LArCV1/LArCV2 ROOT file, entry by entry.

    ``producer`` picks ``image2d_<producer>_tree``; by default the only image2d
    tree, else ``wire``, else the only one that is not a label tree (``segment``).
    """

    def __init__(self, path: str | Path, producer: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataFileError(self.path, "no such file")
        uproot = _uproot()
        try:
            self._file = uproot.open(self.path)
            names = {k.split(";")[0]: c for k, c in self._file.classnames().items()}
        except Exception as exc:  # uproot raises many types for non-ROOT or damaged files
            raise DataFileError(self.path, f"not a readable ROOT file ({first_line(exc)})") from None
        trees = sorted(n for n, c in names.items() if c == "TTree")
        self.trees = trees
        self.producers = sorted(n[len("image2d_"):-len("_tree")] for n in trees
                                if n.startswith("image2d_") and n.endswith("_tree"))
        if not self.producers:
            raise DataFileError(self.path, f"no image2d_<producer>_tree in this ROOT file "
                                           f"(has: {', '.join(sorted(names)) or 'nothing'})")
        if producer is None:
            producer = default_producer(self.producers)
        if producer not in self.producers:
            raise DataFileError(self.path, f"no image2d producer '{producer}' (has: {', '.join(self.producers)}); "
                                           "choose one with --producer")
        self.producer = producer
        try:
            self._tree = self._file[f"image2d_{producer}_tree"]
            self.n_entries = int(self._tree.num_entries)
            self._keys = self._find_leaves()
        except DataFileError:
            raise
        except Exception as exc:  # damaged compression blocks or streamers: zlib, uproot, struct errors
            raise DataFileError(self.path, f"cannot read image2d_{producer}_tree ({first_line(exc)})") from None
        self._particle_tree = None
        self._cache: tuple[int, dict] | None = None

    def _find_leaves(self) -> dict[str, str]:
        keys = {}
        for key in self._tree.keys(recursive=True):
            short = _short(key)
            if short in _V2_LEAVES or short in _V1_LEAVES or short in _ID_LEAVES:
                keys.setdefault(short, key)
        if all(k in keys for k in _V2_LEAVES):
            self.layout = 2
            need = _V2_LEAVES
        elif all(k in keys for k in _V1_LEAVES):
            self.layout = 1
            need = _V1_LEAVES
        else:
            missing = [k for k in _V2_LEAVES if k not in keys]
            raise DataFileError(self.path, f"image2d_{self.producer}_tree is not a LArCV1/LArCV2 EventImage2D "
                                           f"branch (no _image_v.{missing[0]} leaf)")
        return {k: keys[k] for k in need + tuple(k for k in _ID_LEAVES if k in keys)}

    @property
    def version(self) -> str:
        return f"LArCV{self.layout}"

    def __len__(self) -> int:
        return self.n_entries

    def _check_entry(self, entry: int) -> None:
        if not 0 <= entry < self.n_entries:
            raise DataFileError(self.path, f"entry {entry} out of range (file has {self.n_entries} entries)")

    def _leaves(self, entry: int) -> dict[str, np.ndarray]:
        self._check_entry(entry)
        if self._cache is not None and self._cache[0] == entry:
            return self._cache[1]
        try:
            arrays = self._tree.arrays(list(self._keys.values()), entry_start=entry, entry_stop=entry + 1,
                                       library="np")
        except Exception as exc:
            raise DataFileError(self.path, f"entry {entry}: cannot read image2d_{self.producer}_tree "
                                           f"({first_line(exc)})") from None
        leaves = {short: arrays[key][0] for short, key in self._keys.items()}
        self._cache = (entry, leaves)
        return leaves

    def event_id(self, entry: int) -> tuple[int, int, int]:
        leaves = self._leaves(entry)
        return tuple(int(leaves[k]) if k in leaves else (entry if k == "_event" else 0)  # type: ignore[return-value]
                     for k in _ID_LEAVES)

    def images(self, entry: int) -> list[DenseImage]:
        """Every image of ``entry`` (dense ``(rows, cols)`` float32 and its meta), in stored order."""
        leaves = self._leaves(entry)
        try:
            return images_from_leaves(self.layout, leaves, f"entry {entry}")
        except ValueError as exc:
            raise DataFileError(self.path, str(exc)) from None

    def particles(self, entry: int, producer: str | None = None) -> dict[str, np.ndarray]:
        """``pdg`` and ``energy_init`` of the ``particle_<producer>_tree`` (LArCV2 ``ParticleSet``) of ``entry``."""
        self._check_entry(entry)
        names = [k.split(";")[0] for k in self._file.keys() if k.startswith("particle_")]
        if producer is None and names:
            producer = names[0][len("particle_"):-len("_tree")]
        tname = f"particle_{producer}_tree"
        if tname not in names:
            raise DataFileError(self.path, f"no {tname}")
        try:
            tree = self._file[tname]
            keys = {}
            for key in tree.keys(recursive=True):
                last = key.rsplit("/", 1)[-1]
                for field in ("pdg", "energy_init"):
                    if last.endswith(f"._{field}") and "parent" not in last and "ancestor" not in last:
                        keys[field] = key
            if len(keys) != 2:
                raise DataFileError(self.path, f"{tname} has no _part_v._pdg / _energy_init leaves")
            arrays = tree.arrays(list(keys.values()), entry_start=entry, entry_stop=entry + 1, library="np")
            return {f: np.asarray(arrays[k][0]) for f, k in keys.items()}
        except DataFileError:
            raise
        except Exception as exc:  # damaged baskets: zlib, uproot, struct errors
            raise DataFileError(self.path, f"entry {entry}: cannot read {tname} ({first_line(exc)})") from None
