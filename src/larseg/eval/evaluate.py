"""``larseg evaluate``: a network over test samples -> the paper's Table I, Fig. 6 and Fig. 8 (b, c).

For every input file (one sample each) :func:`evaluate_file` runs the network on one
wire plane of every entry (default: the plane the network was trained on, the
collection plane) and writes into ``OUT/samples/<sample>/``:

- ``events.jsonl``: one JSON record per entry: ``entry``, ``run``/``subrun``/``event``,
  ``icpf``, ``shower_error``, ``track_error`` (fractions; null where undefined),
  labelled pixel counts ``n_pixels``/``n_track``/``n_shower``, ``n_nonzero``, the
  predicted classes of the labelled pixels ``n_pred_track``/``n_pred_shower``, and the
  truth kinematics of :func:`larseg.eval.truth.event_kinematics`;
- ``summary.json`` (written last): the sample metrics (:mod:`larseg.model.metrics`), the
  softmax score histograms of track and shower pixels, timing, and what identifies the
  inputs (file path, size and mtime, network weights, plane, threshold, event count).
  When it exists and matches, the file is not evaluated again (resuming).

:func:`evaluate` then writes ``table1.md`` / ``.csv`` / ``.json`` (ours beside the paper's),
``evaluation.json`` (network and larseg provenance) and the figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from larseg.atomic import output_dir
from larseg.conventions import CLASSES
from larseg.data.dataset import PlaneDataset
from larseg.data.products import NEUTRINO, TRUTH
from larseg.data.sources import open_input
from larseg.errors import DataFileError, LarsegError
from larseg.eval.io import (
    ModelInfo,
    file_identity,
    load_model_info,
    read_json,
    read_jsonl,
    write_json,
    write_jsonl,
    write_text_atomic,
)
from larseg.eval.tables import rows_csv, table1_markdown, table1_rows
from larseg.eval.truth import event_kinematics
from larseg.model.metrics import SHOWER, TRACK, ImageMetrics, image_metrics, summarize
from larseg.model.predictor import Predictor
from larseg.provenance import provenance

SCORE_BINS = 50
CLASS_NAMES = CLASSES
EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "summary.json"
#: Bumped when the per-file outputs change meaning (old results are then recomputed).
RESULT_VERSION = 1

ProgressFactory = Callable[[int], object]


def sample_name(path: str | Path) -> str:
    """The sample of a larseg file (its ``larseg_sample`` metadata), else the file's stem (any input format)."""
    return open_input(path).metadata.get("larseg_sample") or Path(path).stem


def sample_keys(files: Sequence[str | Path]) -> list[str]:
    """One directory name per file: its sample name, made unique with the file stem when repeated."""
    names = [sample_name(f) for f in files]
    keys = []
    for f, n in zip(files, names):
        key = n if names.count(n) == 1 else f"{n}-{Path(f).stem}"
        while key in keys:
            key += "+"
        keys.append(key)
    return keys


# --- score histograms


def score_histograms(probs: torch.Tensor, label: torch.Tensor, bins: int = SCORE_BINS) -> np.ndarray:
    """Counts ``(2, 3, bins)``: for true track (0) and true shower (1) pixels, the histogram over
    [0, 1] of each class's softmax score (background, track, shower)."""
    out = np.zeros((2, 3, bins), dtype=np.int64)
    p = probs.permute(0, 2, 3, 1)
    for i, lab in enumerate((TRACK, SHOWER)):
        sel = label == lab
        if not bool(sel.any()):
            continue
        scores = p[sel].float().cpu().numpy()  # (n, 3)
        idx = np.clip((scores * bins).astype(np.int64), 0, bins - 1)
        for c in range(3):
            out[i, c] += np.bincount(idx[:, c], minlength=bins)
    return out


