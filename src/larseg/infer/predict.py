"""``larseg predict``: per-pixel scores for every plane of every event of some files, in the larcv3 layout.

Output (one entry per input event, in input order, with the input's run/subrun/event),
``sparse2d`` products over the input pixels at or above the threshold (10 by
default; every other pixel is 0, i.e. absent):

=======================  ===============================================================
``wire``                 the input image (thresholded), for convenience
``score_track``          softmax score of the track class
``score_shower``         softmax score of the shower class
``prediction``           argmax label over background/track/shower: 0, 1 or 2
=======================  ===============================================================

The background score is ``1 - score_track - score_shower``. A plane with no pixel
above threshold is written as an empty image (the network is not run). Output
goes to ``OUT.partial`` (flushed after every event) and is renamed when complete;
``resume=True`` continues an interrupted run with the same settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from larseg.config import to_yaml
from larseg.data.larcv3 import Event, Larcv3Writer, SparseImage, sparse_from_dense
from larseg.data.resume import check_same_settings, not_resumable, partial_metadata
from larseg.data.sources import open_input
from larseg.errors import DataFileError
from larseg.model.predictor import DEFAULT_OVERLAP, DEFAULT_TILE, MODES, Predictor
from larseg.provenance import provenance

WIRE, SCORE_TRACK, SCORE_SHOWER, PREDICTION = "wire", "score_track", "score_shower", "prediction"
OUTPUT_PRODUCTS = (WIRE, SCORE_TRACK, SCORE_SHOWER, PREDICTION)


@dataclass
class PredictResult:
    path: Path
    n_entries: int  # entries in the output
    n_predicted: int  # entries predicted by this run (the rest were there from an interrupted run)
    n_planes: int
    empty_planes: int
    n_pixels: int
    seconds: float
    timings: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.n_predicted / self.seconds if self.seconds > 0 else 0.0


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    target = path
    if path.is_dir():
        target = next((path / n for n in ("best.pt", "last.pt") if (path / n).is_file()), path)
    if target.is_file():
        with open(target, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def _select(images, planes: Sequence[int] | None, source, entry: int):
    if not images:
        raise DataFileError(source.path, f"entry {entry} holds no images")
    if planes is None:
        return images
    by_id = {im.projection_id: im for im in images}
    missing = [p for p in planes if p not in by_id]
    if missing:
        have = ", ".join(str(p) for p in sorted(by_id))
        raise DataFileError(source.path, f"entry {entry} has no plane {missing[0]} (has planes {have}); "
                                         "choose with --planes")
    return [by_id[p] for p in planes]


def _check_finite(image: np.ndarray, source, entry: int, plane: int) -> None:
    bad = int(np.count_nonzero(~np.isfinite(image)))
    if bad:
        raise DataFileError(source.path, f"entry {entry} plane {plane}: {bad} NaN/inf pixels")


def predict_files(segmenter: Predictor, inputs: Sequence[str | Path], output: str | Path, *,
                  mode: str = "full", planes: Sequence[int] | None = None, producer: str | None = None,
                  batch: int = 1, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP,
                  resume: bool = False, overwrite: bool = False,
                  progress_factory: Callable | None = None) -> PredictResult:
    """Predict every event of ``inputs`` into ``output`` (see the module doc)."""
    if mode not in MODES:
        raise DataFileError(output, f"unknown mode '{mode}' (expected {', '.join(MODES)})")
    output = Path(output)
    if output.suffix.lower() not in (".h5", ".hdf5"):
        raise DataFileError(output, "output must be an HDF5 file (.h5)")
    same = [p for p in inputs if Path(p).resolve() == output.resolve()]
    if same:
        raise DataFileError(output, "is also an input: choose another output file (the input is kept as it is)")
    sources = [open_input(p, producer) for p in inputs]
    total = sum(s.n_entries for s in sources)
    threshold = segmenter.threshold
    settings = {
        "model": str(Path(segmenter.source).resolve()), "model_sha256": _sha256(Path(segmenter.source)),
        "model_preset": segmenter.config.name,
        "inputs": [str(Path(s.path).resolve()) for s in sources],
        "input_entries": [int(s.n_entries) for s in sources],
        "input_formats": [s.format for s in sources],
        "producer": producer, "planes": list(planes) if planes is not None else None,
        "mode": mode, "tile": int(tile) if mode == "tiles" else None,
        "overlap": int(overlap) if mode == "tiles" else None, "threshold": float(threshold),
    }
    partial = output.with_name(output.name + ".partial")
    if resume and partial.exists():
        _check_resumable(partial, settings)
    metadata = {"larseg_sample": "prediction", **provenance(),
                "larseg_predict": yaml.safe_dump(settings, sort_keys=False),
                "larseg_run": yaml.safe_dump({"backend": segmenter.backend, "device": str(segmenter.device),
                                              "batch": int(batch)}, sort_keys=False),
                "larseg_model_config": to_yaml(segmenter.config)}
    t0 = time.perf_counter()
    n_planes = empty = pixels = 0
    timings: list[float] = []
    with Larcv3Writer(output, metadata, resume=resume, overwrite=overwrite, flush_every=1) as writer:
        done = writer.n_entries
        if done > total:
            raise DataFileError(partial, f"holds {done} entries, more than the {total} of the inputs")
        bar = progress_factory(total, done) if progress_factory else contextlib.nullcontext(lambda n=1: None)
        with bar as advance:
            g = 0
            for source in sources:
                for entry in range(source.n_entries):
                    if g < done:
                        g += 1
                        continue
                    t_event = time.perf_counter()
                    event, stats = _predict_entry(segmenter, source, entry, planes, mode, batch, tile, overlap)
                    timings.append(time.perf_counter() - t_event)
                    writer.write(event)
                    n_planes += stats[0]
                    empty += stats[1]
                    pixels += stats[2]
                    g += 1
                    advance(1)
        n_out = writer.n_entries
    return PredictResult(output, n_out, n_out - done, n_planes, empty, pixels, time.perf_counter() - t0, timings)


def _predict_entry(segmenter: Predictor, source, entry: int, planes, mode: str, batch: int, tile: int,
                   overlap: int) -> tuple[Event, tuple[int, int, int]]:
    images = _select(source.images(entry), planes, source, entry)
    prepared, masks = [], []
    for im in images:
        _check_finite(im.image, source, entry, im.projection_id)
        x = segmenter.contract.prepare(im.image, f"{source.path}: entry {entry} plane {im.projection_id}")
        prepared.append(x)
        masks.append(x != 0)
    todo = [k for k, m in enumerate(masks) if m.any()]
    scores = segmenter.predict_batch([prepared[k] for k in todo], mode, batch=batch, tile=tile,
                                     overlap=overlap) if todo else []
    by_plane = dict(zip(todo, scores))
    products: dict[str, list[SparseImage]] = {name: [] for name in OUTPUT_PRODUCTS}
    n_pix = 0
    for k, im in enumerate(images):
        wire = sparse_from_dense(prepared[k], im.meta, masks[k])
        products[WIRE].append(wire)
        n_pix += len(wire.index)
        if k in by_plane:
            s = by_plane[k]
            rows, cols = wire.rows_cols()
            pix = s[:, rows, cols]
            values = {SCORE_TRACK: pix[1], SCORE_SHOWER: pix[2], PREDICTION: pix.argmax(axis=0)}
        else:
            values = {name: np.zeros(0) for name in (SCORE_TRACK, SCORE_SHOWER, PREDICTION)}
        for name, v in values.items():
            products[name].append(SparseImage(im.meta, wire.index.copy(), np.asarray(v, dtype=np.float32)))
    run, subrun, event = source.event_id(entry)
    return Event(run, subrun, event, sparse2d=products), (len(images), len(images) - len(todo), n_pix)


def _check_resumable(partial: Path, settings: dict) -> None:
    meta, _ = partial_metadata(partial)
    if "larseg_predict" not in meta:
        raise not_resumable(partial, "predict")
    before = yaml.safe_load(meta["larseg_predict"]) or {}
    # the model is compared by content (model_sha256), not by where it lies
    check_same_settings(partial, {k: v for k, v in before.items() if k != "model"},
                        {k: v for k, v in settings.items() if k != "model"})
