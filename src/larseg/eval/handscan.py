"""``larseg study scan``: the paper's Tables II and III (and Figs. 8, 16, 18) from hand labels.

A physicist labels pixels by hand with ``larseg scan`` (:mod:`larseg.data.handlabels`: codes
1 track, 2 shower, 3 ignore; pixels not stored are unlabelled). :func:`scan_study` compares those
labels with the network, with the simulation truth and with each other, as the paper's Sec. VII.

**Inputs.** ``data`` and ``sim``: labels files, one per scanner (several scanners may label the same
events). "Data" is whatever the ``data`` labels files were painted on (real detector data without
truth, or a data-like simulation): its truth, if any, is never read. The source event files are the
ones recorded in the labels files (absolute paths), read with :func:`larseg.data.sources.open_input`.

**Images.** One wire plane is compared (``plane``; default: the network's plane with a model, else
2, the collection plane, as in the paper). The image is the source plane with pixels below the
pixel threshold (``threshold``, 10 as the network input) set to 0; its *non-zero pixels* are the
only pixels ever compared (hand labels on pixels below the threshold are not compared; their count
is recorded). An *event* of a labels file is used when its plane holds at least one track or shower
hand label (``done_only``: and the scanner marked it done); ``max_events`` keeps the first N such
events of each labels file (in the file's order: source path, then entry).

**Pixels compared, per column** (P: a physicist's hand label, T: the simulation truth, both read
on the non-zero pixels only; "reference" is the paper's *Label* row, "prediction" its *Prediction*
row):

1. physicist vs network, data: pixels with P in {track, shower} (ignored and unlabelled pixels
   are left out);
2. physicist vs network, simulation: the same on the simulation labels;
3. simulation truth vs network, simulation: pixels with T in {track, shower} and P != ignore (the
   physicist's unlabelled pixels are compared: the truth labels them);
4. simulation truth vs physicist, simulation: pixels with T in {track, shower} and P in {track,
   shower} (pixels the physicist ignored or left unlabelled have no physicist class);
5. scanner vs scanner, every pair of labels files of the same sample with events in common (the
   earlier file on the command line is the reference): pixels both scanners labelled track or
   shower.

The network's class of a non-zero pixel is the larger of its track and shower softmax scores
(shower if the shower score is larger, else track): the background score is not used, as a
non-zero pixel is track or shower to a physicist. Columns 1, 2, 3 need a network; 3 and 4 need
truth in the simulation sources (events of a source without truth are left out of them, with a
note); a column that cannot be computed is omitted with a note saying why. Where several scanners
labelled the same event, columns 1 to 4 hold one comparison per (labels file, event): each with
that scanner's labels (and ignore marks).

**Metrics** (the paper's Table I/II rows; :func:`larseg.model.metrics.image_metrics` per image,
:func:`larseg.model.metrics.summarize` per column): per comparison, ICPF (the fraction of compared
pixels whose two classes differ), "Shower" (the fraction of reference-shower pixels the prediction
calls track) and "Track" (the fraction of reference-track pixels called shower); per column, the
ICPF mean and 90% quantile (numpy's linear interpolation) over the comparisons with compared
pixels, and the means of Shower (Track) over the comparisons with at least one reference-shower
(track) pixel; the others are skipped in that class mean (counts in ``table.json`` and the notes).

**Errors.** Every number has a bootstrap standard error over events: ``bootstrap`` times, the
column's events (source event files' entries) are drawn with replacement (all the comparisons of a
drawn event come along: several scanners of one event are not independent), the four metrics are
recomputed, and the error is the standard deviation (``ddof=1``) of the replicas that are defined.
Each column draws from ``numpy.random.default_rng(seed)``: the same seed gives the same errors.
A column of one event, or ``bootstrap=0``, has no error.

**Outputs** (in ``output``, each written atomically): ``table.md`` (the paper's layout: Sample /
Label / Prediction header rows; ICPF mean, ICPF 90%, Shower, Track in percent as ``value ± error``;
the events per column), ``table.json`` (every number, every comparison, the files, scanners and
notes) and, with a network, ``fig8_icpf.png`` (area-normalised ICPF distributions of columns 1
and 2), ``fig8_scores.png`` (the network's shower score of the physicist's shower pixels and of
their track pixels, data vs simulation) and ``fig18_worst.png`` (up to 4 events with the largest
physicist-network ICPF, of the data if there are data labels, else of the simulation; distinct
events, each with its scanner of the largest ICPF: input,
physicist labels, network labels; track yellow, shower cyan). Without a network the figures are
not written (and old ones from an earlier run in ``output`` are removed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from larseg.atomic import output_dir
from larseg.conventions import PIXEL_THRESHOLD, SHOWER, TRACK
from larseg.data.handlabels import IGNORE, EventKey, PlaneLabels, journal_path, load_labels
from larseg.data.sources import open_input
from larseg.errors import DataFileError, LarsegError
from larseg.eval.io import load_model_info, write_json, write_text_atomic
from larseg.model.metrics import ImageMetrics, image_metrics, summarize
from larseg.provenance import provenance

#: The table rows: SampleMetrics field, the paper's row name.
ROWS = (("icpf_mean", "ICPF mean"), ("icpf_q90", "ICPF 90%"), ("shower_error", "Shower"), ("track_error", "Track"))
FIGURES = ("fig8_icpf.png", "fig8_scores.png", "fig18_worst.png")
SCORE_BINS = 50
N_WORST = 4
PLANE_NAMES = {0: "U", 1: "V", 2: "Y"}
NETWORK = "U-ResNet"
DATA, SIM = "Data", "Simulation"


@dataclass
class _LabelsFile:
    """The used events of one labels file."""

    path: Path
    sample: str  # DATA or SIM
    scanner: str
    events: dict[EventKey, PlaneLabels]
    ids: dict[EventKey, tuple[int, int, int]]
    counts: dict[str, int]
    name: str = ""  # the scanner name shown in the table (with the file name where names repeat)


@dataclass
class _Column:
    key: str
    sample: str
    label: str
    prediction: str
    files: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)


# --- reading


def _read_labels_file(path, sample: str, plane: int, done_only: bool, max_events: int | None) -> _LabelsFile:
    path = Path(path)
    if not path.exists() and not journal_path(path).exists():
        raise DataFileError(path, "no such labels file")
    if path.is_dir():
        raise DataFileError(path, "is a directory; give a labels file (larseg scan --labels)")
    try:
        events = load_labels(path)
    except DataFileError as exc:
        if not (path.exists() and exc.problem.startswith("no such labels file")):
            raise
        events = []  # a labels file saved before anything was registered: no events
    counts = {"events_in_file": len(events), "without_plane": 0, "without_labels": 0, "not_done": 0,
              "beyond_max_events": 0}
    used: dict[EventKey, PlaneLabels] = {}
    ids = {}
    scanners = []
    for ev in events:
        if ev.scanner and ev.scanner not in scanners:
            scanners.append(ev.scanner)
        lab = ev.planes.get(plane)
        if lab is None:
            counts["without_plane"] += 1
        elif not np.any((lab.code == TRACK) | (lab.code == SHOWER)):
            counts["without_labels"] += 1
        elif done_only and not ev.done:
            counts["not_done"] += 1
        elif max_events is not None and len(used) >= max_events:
            counts["beyond_max_events"] += 1
        else:
            used[ev.key] = lab
            ids[ev.key] = tuple(int(i) for i in ev.ids)
    counts["used"] = len(used)
    scanner = ", ".join(scanners) or path.stem
    return _LabelsFile(path, sample, scanner, used, ids, counts)


class _Sources:
    """The source event files, opened once each; every problem names the labels file and the event."""

    def __init__(self, plane: int, threshold: float, producer: str | None):
        self.plane = plane
        self.threshold = threshold
        self.producer = producer
        self.open: dict[str, object] = {}

    def source(self, key: EventKey, labels: Path):
        src = self.open.get(key.source)
        if src is None:
            if not Path(key.source).exists():
                raise DataFileError(labels, f"the source file {key.source} of its event (entry {key.entry}) no "
                                            "longer exists (moved or deleted since it was scanned)")
            src = self.open[key.source] = open_input(key.source, self.producer)
        return src

    def read(self, key: EventKey, labels: Path, ids) -> tuple[np.ndarray, np.ndarray | None]:
        """The thresholded plane image of an event and its truth (None: the source has none)."""
        src = self.source(key, labels)
        where = f"event {key.source} entry {key.entry}"
        if not 0 <= key.entry < src.n_entries:
            raise DataFileError(labels, f"{where}: the source file has {src.n_entries} entries (it changed since "
                                        "it was scanned?)")
        if ids is not None and tuple(src.event_id(key.entry)) != tuple(ids):
            raise DataFileError(labels, f"{where}: the source entry is event {src.event_id(key.entry)}, the labels "
                                        f"are of event {tuple(ids)} (the source file changed since it was scanned?)")
        planes = src.planes(key.entry, projection=self.plane)
        if not planes:
            raise DataFileError(labels, f"{where}: the source has no plane {self.plane}")
        pi = planes[0]
        image = np.array(pi.image, dtype=np.float32)
        image[~np.isfinite(image)] = 0
        if self.threshold > 0:
            image[image < self.threshold] = 0
        truth = np.asarray(pi.label, dtype=np.uint8) if src.has_labels else None
        return image, truth


# --- per image


def _compare(prediction: np.ndarray, reference: np.ndarray, compared: np.ndarray) -> dict:
    """ICPF, Shower and Track of ``prediction`` against ``reference`` (codes 1 / 2) on the ``compared`` pixels."""
    label = np.where(compared, reference, 0).astype(np.uint8)
    m = image_metrics(prediction.astype(np.uint8), label)
    return {"icpf": float(m.icpf[0]), "shower_error": float(m.shower_error[0]), "track_error": float(m.track_error[0]),
            "n_pixels": int(m.n_pixels[0]), "n_track": int(m.n_track[0]), "n_shower": int(m.n_shower[0])}


def _network_classes(scores: np.ndarray, nonzero: np.ndarray) -> np.ndarray:
    """Per pixel: 2 (shower) where the shower score beats the track score, else 1 (track); 0 off ``nonzero``."""
    cls = np.where(scores[SHOWER] > scores[TRACK], SHOWER, TRACK).astype(np.uint8)
    return np.where(nonzero, cls, 0).astype(np.uint8)


def _labelled(codes: np.ndarray) -> np.ndarray:
    return (codes == TRACK) | (codes == SHOWER)


def _score_counts(scores: np.ndarray, codes: np.ndarray, nonzero: np.ndarray, bins: int = SCORE_BINS) -> np.ndarray:
    """Counts ``(2, 3, bins)``: for the hand-labelled track (0) and shower (1) non-zero pixels, the histogram
    over [0, 1] of each class's score (background, track, shower)."""
    out = np.zeros((2, 3, bins), np.int64)
    for i, cls in enumerate((TRACK, SHOWER)):
        sel = nonzero & (codes == cls)
        if sel.any():
            idx = np.clip((scores[:, sel] * bins).astype(np.int64), 0, bins - 1)
            for c in range(3):
                out[i, c] += np.bincount(idx[c], minlength=bins)
    return out