def hist_to_dict(counts: np.ndarray) -> dict:
    bins = counts.shape[-1]
    return {"bins": bins, "edges": np.linspace(0, 1, bins + 1).round(6).tolist(),
            **{f"{lab}_pixels": {CLASS_NAMES[c]: counts[i, c].tolist() for c in range(3)}
               for i, lab in enumerate(("track", "shower"))}}


def hist_from_dict(d: dict) -> np.ndarray:
    bins = int(d["bins"])
    out = np.zeros((2, 3, bins), dtype=np.int64)
    for i, lab in enumerate(("track", "shower")):
        for c in range(3):
            out[i, c] = d[f"{lab}_pixels"][CLASS_NAMES[c]]
    return out


# --- one file


@dataclass
class SampleResult:
    key: str
    sample: str
    file: str
    summary: dict
    records: list[dict] = field(default_factory=list)
    reused: bool = False

    @property
    def metrics(self) -> dict:
        return self.summary["metrics"]

    @property
    def n_events(self) -> int:
        return int(self.summary["metrics"]["n_images"])

    def icpf(self) -> np.ndarray:
        return np.array([np.nan if r["icpf"] is None else r["icpf"] for r in self.records], dtype=float)

    def hist(self) -> np.ndarray:
        return hist_from_dict(self.summary["score_hist"])


def _identity(info: ModelInfo, path: Path, n_events: int, bins: int, scale: float) -> dict:
    return {"version": RESULT_VERSION, "file": file_identity(path), "model": info.fingerprint, "plane": info.plane,
            "threshold": info.threshold, "n_events": n_events, "score_bins": bins, "scale": scale}


def iterate_batches(ds: PlaneDataset, n: int, batch: int):
    """Items of the first ``n`` entries grouped in batches of equal image shape: lists of dicts."""
    group: list[dict] = []
    for i in range(n):
        item = ds[i]
        if group and (len(group) >= batch or item["image"].shape != group[0]["image"].shape):
            yield group
            group = []
        group.append(item)
    if group:
        yield group


def run_batch(model, images: torch.Tensor, labels: torch.Tensor, bins: int = SCORE_BINS):
    """Probabilities, per-image metrics, score histograms and predicted class counts of one batch.

    ``model``: a :class:`Predictor` (its input contract applies) or an in-memory network (run on
    the images as given).
    """
    predictor = model if isinstance(model, Predictor) else Predictor.from_module(model, threshold=0.0)
    probs = predictor.probabilities(images).cpu()
    m = image_metrics(probs, labels)
    hist = score_histograms(probs, labels, bins)
    pred = probs.argmax(dim=1)
    labelled = (labels == TRACK) | (labels == SHOWER)
    n_pred = [((pred == c) & labelled).flatten(1).sum(1).cpu().numpy() for c in (TRACK, SHOWER)]
    return probs, m, hist, n_pred


