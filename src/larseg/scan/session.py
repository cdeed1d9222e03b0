"""A hand-scanning session: the events of some files, their overlays, and the scanner's edits.

This is ``larseg scan`` without the web: :mod:`larseg.scan.server` is a thin JSON layer over it.

* **Events** are every entry of every input file (any format :func:`~larseg.data.sources.open_input`
  reads), in command-line order; each has the planes the file holds (or only ``planes``).
* **Pixels** shown and labelled are the plane's pixels at or above the pixel threshold (10, as
  the network sees them). Labels only ever go on such pixels: every tool keeps the non-zero
  pixels of its region.
* **Tools** (``edit``): ``brush`` (the pixels within ``radius`` of a stroke's points),
  ``polygon`` (the pixels inside a lasso polygon), ``cluster`` (the 8-connected cluster of
  non-zero pixels at the clicked pixel, or at the nearest non-zero pixel within 3 pixels),
  ``pixels`` (explicit flat indices) and ``network`` ("start from the network": every non-zero
  pixel the scanner has not labelled yet gets the network's track/shower label; refused in
  blind mode). Code 0 erases.
* **Undo/redo** per plane, in memory: an undo is a new edit restoring the previous codes, so it
  is journaled like any other (a restart keeps the labels, not the undo history).
* **Overlays**: network scores (a model, or a ``larseg predict`` file whose entries are the
  inputs' events in order) and simulation truth (where a file has it). Blind mode serves neither.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.path import Path as PolygonPath
from scipy import ndimage

from larseg.conventions import PIXEL_THRESHOLD, SHOWER, TRACK
from larseg.data.handlabels import HAND_CLASSES, IGNORE, UNLABELLED, EventKey, LabelStore, PlaneLabels
from larseg.data.larcv3 import Larcv3File
from larseg.data.products import PlaneImage
from larseg.data.sources import open_input
from larseg.errors import DataFileError, LarsegError

TOOLS = ("brush", "polygon", "cluster", "pixels", "network")
#: Brush radius limit (pixels) and the most points a stroke or polygon may have.
MAX_RADIUS, MAX_POINTS = 64, 20000
#: A click this close (pixels) to a non-zero pixel selects that pixel's cluster.
CLICK_REACH = 3
#: Planes kept in memory (images and network scores) at once.
CACHE_PLANES = 12
PLANE_NAMES = {0: "U", 1: "V", 2: "Y"}


class ScanError(LarsegError):
    """A request the session cannot carry out (bad event, plane, tool or pixels): a 4xx answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class _History:
    undo: list = field(default_factory=list)
    redo: list = field(default_factory=list)


@dataclass
class _Plane:
    image: np.ndarray  # float32, thresholded
    nonzero: np.ndarray  # sorted flat row-major indices of the pixels >= threshold
    truth: np.ndarray | None  # uint8 0/1/2 or None
    meta: object