# --- per column


def _summary(records: list[dict]) -> dict[str, float]:
    per = ImageMetrics(*(np.array([r[k] for r in records], dtype=float) for k in
                         ("icpf", "shower_error", "track_error", "n_pixels", "n_track", "n_shower")))
    s = summarize(per)
    return {k: getattr(s, k) for k, _ in ROWS}


def _bootstrap(records: list[dict], n: int, seed: int) -> dict[str, float | None]:
    """Standard errors of the column's metrics: events drawn with replacement (module doc)."""
    clusters = sorted({r["event"] for r in records})
    if n <= 0 or len(clusters) < 2:
        return dict.fromkeys((k for k, _ in ROWS), None)
    index = {c: i for i, c in enumerate(clusters)}
    of = np.array([index[r["event"]] for r in records])
    arrays = {k: np.array([r[k] for r in records], dtype=float) for k in ("icpf", "shower_error", "track_error")}
    rng = np.random.default_rng(seed)
    reps = np.empty((n, len(ROWS)))
    items = np.arange(len(records))
    for b in range(n):
        weight = np.bincount(rng.integers(0, len(clusters), len(clusters)), minlength=len(clusters))[of]
        pick = np.repeat(items, weight)
        counts = np.zeros(len(pick), np.int64)  # summarize() reads only the three rates
        per = ImageMetrics(arrays["icpf"][pick], arrays["shower_error"][pick], arrays["track_error"][pick],
                           counts, counts, counts)
        s = summarize(per)
        reps[b] = [getattr(s, k) for k, _ in ROWS]
    out = {}
    for j, (k, _) in enumerate(ROWS):
        v = reps[:, j][np.isfinite(reps[:, j])]
        if len(v) < 2:
            out[k] = None
        elif np.ptp(v) <= 1e-12 * max(1.0, float(np.abs(v).max())):
            out[k] = 0.0  # every replica the same multiset of values (sums differ only in rounding)
        else:
            out[k] = float(v.std(ddof=1))
    return out


