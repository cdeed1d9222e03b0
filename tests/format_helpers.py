"""Event files in every input format for the tests: synthetic LArCV1/LArCV2 ROOT (uproot), .npy, .npz.

Images are larseg's dense (rows = time, columns = wire) arrays; labels 0 background, 1 track, 2 shower.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def event_planes(seed: int, n_planes: int = 3, rows: int = 40, cols: int = 48):
    """One event: ``(images, labels)``, lists of ``n_planes`` (rows, cols) arrays with a track
    (label 1) along a row and a shower blob (label 2)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for p in range(n_planes):
        image = np.zeros((rows, cols), np.float32)
        label = np.zeros((rows, cols), np.uint8)
        r = int(rng.integers(5, rows - 5))
        image[r, 4:cols - 4] = rng.uniform(40, 80, cols - 8)
        label[r, 4:cols - 4] = 1
        rr = np.clip(rng.normal(rows / 2, 3, 40).round().astype(int), 0, rows - 1)
        cc = np.clip(rng.normal(cols / 2 + p, 3, 40).round().astype(int), 0, cols - 1)
        keep = label[rr, cc] == 0
        image[rr[keep], cc[keep]] = rng.uniform(20, 200, keep.sum())
        label[rr[keep], cc[keep]] = 2
        images.append(image)
        labels.append(label)
    return images, labels


def _column_major(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image.T).reshape(-1)  # flat index = col * rows + row


def _image2d_leaves(layout: int, events: list[list[np.ndarray]]) -> dict[str, np.ndarray]:
    """The ``_image_v`` leaves of an image2d tree: ``(entries, images, ...)`` arrays, so that uproot
    writes a TTree (fixed-size leaves; real files hold vectors, read the same way)."""
    leaves: dict[str, list] = {}
    for images in events:
        row: dict[str, list] = {}
        for p, image in enumerate(images):
            rows, cols = image.shape
            stored = image if layout == 2 else image[::-1]  # LArCV1: row 0 is the top (highest y)
            x0, y0, w, h = 3.0 * p, 100.0, 0.3 * cols, 0.333 * rows
            values = {"_img": _column_major(stored), "_meta._row_count": rows, "_meta._col_count": cols}
            if layout == 2:
                values.update({"_meta._id": p, "_meta._p1.x": x0, "_meta._p1.y": y0, "_meta._p2.x": x0 + w,
                               "_meta._p2.y": y0 + h})
            else:
                values.update({"_meta._plane": p, "_meta._origin.x": x0, "_meta._origin.y": y0 + h,
                               "_meta._width": w, "_meta._height": h})
            for name, v in values.items():
                row.setdefault(name, []).append(v)
        for name, v in row.items():
            leaves.setdefault(name, []).append(v)
    out = {}
    for name, v in leaves.items():
        dtype = np.float32 if name == "_img" else np.int32 if name.endswith(("_id", "_plane", "_count")) \
            else np.float64
        out[f"_image_v.{name}"] = np.asarray(v, dtype=dtype)
    return out


def write_image2d_trees(path, layout: int, trees: dict[str, list[list[np.ndarray]]]) -> Path:
    """A LArCV1 (``layout=1``) or LArCV2 ROOT file with one ``image2d_<name>_tree`` per item of ``trees``
    (name -> per entry, the images of its planes); event ids run 7, subrun 1, event 100 + entry."""
    import uproot

    n_entries = len(next(iter(trees.values())))
    ids = {"_run": np.full(n_entries, 7, np.int32), "_subrun": np.ones(n_entries, np.int32),
           "_event": 100 + np.arange(n_entries, dtype=np.int32)}
    path = Path(path)
    with uproot.recreate(path) as f:
        for name, images in trees.items():
            branches = {**_image2d_leaves(layout, images), **ids}
            tree = f.mktree(f"image2d_{name}_tree", {k: np.dtype((v.dtype, v.shape[1:])) for k, v in branches.items()})
            tree.extend(branches)
    return path


def write_larcv_root(path, layout: int, n_entries: int = 3, labels: bool = True, producer: str = "data",
                     seed: int = 0) -> tuple[Path, list]:
    """A LArCV1 or LArCV2 ROOT file: ``image2d_<producer>_tree`` and, with ``labels``,
    ``image2d_segment_tree``. Returns the path and the ``(images, labels)`` of every entry."""
    events = [event_planes(seed + k) for k in range(n_entries)]
    trees = {producer: [e[0] for e in events]}
    if labels:
        trees["segment"] = [[lab.astype(np.float32) for lab in e[1]] for e in events]
    return write_image2d_trees(path, layout, trees), events


def write_npz(path, n_entries: int = 3, labels: bool = True, seed: int = 0) -> tuple[Path, list]:
    """A ``plane<k>`` (and ``label<k>``) ``.npz`` of ``n_entries`` events."""
    from larseg.data.arrays import save_npz

    events = [event_planes(seed + k) for k in range(n_entries)]
    planes = [np.stack([e[0][p] for e in events]) for p in range(3)]
    labs = [np.stack([e[1][p] for e in events]) for p in range(3)] if labels else None
    ids = np.array([[3, 0, 50 + k] for k in range(n_entries)])
    return save_npz(path, planes, ids, labels=labs), events


def write_npy(path, n_entries: int = 2, seed: int = 0) -> tuple[Path, list]:
    """An ``(N, P, H, W)`` ``.npy`` of ``n_entries`` events (images only)."""
    events = [event_planes(seed + k) for k in range(n_entries)]
    np.save(path, np.stack([np.stack(e[0]) for e in events]))
    return Path(path), events
