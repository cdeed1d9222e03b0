"""``larseg study peaks``: the paper's 3-pixel peak finder on two samples (Fig. 9).

The paper compared the signal strength of data and simulation with the simplest
peak finder: a pixel greater than its neighbours before and after it in time
(:func:`larseg.detector.peak_pixels`). For minimum-ionising tracks the most frequent
peak value measures the pixel scale; the ratio of the two samples' peak positions
is the gain shift (the paper saw 20-30%).

The peak position is the mode of the peak-value histogram: the fullest bin of the
histogram smoothed over three bins, refined by the vertex of the parabola through
that bin and its two neighbours. The study also reports the best-fit scale: the
factor ``s`` that makes sample A's distribution, with values times ``s``, closest
(least squares of area-normalised histograms around the peak) to sample B's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from larseg.atomic import output_dir
from larseg.conventions import PIXEL_THRESHOLD
from larseg.data.dataset import PlaneDataset
from larseg.detector.calibration import peak_pixels
from larseg.errors import DataFileError, LarsegError
from larseg.eval.evaluate import count_entries, sample_name
from larseg.eval.io import write_json
from larseg.provenance import provenance


def sample_peaks(file: str | Path, plane: int = 2, max_events: int | None = None, track_only: bool = False,
                 threshold: float = PIXEL_THRESHOLD) -> np.ndarray:
    """Peak-pixel values of one plane over the entries of a file (``track_only``: of truth-track pixels)."""
    if not Path(file).is_file():
        raise DataFileError(file, "no such file")
    ds = PlaneDataset([file], plane=plane, threshold=threshold, labels=track_only)
    n = len(ds) if max_events is None else min(len(ds), max_events)
    out = []
    for i in range(n):
        item = ds[i]
        image = item["image"][0].numpy()
        if track_only:
            image = np.where(item["label"].numpy() == 1, image, 0.0)
        out.append(peak_pixels(image))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def peak_position(values, low: float = 0.0, high: float = 300.0, bin_width: float = 2.0) -> float:
    """Mode of ``values`` in ``[low, high)``: smoothed fullest bin, refined by a parabola (see the module doc)."""
    values = np.asarray(values, dtype=float)
    edges = np.arange(low, high + bin_width / 2, bin_width)
    counts, edges = np.histogram(values, bins=edges)
    if counts.sum() == 0:
        raise LarsegError(f"no peak values between {low} and {high}")
    smooth = np.convolve(counts, np.ones(3) / 3.0, mode="same")
    i = int(np.argmax(smooth))
    centre = 0.5 * (edges[i] + edges[i + 1])
    if 0 < i < len(smooth) - 1:
        a, b, c = smooth[i - 1], smooth[i], smooth[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            centre += 0.5 * (a - c) / denom * bin_width
    return float(centre)


def fit_scale(values_a, values_b, low: float, high: float, bin_width: float = 2.0,
              scales: np.ndarray | None = None) -> float:
    """The factor ``s`` minimising the squared difference between the area-normalised histograms of
    ``s * values_a`` and ``values_b`` in ``[low, high)``."""
    a = np.asarray(values_a, dtype=float)
    b = np.asarray(values_b, dtype=float)
    edges = np.arange(low, high + bin_width / 2, bin_width)
    hb, _ = np.histogram(b, bins=edges)
    if hb.sum() == 0:
        raise LarsegError(f"no peak values between {low} and {high}")
    hb = hb / hb.sum()
    scales = np.arange(0.4, 2.5, 0.0025) if scales is None else np.asarray(scales, dtype=float)
    best, best_cost = float("nan"), np.inf
    for s in scales:
        ha, _ = np.histogram(s * a, bins=edges)
        if ha.sum() == 0:
            continue
        cost = float(((ha / ha.sum() - hb) ** 2).sum())
        if cost < best_cost:
            best, best_cost = float(s), cost
    return best


def compare_peaks(values_a, values_b, low: float = 0.0, high: float = 300.0, bin_width: float = 2.0) -> dict:
    """Peak positions of two samples, their ratio (B / A) and the best-fit scale from A to B.

    The fit uses the window from half to twice the lower peak position, where the MIP
    peak dominates and the zero-suppression threshold does not cut.
    """
    pa = peak_position(values_a, low, high, bin_width)
    pb = peak_position(values_b, low, high, bin_width)
    lo = max(low, 0.5 * min(pa, pb))
    hi = min(high, 2.0 * max(pa, pb))
    return {"peak_a": pa, "peak_b": pb, "ratio": pb / pa, "fit_scale": fit_scale(values_a, values_b, lo, hi, bin_width),
            "fit_window": [lo, hi], "n_peaks_a": int(len(values_a)), "n_peaks_b": int(len(values_b))}


def peaks_study(file_a: str | Path, file_b: str | Path, out: str | Path, *, plane: int = 2,
                max_events: int | None = None, track_only: bool = False, low: float = 0.0, high: float = 200.0,
                bin_width: float = 2.0) -> dict:
    """Fig. 9: ``fig9_peaks.png`` and ``peaks.json`` (positions, ratio B/A, best-fit scale, counts)."""
    # lazy: larseg.viz.eval_plots loads matplotlib (and selects its Agg backend); only the figure needs it
    from larseg.viz.eval_plots import plot_peaks

    if high <= low or bin_width <= 0:
        raise LarsegError("--range must be low,high with high > low, and --bin-width positive")
    out = Path(out)
    output_dir(out)
    va = sample_peaks(file_a, plane, max_events, track_only)
    vb = sample_peaks(file_b, plane, max_events, track_only)
    for f, v in ((file_a, va), (file_b, vb)):
        if not len(v):
            raise DataFileError(f, f"no peak pixels on plane {plane}")
    res = compare_peaks(va, vb, low, high, bin_width)
    na = sample_name(file_a)
    nb = sample_name(file_b)
    if na == nb:
        na, nb = f"{na} ({Path(file_a).stem})", f"{nb} ({Path(file_b).stem})"
    events = {}
    for f in (file_a, file_b):
        n = count_entries(f)
        events[str(f)] = n if max_events is None else min(n, max_events)
    edges = np.arange(low, high + bin_width / 2, bin_width)
    figure = plot_peaks(
        [(f"{na} ({events[str(file_a)]} events)", va, res["peak_a"]),
         (f"{nb} ({events[str(file_b)]} events)", vb, res["peak_b"])], edges, out / "fig9_peaks.png",
        title=f"3-pixel peak finder, plane {plane}{', track pixels' if track_only else ''}: "
              f"peak ratio {res['ratio']:.3f}, fitted scale {res['fit_scale']:.3f}")
    result = {"sample_a": na, "sample_b": nb, "file_a": str(file_a), "file_b": str(file_b), "plane": plane,
              "track_only": track_only, "events_a": events[str(file_a)], "events_b": events[str(file_b)],
              "bin_width": bin_width, "range": [low, high], **res, "provenance": provenance()}
    write_json(out / "peaks.json", result)
    result["figure"] = figure
    return result