def _column_result(col: _Column, bootstrap: int, seed: int) -> dict:
    recs = col.records
    values = _summary(recs)
    errors = _bootstrap(recs, bootstrap, seed)
    finite = [r for r in recs if math.isfinite(r["icpf"])]
    return {"key": col.key, "sample": col.sample, "label": col.label, "prediction": col.prediction,
            "files": col.files, "n_events": len({r["event"] for r in recs}), "n_comparisons": len(recs),
            "n_with_pixels": len(finite),
            "n_with_shower": sum(1 for r in recs if r["n_shower"] > 0),
            "n_with_track": sum(1 for r in recs if r["n_track"] > 0),
            "metrics": {k: {"value": values[k], "error": errors[k]} for k, _ in ROWS},
            "comparisons": recs}


# --- the study


def _check_predict(scores, shape: tuple[int, int], where: str) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float32)
    if scores.shape != (3, *shape):
        raise LarsegError(f"{where}: the network gave scores of shape {scores.shape}, expected (3, {shape[0]}, "
                          f"{shape[1]})")
    return scores


def _display_names(files: list[_LabelsFile]) -> None:
    for f in files:
        same = [g for g in files if g.scanner == f.scanner and g.sample == f.sample]
        f.name = f.scanner if len(same) == 1 else f"{f.scanner}, {f.path.name}"


