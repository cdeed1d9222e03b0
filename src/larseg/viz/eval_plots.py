"""Plots of the evaluation and the paper's studies (Figs. 6-10, 12-17 of PRD 99 092001).

Every plot names its sample(s) and event count(s) and has axis labels with units.
Functions take plain arrays, write a PNG atomically and return its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from larseg.viz.event_display import save  # noqa: E402

COLOURS = ("tab:blue", "tab:red", "black", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:gray")


def _wrap(title: str, fig) -> str:
    """Wrap a title to the figure's width (about 11 characters per inch at 10 pt)."""
    import textwrap

    width = max(20, int(fig.get_size_inches()[0] * 11))
    return "\n".join(textwrap.fill(line, width) for line in title.splitlines())


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def icpf_edges(series_values: Sequence[np.ndarray], width: float = 0.5) -> np.ndarray:
    """Bins in percent: ``width`` wide from 0 to the largest value (at least 10%, at most 100%)."""
    hi = max([float(v.max()) for v in series_values if len(v)] + [0.0])
    top = min(100.0, max(10.0, np.ceil(hi / 5.0) * 5.0))
    width = max(width, top / 80.0)
    return np.arange(0.0, top + width / 2, width)


def plot_icpf(series: Sequence[tuple[str, np.ndarray]], path, title: str = "ICPF distribution",
              normalise: bool = False) -> Path:
    """Fig. 6 / 8a / 16a: binned per-image ICPF (input as fractions, drawn in percent)."""
    vals = [100.0 * _finite(v) for _, v in series]
    edges = icpf_edges(vals)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for k, ((label, _), v) in enumerate(zip(series, vals)):
        colour = COLOURS[k % len(COLOURS)]
        w = np.full(len(v), 1.0 / len(v)) if normalise and len(v) else None
        clipped = np.minimum(v, edges[-1] - 1e-9)
        if len(v):
            stats = f"mean {v.mean():.1f}%, 90% quantile {np.quantile(v, 0.9):.1f}%"
        else:
            stats = "no labelled images"
        ax.hist(clipped, bins=edges, weights=w, histtype="step", lw=1.6, color=colour, label=f"{label}: {stats}")
        if len(series) == 1 and len(v):
            ax.axvline(v.mean(), color=colour, ls="--", lw=1, alpha=0.7)
            ax.axvline(np.quantile(v, 0.9), color=colour, ls=":", lw=1, alpha=0.7)
    ax.set_xlabel("ICPF: incorrectly classified pixel fraction per image [%]")
    ax.set_ylabel("fraction of images per bin" if normalise else "images per bin")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    if len(series) == 1:
        ax.text(0.98, 0.70, "dashed: mean, dotted: 90% quantile", transform=ax.transAxes, ha="right", fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def _norm(counts: np.ndarray) -> np.ndarray:
    s = counts.sum()
    return counts / s if s > 0 else counts.astype(float)


def plot_scores(series: Sequence[tuple[str, np.ndarray]], path, title: str = "Softmax scores",
                log: bool = True) -> Path:
    """Fig. 8 (b, c) / 16 (b, c): normalised score histograms.

    ``series`` holds ``(label, counts)`` with counts ``(2, 3, bins)`` as made by
    :func:`larseg.eval.evaluate.score_histograms`: (b) the shower score of true shower
    pixels, (c) the track score of true track pixels.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (("(b) shower pixels: shower score", 1, 2), ("(c) track pixels: track score", 0, 1))
    for ax, (name, lab, cls) in zip(axes, panels):
        for k, (label, counts) in enumerate(series):
            counts = np.asarray(counts)
            bins = counts.shape[-1]
            edges = np.linspace(0, 1, bins + 1)
            c = counts[lab, cls]
            ax.stairs(_norm(c), edges, color=COLOURS[k % len(COLOURS)], lw=1.6,
                      label=f"{label}, {int(c.sum())} pixels")
        ax.set_xlabel("softmax score")
        ax.set_ylabel("fraction of pixels per bin")
        if log:
            ax.set_yscale("log")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 6 if log else hi * 1.3)  # room for the legend
        ax.set_xlim(0, 1)
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(_wrap(title, fig), fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def plot_binned(panels: Sequence[dict], path, title: str = "") -> Path:
    """Fig. 7: binned means with error bars; each panel dict has ``centers``, ``edges``, ``mean``,
    ``err`` (fractions are drawn in percent), ``counts``, ``xlabel``, ``sample``, ``n_events`` and ``title``."""
    n = max(1, len(panels))
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n, 4.2), squeeze=False)
    for ax, p in zip(axes[0], panels):
        mean = 100.0 * np.asarray(p["mean"], dtype=float)
        err = 100.0 * np.asarray(p["err"], dtype=float)
        edges = np.asarray(p["edges"], dtype=float)
        centers = np.asarray(p["centers"], dtype=float)
        half = np.diff(edges) / 2
        ok = np.isfinite(mean)
        ax.errorbar(centers[ok], mean[ok], yerr=np.nan_to_num(err[ok]), xerr=half[ok], fmt="o", ms=4,
                    color="tab:blue", capsize=2, label=f"{p['sample']} ({p['n_events']} events)")
        ax.set_xlabel(p["xlabel"])
        ax.set_ylabel("mean ICPF per bin [%]")
        ax.set_xlim(edges[0], edges[-1])
        top = np.nanmax(np.where(ok, mean + np.nan_to_num(err), np.nan)) if ok.any() else 1.0
        ax.set_ylim(0, max(1.0, 1.3 * top))
        ax.set_title(p.get("title", ""), fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(_wrap(title, fig), fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def plot_scaling(factors, icpf, shower, track, path, sample: str, n_events: int) -> Path:
    """Figs. 10 / 17: ICPF mean (blue) and the shower / track disagreement (red) vs pixel scale factor."""
    f = np.asarray(factors, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(f, 100 * np.asarray(icpf, float), "o-", color="tab:blue", label="ICPF mean")
    ax.plot(f, 100 * np.asarray(shower, float), "s--", color="tab:red", label="shower pixels labelled track")
    ax.plot(f, 100 * np.asarray(track, float), "^:", color="tab:red", label="track pixels labelled shower")
    ax.axvline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_xlabel("pixel value scale factor")
    ax.set_ylabel("disagreement with truth labels [%]")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Pixel scaling: {sample} ({n_events} events)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def plot_peaks(series: Sequence[tuple[str, np.ndarray, float]], edges, path, title: str = "") -> Path:
    """Fig. 9: area-normalised peak-pixel value distributions, with each peak position marked.

    ``series``: ``(label, peak values, peak position)``.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    edges = np.asarray(edges, dtype=float)
    for k, (label, values, mode) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        counts, _ = np.histogram(values, bins=edges)
        area = counts.sum() * np.diff(edges)
        dens = counts / area if counts.sum() else counts.astype(float)
        ax.stairs(dens, edges, color=colour, lw=1.6, label=f"{label}: peak at {mode:.1f}")
        ax.axvline(mode, color=colour, ls="--", lw=1)
    ax.set_xlabel("peak pixel value [pixel units]")
    ax.set_ylabel("peak pixels per unit value (area normalised)")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def _crop_box(mask: np.ndarray, margin: int = 8, min_side: int = 24) -> tuple[slice, slice]:
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return slice(None), slice(None)
    side = max(rows.max() - rows.min(), cols.max() - cols.min(), min_side) + 2 * margin
    out = []
    for lo, hi, n in ((rows.min(), rows.max(), mask.shape[0]), (cols.min(), cols.max(), mask.shape[1])):
        start = int(np.clip((lo + hi - side) // 2, 0, max(n - side, 0)))
        out.append(slice(start, min(start + side, n)))
    return out[0], out[1]


def plot_mask_cases(cases: Sequence[dict], path, title: str = "", heatmap: bool = False, vmax: float = 150.0,
                    bins: int = 20) -> Path:
    """Figs. 12-15: per case, the kept pixels (top) and the normalised track and shower score
    histograms of its non-zero pixels (bottom); with ``heatmap`` a third row shows the score of
    the predicted class of every kept pixel (Fig. 15).

    Each case dict: ``name``, ``image`` (masked, 2D), ``probs`` (3, H, W) softmax.
    """
    n = max(1, len(cases))
    rows = 3 if heatmap else 2
    fig, axes = plt.subplots(rows, n, figsize=(3.6 * n, 3.3 * rows), squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    for k, case in enumerate(cases):
        img = np.asarray(case["image"])
        probs = np.asarray(case["probs"])
        keep = img > 0
        sl = _crop_box(keep)
        r0, c0 = sl[0].start or 0, sl[1].start or 0
        sub = img[sl]
        extent = (c0 - 0.5, c0 + sub.shape[1] - 0.5, r0 + sub.shape[0] - 0.5, r0 - 0.5)
        ax = axes[0, k]
        cmap = plt.get_cmap("jet").with_extremes(bad="white")
        im = ax.imshow(np.ma.masked_where(sub <= 0, sub), cmap=cmap, vmin=0, vmax=vmax, extent=extent,
                       interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="pixel value")
        ax.set_title(f"{case['name']}\n{int(keep.sum())} pixels", fontsize=8)
        ax.set_xlabel("wire")
        ax.set_ylabel("time row (6 ticks)")
        ax = axes[1, k]
        track = probs[1][keep]
        shower = probs[2][keep]
        for vals, colour, name in ((track, "#c9a400", "track score"), (shower, "#00a5c0", "shower score")):
            c, _ = np.histogram(vals, bins=edges)
            mean = vals.mean() if len(vals) else 0.0
            ax.stairs(_norm(c), edges, color=colour, lw=1.8, label=f"{name} (mean {mean:.2f})")
        ax.set_xlabel("softmax score")
        ax.set_ylabel("fraction of kept pixels")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7, loc="upper center")
        if heatmap:
            ax = axes[2, k]
            cls = probs.argmax(axis=0)
            score = np.take_along_axis(probs, cls[None], axis=0)[0]
            heat = np.ma.masked_where(~keep[sl], score[sl])
            im = ax.imshow(heat, cmap="YlOrRd", vmin=0.5, vmax=1.0, extent=extent, interpolation="nearest")
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="score of the predicted class")
            ax.set_title("score heat map", fontsize=8)
            ax.set_xlabel("wire")
            ax.set_ylabel("time row (6 ticks)")
    if title:
        fig.suptitle(_wrap(title, fig), fontsize=10)
    fig.tight_layout()
    return save(fig, path)