def evaluate_file(model, path: str | Path, out_dir: str | Path, *, key: str | None = None,
                  max_events: int | None = None, batch: int = 4, plane: int | None = None,
                  threshold: float | None = None, scale: float = 1.0, advance: Callable[[int], None] | None = None,
                  force: bool = False, bins: int = SCORE_BINS) -> SampleResult:
    """Evaluate one sample file; results go to ``out_dir`` (reused if already there and matching).

    ``model`` is a :class:`ModelInfo`, a checkpoint path or a network. ``scale`` multiplies
    every pixel value before the network sees it (the pixel-scaling study).
    """
    info = model if isinstance(model, ModelInfo) else load_model_info(model, plane, threshold)
    path = Path(path)
    out_dir = Path(out_dir)
    if batch < 1:
        raise LarsegError(f"--batch {batch}: must be at least 1")
    ds = PlaneDataset([path], plane=info.plane, threshold=info.threshold)
    f = ds.files[0]
    n = len(ds) if max_events is None else min(len(ds), int(max_events))
    sample = f.metadata.get("larseg_sample") or path.stem
    key = key or sample
    identity = _identity(info, path, n, bins, scale)
    summary_path = out_dir / SUMMARY_FILE
    if not force and summary_path.is_file():
        try:
            old = read_json(summary_path)
            if old.get("identity") == identity and (out_dir / EVENTS_FILE).is_file():
                records = read_jsonl(out_dir / EVENTS_FILE)
                if len(records) == n:
                    if advance:
                        advance(n)
                    return SampleResult(key, sample, str(path), old, records, reused=True)
        except DataFileError:
            pass  # unreadable old results: recompute
    summary_path.unlink(missing_ok=True)
    has_nu = NEUTRINO in f.products["particle"]
    has_truth = TRUTH in f.products["particle"]
    parts: list[ImageMetrics] = []
    records: list[dict] = []
    hist = np.zeros((2, 3, bins), dtype=np.int64)
    t0 = time.perf_counter()
    scaled = info.with_contract(scale=float(scale))  # the contract thresholds, then scales
    for group in iterate_batches(ds, n, batch):
        images = torch.stack([g["image"] for g in group])
        labels = torch.stack([g["label"] for g in group])
        _, m, h, n_pred = run_batch(scaled, images, labels, bins)
        hist += h
        parts.append(m)
        nonzero = (images[:, 0] > 0).flatten(1).sum(1).numpy()
        for j, g in enumerate(group):
            entry = int(g["index"])
            run, subrun, event = f.event_id(entry)
            rec = {"entry": entry, "run": run, "subrun": subrun, "event": event,
                   "icpf": m.icpf[j], "shower_error": m.shower_error[j], "track_error": m.track_error[j],
                   "n_pixels": m.n_pixels[j], "n_track": m.n_track[j], "n_shower": m.n_shower[j],
                   "n_nonzero": nonzero[j], "n_pred_track": n_pred[0][j], "n_pred_shower": n_pred[1][j]}
            rec.update(event_kinematics(f.particles(TRUTH, entry) if has_truth else None,
                                        f.particles(NEUTRINO, entry) if has_nu else None))
            records.append(rec)
        if advance:
            advance(len(group))
    seconds = time.perf_counter() - t0
    metrics = summarize(ImageMetrics.concat(parts)).as_dict()
    summary = {
        "sample": sample, "key": key, "file": str(path), "plane": info.plane, "threshold": info.threshold,
        "scale": scale, "metrics": metrics, "score_hist": hist_to_dict(hist), "seconds": seconds,
        "events_per_second": n / seconds if seconds > 0 else None, "identity": identity,
        "model": {"source": info.source, "fingerprint": info.fingerprint}, "provenance": provenance(),
        "data_provenance": {k: v for k, v in f.metadata.items() if k != "larseg_config"},
    }
    output_dir(out_dir)
    write_jsonl(out_dir / EVENTS_FILE, records)
    write_json(summary_path, summary)
    records = read_jsonl(out_dir / EVENTS_FILE)  # the same JSON-clean form a reused result has
    return SampleResult(key, sample, str(path), read_json(summary_path), records)


def load_sample_results(results_dir: str | Path) -> list[SampleResult]:
    """Every per-sample result under ``DIR/samples/`` (for the studies and the report)."""
    root = Path(results_dir)
    d = root / "samples"
    if not d.is_dir():
        raise DataFileError(root, "no samples/ directory: not an evaluation output (run 'larseg evaluate')")
    out = []
    for sub in sorted(p for p in d.iterdir() if (p / SUMMARY_FILE).is_file() and (p / EVENTS_FILE).is_file()):
        s = read_json(sub / SUMMARY_FILE)
        out.append(SampleResult(s.get("key", sub.name), s["sample"], s.get("file", ""), s,
                                read_jsonl(sub / EVENTS_FILE), reused=True))
    if not out:
        raise DataFileError(root, "no finished sample results under samples/")
    return out


# --- several files