def scan_study(data: Sequence[str | Path] = (), sim: Sequence[str | Path] = (), output: str | Path = "scan-study",
               model: str | Path | None = None, title: str = "", max_events: int | None = None,
               bootstrap: int = 1000, seed: int = 0, *, done_only: bool = False, plane: int | None = None,
               threshold: float = PIXEL_THRESHOLD, predict: Callable[[np.ndarray], np.ndarray] | None = None,
               device: str = "cpu", producer: str | None = None, figures: bool = True,
               progress: Callable | None = None) -> dict:
    """Tables II / III and Figs. 8, 16, 18 from hand labels (see the module doc for every definition).

    ``data``, ``sim``: labels files (one per scanner) of the data and of the simulation; ``model``:
    a checkpoint, run directory or ``.onnx`` (or ``predict``: a callable giving the softmax scores
    ``(3, H, W)`` of a thresholded ``(H, W)`` image, used instead of a model, e.g. in tests;
    a :class:`~larseg.model.Predictor` or an in-memory network are taken too), ``figures=False``
    writes the table only; ``progress(total)`` is a context manager yielding ``advance(n)``.
    Returns what ``table.json`` holds, with ``markdown`` (the table) and ``figures`` (the paths written).
    """
    data, sim = [Path(p) for p in data or ()], [Path(p) for p in sim or ()]
    if not data and not sim:
        raise LarsegError("no labels files: give --data and/or --sim labels files (made by larseg scan)")
    if model is not None and predict is not None:
        raise LarsegError("give a model or a predict function, not both")
    if max_events is not None and max_events < 1:
        raise LarsegError(f"--max-events {max_events}: must be at least 1")
    if bootstrap < 0:
        raise LarsegError(f"--bootstrap {bootstrap}: must be 0 or more")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise LarsegError(f"threshold {threshold}: expected a finite value >= 0")
    seen = set()
    for p in data + sim:
        if not p.exists() and not journal_path(p).exists():
            raise DataFileError(p, "no such labels file")
        if p.resolve() in seen:
            raise DataFileError(p, "is given twice; give each scanner's labels file once")
        seen.add(p.resolve())
    net = None
    if model is not None:
        net = load_model_info(model, plane, device=device)
        predict = net.predict
        plane = net.plane
    plane = 2 if plane is None else int(plane)
    if plane not in (0, 1, 2):
        raise LarsegError(f"--plane {plane}: planes are 0 (U), 1 (V), 2 (Y)")
    has_net = predict is not None

    files = [_read_labels_file(p, DATA, plane, done_only, max_events) for p in data] + \
            [_read_labels_file(p, SIM, plane, done_only, max_events) for p in sim]
    if not any(f.events for f in files):
        what = "marked done and " if done_only else ""
        raise LarsegError(f"no events to compare: no event of {', '.join(str(f.path) for f in files)} is "
                          f"{what}labelled (track or shower) on plane {plane} ({PLANE_NAMES[plane]}); another "
                          "plane is chosen with --plane")
    _display_names(files)
    notes: list[str] = []
    for f in files:
        c = f.counts
        skipped = [f"{c[k]} {text}" for k, text in (("without_plane", f"without plane {plane} labels"),
                                                    ("without_labels", "without track or shower labels"),
                                                    ("not_done", "not marked done"),
                                                    ("beyond_max_events", "beyond --max-events")) if c[k]]
        if skipped:
            notes.append(f"{f.path.name} ({f.sample.lower()}, {f.name}): {c['used']} of {c['events_in_file']} events "
                         f"used; left out: {', '.join(skipped)}.")

    cols = {
        "data_physicist_network": _Column("data_physicist_network", DATA, "Physicist", NETWORK),
        "sim_physicist_network": _Column("sim_physicist_network", SIM, "Physicist", NETWORK),
        "sim_truth_network": _Column("sim_truth_network", SIM, "Simulation", NETWORK),
        "sim_truth_physicist": _Column("sim_truth_physicist", SIM, "Simulation", "Physicist"),
    }
    pair_cols: dict[tuple[int, int], _Column] = {}
    for sample in (DATA, SIM):
        idx = [i for i, f in enumerate(files) if f.sample == sample]
        for i, j in itertools.combinations(idx, 2):
            key = f"{sample.lower()}_scanners_{len(pair_cols) + 1}"
            pair_cols[(i, j)] = _Column(key, sample, f"Physicist ({files[i].name})", f"Physicist ({files[j].name})",
                                        [str(files[i].path), str(files[j].path)])
    for col in cols.values():
        col.files = [str(f.path) for f in files if f.sample == col.sample]

    sources = _Sources(plane, float(threshold), producer)
    hists = {DATA: np.zeros((2, 3, SCORE_BINS), np.int64), SIM: np.zeros((2, 3, SCORE_BINS), np.int64)}
    below = dict.fromkeys(range(len(files)), 0)
    no_truth: set[str] = set()
    keys = {s: sorted({k for f in files if f.sample == s for k in f.events}, key=lambda k: (k.source, k.entry))
            for s in (DATA, SIM)}
    total = len(keys[DATA]) + len(keys[SIM])
    bar = progress(total) if progress else nullcontext(lambda n=1: None)
    with bar as advance:
        for sample in (DATA, SIM):
            for key in keys[sample]:
                holders = [i for i, f in enumerate(files) if f.sample == sample and key in f.events]
                first = files[holders[0]]
                image, truth = sources.read(key, first.path, first.ids[key])
                for i in holders:
                    lab = files[i].events[key]
                    if tuple(lab.shape) != image.shape:
                        raise DataFileError(files[i].path, f"event {key.source} entry {key.entry} plane {plane}: "
                                                           f"the labels are {lab.shape[0]} x {lab.shape[1]} pixels, "
                                                           f"the source image {image.shape[0]} x {image.shape[1]} "
                                                           "(the source file changed since it was scanned?)")
                nonzero = image != 0
                event = f"{key.source}#{key.entry}"
                base = {"sample": sample, "source": key.source, "entry": key.entry, "ids": list(first.ids[key]),
                        "event": event}
                net_cls = scores = None
                if has_net:
                    scores = _check_predict(predict(image), image.shape, f"{key.source} entry {key.entry}")
                    net_cls = _network_classes(scores, nonzero)
                if sample == SIM and truth is None:
                    no_truth.add(key.source)
                dense = {i: files[i].events[key].dense() for i in holders}
                for i in holders:
                    codes = dense[i]
                    rec = {**base, "file": str(files[i].path), "scanner": files[i].scanner}
                    phys = _labelled(codes)
                    below[i] += int(np.count_nonzero(phys & ~nonzero))
                    if has_net:
                        col = cols["data_physicist_network" if sample == DATA else "sim_physicist_network"]
                        col.records.append({**rec, **_compare(net_cls, codes, nonzero & phys)})
                        hists[sample] += _score_counts(scores, codes, nonzero)
                    if sample == SIM and truth is not None:
                        truth_labelled = _labelled(truth) & nonzero
                        if has_net:
                            cols["sim_truth_network"].records.append(
                                {**rec, **_compare(net_cls, truth, truth_labelled & (codes != IGNORE))})
                        cols["sim_truth_physicist"].records.append({**rec, **_compare(codes, truth, truth_labelled
                                                                                      & phys)})
                for i, j in itertools.combinations(holders, 2):
                    a, b = dense[i], dense[j]
                    rec = {**base, "file": str(files[i].path), "scanner": files[i].scanner,
                           "file_b": str(files[j].path), "scanner_b": files[j].scanner}
                    pair_cols[(i, j)].records.append({**rec, **_compare(b, a, nonzero & _labelled(a) & _labelled(b))})
                advance(1)

    # which columns can be computed
    omitted = []

    def omit(col: _Column, reason: str) -> None:
        omitted.append({"key": col.key, "sample": col.sample, "label": col.label, "prediction": col.prediction,
                        "reason": reason})

    have = {DATA: any(f.sample == DATA and f.events for f in files), SIM: any(f.sample == SIM and f.events
                                                                              for f in files)}
    given = {DATA: bool(data), SIM: bool(sim)}
    for col in cols.values():
        if not given[col.sample]:
            omit(col, f"no {'--data' if col.sample == DATA else '--sim'} labels files given")
        elif not have[col.sample]:
            omit(col, f"no {col.sample.lower()} event is used (see the notes)")
        elif col.prediction == NETWORK and not has_net:
            omit(col, "no network (--model) given")
        elif col.label == "Simulation" and not col.records:
            omit(col, "the simulation sources hold no truth labels: "
                      + ", ".join(sorted(Path(s).name for s in no_truth)))
        elif not col.records:
            omit(col, "no comparison")
    if no_truth and cols["sim_truth_physicist"].records:
        n = sum(1 for k in keys[SIM] if k.source in no_truth)
        notes.append(f"Simulation truth columns: {n} of {len(keys[SIM])} events left out, their sources hold no "
                     f"truth labels ({', '.join(sorted(Path(s).name for s in no_truth))}).")
    for (i, j), col in pair_cols.items():
        if not col.records:
            omit(col, f"{files[i].path.name} and {files[j].path.name} share no used event")
    for i, n in below.items():
        if n:
            notes.append(f"{files[i].path.name}: {n} hand-labelled pixels are below the pixel threshold "
                         f"{threshold:g} and not compared.")

    kept = [c for c in (*cols.values(), *pair_cols.values()) if c.records and c.key not in
            {o["key"] for o in omitted}]
    columns = [_column_result(c, bootstrap, seed) for c in kept]
    for c in columns:
        n = c["n_comparisons"]
        skips = []
        if c["n_with_pixels"] < n:
            skips.append(f"{n - c['n_with_pixels']} without compared pixels (left out of every row)")
        if c["n_with_shower"] < n:
            skips.append(f"{n - c['n_with_shower']} without reference-shower pixels (left out of Shower)")
        if c["n_with_track"] < n:
            skips.append(f"{n - c['n_with_track']} without reference-track pixels (left out of Track)")
        if skips:
            notes.append(f"{_column_name(c)}: of {n} comparisons, " + "; ".join(skips) + ".")

    out = output_dir(output)
    result = {
        "title": title, "plane": plane, "plane_name": PLANE_NAMES[plane], "threshold": float(threshold),
        "bootstrap": int(bootstrap), "seed": int(seed), "done_only": bool(done_only), "max_events": max_events,
        "model": ({"source": net.source, "fingerprint": net.fingerprint, "plane": net.plane,
                   "threshold": net.threshold} if net is not None else
                  ({"source": "<predict function>"} if has_net else None)),
        "labels_files": [{"file": str(f.path), "sample": f.sample, "scanner": f.scanner, **f.counts,
                          "events": [{"source": k.source, "entry": k.entry, "ids": list(f.ids[k])} for k in f.events]}
                         for f in files],
        "scanners": {s: sorted({f.scanner for f in files if f.sample == s}) for s in (DATA, SIM)},
        "columns": columns, "omitted": omitted, "notes": notes,
        "score_histograms": ({s: {"bins": SCORE_BINS, "track_pixels": hists[s][0].tolist(),
                                  "shower_pixels": hists[s][1].tolist()} for s in (DATA, SIM)} if has_net else None),
        "provenance": provenance(),
    }
    result["markdown"] = markdown_table(result)
    written = _figures(result, files, sources, predict, hists, out) if has_net and figures else []
    for name in FIGURES:
        if out / name not in written:
            (out / name).unlink(missing_ok=True)  # an earlier run's figure of another configuration
    result["figures"] = [str(p) for p in written]
    write_text_atomic(out / "table.md", result["markdown"])
    write_json(out / "table.json", result)
    return result