class ScanSession:
    def __init__(self, files, labels: str | Path, scanner: str, *, model: str | Path | None = None,
                 predictions: str | Path | None = None, blind: bool = False, planes=None,
                 producer: str | None = None, threshold: float = PIXEL_THRESHOLD):
        if not files:
            raise LarsegError("no input files given")
        if not scanner or len(scanner) > 80 or not scanner.isprintable():
            raise LarsegError(f"scanner name {scanner!r}: give a short printable name (--scanner)")
        if model is not None and predictions is not None:
            raise LarsegError("give --model or --predictions, not both")
        self.sources = [open_input(f, producer) for f in files]
        self.paths = [str(Path(f).resolve()) for f in files]
        self.blind = blind
        self.threshold = float(threshold)
        self.scanner = scanner
        self.events: list[tuple[int, int]] = [(s, e) for s, src in enumerate(self.sources)
                                              for e in range(src.n_entries)]
        if not self.events:
            raise DataFileError(Path(files[0]), "no events to scan in the files given")
        self.want_planes = None if planes is None else sorted({int(p) for p in planes})
        self.predictor = None
        self.predictions = None
        if model is not None:
            from larseg.model.predictor import Predictor  # loads torch: only when a model is asked for

            self.predictor = Predictor.load(model)
        if predictions is not None:
            self.predictions = Larcv3File(predictions)
            if len(self.predictions) != len(self.events):
                raise DataFileError(Path(predictions), f"{len(self.predictions)} entries, but the inputs hold "
                                                       f"{len(self.events)} events (a larseg predict file of the "
                                                       "same inputs, in the same order, is needed)")
        self.store = LabelStore(labels, scanner)
        self._lock = threading.RLock()
        self._planes: OrderedDict = OrderedDict()
        self._scores: OrderedDict = OrderedDict()
        self._history: dict[tuple[int, int], _History] = {}
        self._uncertainty: dict[int, float] = {}

    # -- events and planes

    def _check_event(self, i: int) -> tuple[int, int]:
        if not isinstance(i, int) or not 0 <= i < len(self.events):
            raise ScanError(f"event {i}: there are {len(self.events)} events (0..{len(self.events) - 1})", 404)
        return self.events[i]

    def key(self, i: int) -> EventKey:
        s, e = self._check_event(i)
        return EventKey(self.paths[s], e)

    def plane_ids(self, i: int) -> list[int]:
        s, e = self._check_event(i)
        ids = [im.projection_id for im in self.sources[s].images(e)]
        return [p for p in ids if self.want_planes is None or p in self.want_planes]

    def plane(self, i: int, p: int) -> _Plane:
        with self._lock:
            if (i, p) in self._planes:
                self._planes.move_to_end((i, p))
                return self._planes[(i, p)]
            s, e = self._check_event(i)
            if p not in self.plane_ids(i):
                raise ScanError(f"event {i} has no plane {p} (planes {self.plane_ids(i)})", 404)
            src = self.sources[s]
            pi: PlaneImage = src.planes(e, projection=p)[0]
            image = np.array(pi.image, dtype=np.float32)
            image[~np.isfinite(image)] = 0
            image[image < self.threshold] = 0
            nonzero = np.flatnonzero(image)
            truth = pi.label if src.has_labels else None
            plane = _Plane(image, nonzero, truth, pi.meta)
            self._planes[(i, p)] = plane
            while len(self._planes) > CACHE_PLANES:
                self._planes.popitem(last=False)
            return plane

    def _register(self, i: int, p: int) -> PlaneLabels:
        """The stored labels of a plane, journaling the event and plane at their first edit (viewing
        an event writes nothing)."""
        plane = self.plane(i, p)
        s, e = self.events[i]
        ev = self.store.register(self.key(i), self.sources[s].event_id(e), {p: plane.meta})
        return ev.planes[p]

    def _stored(self, i: int, p: int) -> PlaneLabels:
        ev = self.store.events.get(self.key(i))
        if ev is not None and p in ev.planes:
            return ev.planes[p]
        plane = self.plane(i, p)
        return PlaneLabels(plane.image.shape, plane.meta)

    def info(self) -> dict:
        return {"events": len(self.events), "scanner": self.scanner, "blind": self.blind,
                "files": [Path(p).name for p in self.paths], "classes": list(HAND_CLASSES),
                "network": self.has_network and not self.blind, "threshold": self.threshold,
                "labels": self.store.path.name, "tools": list(TOOLS)}

    @property
    def has_network(self) -> bool:
        return self.predictor is not None or self.predictions is not None

    def event(self, i: int) -> dict:
        s, e = self._check_event(i)
        src = self.sources[s]
        run, subrun, event = src.event_id(e)
        ev = self.store.events.get(self.key(i))
        return {"index": i, "file": Path(self.paths[s]).name, "entry": e, "run": run, "subrun": subrun,
                "event": event, "planes": [{"id": p, "name": PLANE_NAMES.get(p, str(p))} for p in self.plane_ids(i)],
                "truth": src.has_labels and not self.blind, "network": self.has_network and not self.blind,
                "done": bool(ev and ev.done)}

    def image(self, i: int, p: int) -> dict:
        plane = self.plane(i, p)
        rows, cols = plane.image.shape
        values = plane.image.reshape(-1)[plane.nonzero]
        return {"rows": rows, "cols": cols, "index": plane.nonzero.tolist(),
                "value": np.round(values, 2).tolist(),
                "vmax": float(np.percentile(values, 99)) if len(values) else 1.0}

    # -- overlays

    def scores(self, i: int, p: int) -> np.ndarray:
        """Network softmax scores (3, rows, cols) of a plane."""
        if self.blind:
            raise ScanError("blind mode: the network's labels are hidden", 403)
        if not self.has_network:
            raise ScanError("no network: start larseg scan with --model or --predictions", 404)
        with self._lock:
            if (i, p) in self._scores:
                self._scores.move_to_end((i, p))
                return self._scores[(i, p)]
            plane = self.plane(i, p)
            if self.predictor is not None:
                scores = self.predictor.predict(plane.image).astype(np.float32)
            else:
                scores = self._file_scores(i, p, plane)
            self._scores[(i, p)] = scores
            while len(self._scores) > CACHE_PLANES:
                self._scores.popitem(last=False)
            return scores

    def _file_scores(self, i: int, p: int, plane: _Plane) -> np.ndarray:
        shape = plane.image.shape
        out = np.zeros((3, *shape), np.float32)
        try:
            track = [im for im in self.predictions.sparse2d("score_track", i) if im.meta.projection_id == p]
            shower = [im for im in self.predictions.sparse2d("score_shower", i) if im.meta.projection_id == p]
        except DataFileError as exc:
            raise ScanError(str(exc), 500) from None
        if not track or not shower or track[0].meta.dense_shape != shape:
            raise ScanError(f"{self.predictions.path}: entry {i} has no plane {p} scores of shape {shape}", 500)
        out[1], out[2] = track[0].dense(), shower[0].dense()
        out[0] = 1 - out[1] - out[2]
        return out

    def network(self, i: int, p: int) -> dict:
        scores = self.scores(i, p)
        plane = self.plane(i, p)
        flat = scores.reshape(3, -1)[:, plane.nonzero]
        label = np.where(flat[SHOWER] > flat[TRACK], SHOWER, TRACK)
        label[(flat[0] > flat[TRACK]) & (flat[0] > flat[SHOWER])] = 0
        share = flat[SHOWER] / np.maximum(flat[TRACK] + flat[SHOWER], 1e-6)
        return {"index": plane.nonzero.tolist(), "label": label.tolist(),
                "shower": np.round(share, 3).tolist()}

    def truth(self, i: int, p: int) -> dict:
        if self.blind:
            raise ScanError("blind mode: the simulation truth is hidden", 403)
        plane = self.plane(i, p)
        if plane.truth is None:
            raise ScanError(f"{self.event(i)['file']} holds no simulation truth", 404)
        return {"index": plane.nonzero.tolist(), "label": plane.truth.reshape(-1)[plane.nonzero].tolist()}

    # -- labels

    def labels(self, i: int, p: int) -> dict:
        plane = self.plane(i, p)
        lab = self._stored(i, p)
        return {"index": lab.index.tolist(), "code": lab.code.tolist(), "progress": self._progress(i, p, plane, lab)}

    def _progress(self, i: int, p: int, plane: _Plane, lab: PlaneLabels) -> dict:
        done = sum(1 for ev in self.store.events.values() if ev.done and ev.key.source in self.paths)
        hist = self._history.get((i, p), _History())
        return {"events_done": done, "events_total": len(self.events), "nonzero": int(len(plane.nonzero)),
                "unlabelled": int(len(plane.nonzero) - np.count_nonzero(np.isin(lab.index, plane.nonzero))),
                **lab.counts(), "can_undo": bool(hist.undo), "can_redo": bool(hist.redo),
                "done": self.mark_is_done(i)}

    def _region(self, plane: _Plane, tool: str, points, radius: float, pixels) -> np.ndarray:
        rows, cols = plane.image.shape
        nz = plane.nonzero
        if tool == "pixels":
            idx = np.unique(np.asarray(pixels if pixels is not None else [], dtype=np.int64))
            if len(idx) and (idx.min() < 0 or idx.max() >= rows * cols):
                raise ScanError(f"pixel index out of the {rows} x {cols} plane")
            return idx[np.isin(idx, nz)]
        pts = np.asarray(points if points is not None else [], dtype=np.float64).reshape(-1, 2)
        if not len(pts):
            raise ScanError(f"tool {tool}: no points given")
        if not np.all(np.isfinite(pts)):
            raise ScanError(f"tool {tool}: points must be finite numbers")
        r, c = np.divmod(nz, cols)
        if tool == "brush":
            if not 0 <= radius <= MAX_RADIUS:
                raise ScanError(f"brush radius {radius}: must be 0..{MAX_RADIUS} pixels")
            near = np.zeros(len(nz), bool)
            for pr, pc in pts:  # points of a stroke, in (row, col)
                near |= (r - pr) ** 2 + (c - pc) ** 2 <= radius ** 2 + 0.25
            return nz[near]
        if tool == "polygon":
            if len(pts) < 3:
                raise ScanError("tool polygon: at least 3 points are needed")
            inside = PolygonPath(pts[:, ::-1]).contains_points(np.stack([c, r], 1) if len(nz) else np.zeros((0, 2)))
            return nz[inside]
        if tool == "cluster":
            pr, pc = pts[0]
            if len(nz) == 0:
                return nz
            d2 = (r - pr) ** 2 + (c - pc) ** 2
            k = int(np.argmin(d2))
            if d2[k] > CLICK_REACH ** 2:
                return nz[:0]
            mask = plane.image > 0
            lab, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
            comp = lab.reshape(-1)[nz] == lab.reshape(-1)[nz[k]]
            return nz[comp]
        raise ScanError(f"tool {tool!r}: expected one of {', '.join(TOOLS)}")

    def edit(self, i: int, p: int, tool: str, code: int, *, points=None, radius: float = 0.0,
             pixels=None) -> dict:
        """Label a region of plane ``p`` of event ``i`` with ``code`` (module doc); journaled before it returns."""
        if code not in range(len(HAND_CLASSES)):
            raise ScanError(f"class code {code!r}: expected 0 (erase), 1 track, 2 shower or 3 ignore")
        if tool not in TOOLS:
            raise ScanError(f"tool {tool!r}: expected one of {', '.join(TOOLS)}")
        if points is not None and len(points) > MAX_POINTS:
            raise ScanError(f"tool {tool}: {len(points)} points, at most {MAX_POINTS}")
        with self._lock:
            plane = self.plane(i, p)
            key = self.key(i)
            stored = self._register(i, p)
            if tool == "network":
                net = self.network(i, p)
                idx = np.asarray(net["index"], np.int64)
                codes = np.asarray(net["label"], np.uint8)
                have = stored.codes_at(idx)
                keep = (have == UNLABELLED) & (codes != 0)
                idx, codes = idx[keep], codes[keep]
            else:
                idx = self._region(plane, tool, points, radius, pixels)
                codes = np.full(len(idx), code, np.uint8)
            changed, before = self.store.set(key, p, idx, codes)
            if len(changed):
                after = stored.codes_at(changed)
                hist = self._history.setdefault((i, p), _History())
                hist.undo.append((changed, before, after))
                hist.redo.clear()
            return {"changed": int(len(changed)), **self.labels(i, p)}

    def undo(self, i: int, p: int, redo: bool = False) -> dict:
        with self._lock:
            self.plane(i, p)
            hist = self._history.setdefault((i, p), _History())
            src, dst = (hist.redo, hist.undo) if redo else (hist.undo, hist.redo)
            if not src:
                raise ScanError(f"nothing to {'redo' if redo else 'undo'} on this plane", 409)
            idx, before, after = src.pop()
            self.store.set(self.key(i), p, idx, after if redo else before)
            dst.append((idx, before, after))
            return {"changed": int(len(idx)), **self.labels(i, p)}

    def mark_done(self, i: int, done: bool) -> dict:
        with self._lock:
            for p in self.plane_ids(i):
                self._register(i, p)
            self.store.mark_done(self.key(i), done)
            return self.event(i)

    # -- navigation

    def uncertainty(self, i: int) -> float:
        """Mean over non-zero pixels of the network's track/shower ambiguity (1 at 50/50, 0 when sure)."""
        if i not in self._uncertainty:
            values = []
            for p in self.plane_ids(i):
                share = np.asarray(self.network(i, p)["shower"])
                values.append(1 - np.abs(2 * share - 1))
            allv = np.concatenate(values) if values else np.zeros(0)
            self._uncertainty[i] = float(allv.mean()) if len(allv) else 0.0
        return self._uncertainty[i]

    def next_event(self, i: int, step: int = 1, order: str = "index") -> dict:
        self._check_event(i)
        if order == "index":
            return {"index": (i + step) % len(self.events)}
        if order == "uncertainty":
            if not self.has_network or self.blind:
                raise ScanError("ordering by network uncertainty needs a network and no blind mode", 409)
            todo = [k for k in range(len(self.events)) if k != i and not self.mark_is_done(k)]
            if not todo:
                return {"index": i}
            return {"index": max(todo, key=self.uncertainty)}
        raise ScanError(f"order {order!r}: expected index or uncertainty")

    def mark_is_done(self, i: int) -> bool:
        ev = self.store.events.get(self.key(i))
        return bool(ev and ev.done)

    def save(self) -> dict:
        with self._lock:
            path = self.store.save()
            return {"saved": path.name, "events": len(self.store.events)}

    def close(self) -> None:
        with self._lock:
            self.store.close()


__all__ = ["IGNORE", "ScanError", "ScanSession", "TOOLS"]