@dataclass
class EvaluationResult:
    out: Path
    samples: list[SampleResult]
    table: list[dict]
    figures: list[Path]

    @property
    def n_reused(self) -> int:
        return sum(s.reused for s in self.samples)


def count_entries(path: str | Path) -> int:
    return open_input(path).n_entries


def check_inputs(files: Sequence[str | Path]) -> None:
    """Every file exists, is a format :func:`larseg.data.sources.open_input` reads and has truth labels
    (else a one-line :class:`DataFileError` naming it), before any work starts."""
    for fpath in files:
        open_input(fpath).require_labels()


def evaluate(model, files: Sequence[str | Path], out: str | Path, *, plane: int | None = None,
             threshold: float | None = None, max_events: int | None = None, batch: int = 4,
             progress: ProgressFactory | None = None, force: bool = False, plots: bool = True) -> EvaluationResult:
    """Evaluate ``model`` on every file; write Table I, the figures and ``evaluation.json`` into ``out``.

    ``progress(total)`` (optional) returns a context manager yielding ``advance(n)``.
    """
    if not files:
        raise LarsegError("no sample files given")
    for fpath in files:
        if not Path(fpath).is_file():
            raise DataFileError(fpath, "no such file")
    check_inputs(files)
    out = Path(out)
    output_dir(out)
    info = model if isinstance(model, ModelInfo) else load_model_info(model, plane, threshold)
    keys = sample_keys(files)
    total = sum(min(count_entries(fp), max_events) if max_events is not None else count_entries(fp) for fp in files)
    results = []
    with (progress(total) if progress else nullcontext(lambda n=1: None)) as advance:
        for fpath, key in zip(files, keys):
            results.append(evaluate_file(info, fpath, out / "samples" / key, key=key, max_events=max_events,
                                         batch=batch, advance=advance, force=force))
    return write_outputs(out, results, info, plots=plots)


def write_outputs(out: Path, results: list[SampleResult], info: ModelInfo | None, plots: bool = True
                  ) -> EvaluationResult:
    """Table I (Markdown, CSV, JSON), ``evaluation.json`` and the figures of a set of sample results."""
    summaries = [{"sample": r.sample, "file": r.file, "metrics": r.metrics} for r in results]
    rows = table1_rows(summaries)
    for row, r in zip(rows, results):
        row["key"] = r.key
    plane = results[0].summary.get("plane", 2) if results else 2
    title = f"Table I: network performance, plane {plane}" + (f" ({info.source})" if info else "")
    write_text_atomic(out / "table1.md", table1_markdown(rows, title))
    write_text_atomic(out / "table1.csv", rows_csv(rows))
    write_json(out / "table1.json", rows)
    meta = {"samples": [{"key": r.key, "sample": r.sample, "file": r.file, "events": r.n_events,
                         "events_per_second": r.summary.get("events_per_second")} for r in results],
            "provenance": provenance()}
    if info is not None:
        meta["model"] = info.as_record()
    write_json(out / "evaluation.json", meta)
    figures = []
    if plots:
        from larseg.viz import eval_plots  # loads matplotlib (Agg): only when figures are drawn

        for r in results:
            label = f"{r.sample} ({r.n_events} events)"
            figures.append(eval_plots.plot_icpf([(label, r.icpf())], out / f"fig6_icpf_{r.key}.png",
                                                title=f"ICPF distribution: {r.sample}"))
            figures.append(eval_plots.plot_scores([(label, r.hist())], out / f"fig8_scores_{r.key}.png",
                                                  title=f"Softmax scores: {r.sample}"))
        if len(results) > 1:
            figures.append(eval_plots.plot_icpf([(f"{r.sample} ({r.n_events} events)", r.icpf()) for r in results],
                                                out / "fig6_icpf_all.png", title="ICPF distribution, all samples",
                                                normalise=True))
    return EvaluationResult(out, results, rows, figures)