# --- the table


def _fmt(m: dict) -> str:
    v, e = m["value"], m["error"]
    if v is None or not math.isfinite(v):
        return "-"
    return f"{100 * v:.2f}" + ("" if e is None else f" ± {100 * e:.2f}")


def _column_name(c: dict) -> str:
    return f"{c['sample']}, {c['label']} vs {c['prediction']}"


def markdown_table(result: dict) -> str:
    """``table.md``: the paper's Table II / III layout, one column per comparison, values in percent."""
    cols = result["columns"]
    head = f"{result['title']}: " if result["title"] else ""
    lines = [f"# {head}hand-scan comparison (Tables II / III), plane {result['plane_name']}", ""]
    lines.append("| Sample | " + " | ".join(c["sample"] for c in cols) + " |")
    lines.append("|---|" + "---:|" * len(cols))
    lines.append("| Label | " + " | ".join(c["label"] for c in cols) + " |")
    lines.append("| Prediction | " + " | ".join(c["prediction"] for c in cols) + " |")
    for k, name in ROWS:
        lines.append(f"| {name} | " + " | ".join(_fmt(c["metrics"][k]) for c in cols) + " |")
    lines.append("| Events | " + " | ".join(str(c["n_events"]) if c["n_events"] == c["n_comparisons"] else
                                         f"{c['n_events']} ({c['n_comparisons']} scans)" for c in cols) + " |")
    lines.append("")
    if result["bootstrap"]:
        err = (f"± the bootstrap standard error over events ({result['bootstrap']} resamplings, seed "
               f"{result['seed']})")
    else:
        err = "no errors (--bootstrap 0)"
    lines.append(f"Values in percent, {err}. ICPF: fraction of compared pixels classified differently; Shower: "
                 "reference-shower pixels called track; Track: reference-track pixels called shower. Pixels: the "
                 f"non-zero pixels (threshold {result['threshold']:g}) of plane {result['plane_name']}; see "
                 "docs/scan.md for the pixels each column compares.")
    scanners = "; ".join(f"{s.lower()}: {', '.join(v)}" for s, v in result["scanners"].items() if v)
    lines.append("")
    lines.append(f"Scanners: {scanners}." + (" Events marked done only." if result["done_only"] else ""))
    if result["model"] is not None:
        lines.append(f"Network: {result['model']['source']}.")
    if result["omitted"] or result["notes"]:
        lines.append("")
        for o in result["omitted"]:
            lines.append(f"- Omitted: {o['sample']}, {o['label']} vs {o['prediction']}: {o['reason']}.")
        for n in result["notes"]:
            lines.append(f"- {n}")
    return "\n".join(lines) + "\n"


# --- the figures


def _figures(result: dict, files: list[_LabelsFile], sources: _Sources, predict, hists: dict,
             out: Path) -> list[Path]:
    # lazy: larseg.viz loads matplotlib (and selects its Agg backend); only the figures need it
    from larseg.viz.eval_plots import plot_icpf

    by_key = {c["key"]: c for c in result["columns"]}
    title = f"{result['title']}: " if result["title"] else ""
    series = []
    for key, sample in (("data_physicist_network", DATA), ("sim_physicist_network", SIM)):
        c = by_key.get(key)
        if c is not None:
            icpf = np.array([r["icpf"] for r in c["comparisons"]], dtype=float)
            series.append((sample, f"{sample}: physicist vs {NETWORK} ({c['n_events']} events)", icpf))
    paths = []
    if series:
        paths.append(plot_icpf([(lab, v) for _, lab, v in series], out / "fig8_icpf.png",
                               title=f"{title}ICPF, physicist labels vs {NETWORK} (area normalised)",
                               normalise=True))
        paths.append(_plot_scores([(s, lab) for s, lab, _ in series], hists, out / "fig8_scores.png",
                                  f"{title}{NETWORK} shower score of the physicist's pixels"))
        worst_col = by_key.get("data_physicist_network") or by_key["sim_physicist_network"]
        recs = _worst(worst_col)
        result["worst_events"] = [{k: r[k] for k in ("sample", "source", "entry", "ids", "file", "scanner", "icpf")}
                                  for r in recs]
        paths.append(_plot_worst(worst_col, recs, files, sources, predict, out / "fig18_worst.png", title))
    return paths


def _plot_scores(series: list[tuple[str, str]], hists: dict, path: Path, title: str) -> Path:
    import matplotlib.pyplot as plt

    from larseg.viz.eval_plots import COLOURS  # lazy: matplotlib, for the figures only
    from larseg.viz.event_display import save  # lazy: matplotlib, for the figures only

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    edges = np.linspace(0, 1, SCORE_BINS + 1)
    for ax, (name, row) in zip(axes, (("(b) physicist shower pixels", 1), ("(c) physicist track pixels", 0))):
        for k, (sample, label) in enumerate(series):
            c = hists[sample][row, SHOWER]
            ax.stairs(c / max(1, c.sum()), edges, color=COLOURS[k % len(COLOURS)], lw=1.6,
                      label=f"{label.split(' (')[0]}, {int(c.sum())} pixels")
        ax.set_xlabel(f"{NETWORK} shower softmax score")
        ax.set_ylabel("fraction of pixels per bin")
        if any(hists[sample][row, SHOWER].any() for sample, _ in series):
            ax.set_yscale("log")
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi * 6)
        ax.set_xlim(0, 1)
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="upper center")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def _box(mask: np.ndarray, margin: int = 10) -> tuple[slice, slice]:
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return slice(None), slice(None)
    return (slice(max(0, rows.min() - margin), rows.max() + margin + 1),
            slice(max(0, cols.min() - margin), cols.max() + margin + 1))


def _worst(col: dict, n: int = N_WORST) -> list[dict]:
    """The comparisons of the ``n`` distinct events with the largest ICPF (of several scanners: the worst)."""
    recs, seen = [], set()
    for r in sorted((r for r in col["comparisons"] if math.isfinite(r["icpf"])), key=lambda r: -r["icpf"]):
        if r["event"] not in seen and len(recs) < n:
            seen.add(r["event"])
            recs.append(r)
    return recs


def _plot_worst(col: dict, recs: list[dict], files: list[_LabelsFile], sources: _Sources, predict, path: Path,
                title: str) -> Path:
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from larseg.viz.event_display import save  # lazy: matplotlib, for the figures only

    by_path = {str(f.path): f for f in files}
    # empty, track (yellow), shower (cyan), ignore (grey), unlabelled non-zero pixel (dark grey)
    hand = ListedColormap(["black", "#ffd700", "#00e5ff", "#6e6e6e", "#2b2b2b"])
    net_colours = ListedColormap(["black", "#ffd700", "#00e5ff"])
    n = max(1, len(recs))
    fig, axes = plt.subplots(n, 3, figsize=(11, 3.5 * n), squeeze=False)
    for row, r in enumerate(recs):
        f = by_path[r["file"]]
        key = EventKey(r["source"], r["entry"])
        image, _ = sources.read(key, f.path, f.ids[key])
        nonzero = image != 0
        codes = f.events[key].dense()
        net_cls = _network_classes(_check_predict(predict(image), image.shape, r["source"]), nonzero)
        shown = np.where(nonzero & (codes == 0), 4, np.where(nonzero, codes, 0))
        sl = _box(nonzero & (codes != 0))
        r0, c0 = sl[0].start or 0, sl[1].start or 0
        sub = image[sl]
        extent = (c0 - 0.5, c0 + sub.shape[1] - 0.5, r0 + sub.shape[0] - 0.5, r0 - 0.5)
        vmax = max(2 * sources.threshold, float(np.quantile(sub[sub > 0], 0.99))) if (sub > 0).any() else 1.0
        ax = axes[row]
        im = ax[0].imshow(np.ma.masked_where(sub <= 0, sub), cmap=plt.get_cmap("jet").with_extremes(bad="black"),
                          vmin=0, vmax=vmax, extent=extent, interpolation="nearest")
        fig.colorbar(im, ax=ax[0], fraction=0.046, pad=0.02, label="pixel value")
        ax[0].set_title(f"{Path(r['source']).name} entry {r['entry']} (event {'/'.join(map(str, r['ids']))})",
                        fontsize=8)
        ax[1].imshow(shown[sl], cmap=hand, vmin=0, vmax=4, extent=extent, interpolation="nearest")
        ax[1].set_title(f"physicist {r['scanner']} (track yellow, shower cyan, ignore grey)", fontsize=8)
        ax[2].imshow(net_cls[sl], cmap=net_colours, vmin=0, vmax=2, extent=extent, interpolation="nearest")
        ax[2].set_title(f"{NETWORK} (track yellow, shower cyan): ICPF {r['icpf']:.3f}", fontsize=8)
        for a in ax:
            a.set_xlabel("wire")
            a.set_ylabel("time row")
    if not recs:
        axes[0, 0].text(0.5, 0.5, "no event with compared pixels", ha="center", va="center")
    fig.suptitle(f"{title}{col['sample']}: the {len(recs)} events with the largest physicist-{NETWORK} ICPF",
                 fontsize=10)
    fig.tight_layout()
    return save(fig, path)


__all__ = ["FIGURES", "ROWS", "markdown_table", "scan_study"]
