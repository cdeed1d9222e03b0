"""The paper's performance metrics (Sec. IV C and VI) — the one implementation larseg uses everywhere.

Per image, over its *labelled non-zero pixels* (label 1 track or 2 shower, minus any
pixel excluded by an ``ignore`` mask or carrying the ``ignore_label`` value):

- **ICPF**: the fraction whose predicted class (argmax over background, track and
  shower) differs from the label; a non-zero pixel predicted background is wrong.
- **shower error rate**: the fraction of shower pixels predicted track.
- **track error rate**: the fraction of track pixels predicted shower.

Per sample: ICPF mean, ICPF 90% quantile (numpy's linear interpolation), and the
means of the shower and track error rates. An image with no labelled pixels has no
ICPF and is left out of the ICPF statistics; an image without shower (track) pixels
is left out of the shower (track) error mean.

``prediction`` and ``label`` can come from any two sources (network vs truth,
network vs a physicist, one labeller vs another): class maps ``(N, H, W)`` or
``(H, W)``, or scores ``(N, C, H, W)`` which are reduced with argmax.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from larseg.conventions import SHOWER, TRACK


@dataclass
class ImageMetrics:
    """Per-image values (numpy arrays, one entry per image; NaN where undefined)."""

    icpf: np.ndarray
    shower_error: np.ndarray
    track_error: np.ndarray
    n_pixels: np.ndarray
    n_track: np.ndarray
    n_shower: np.ndarray

    def __len__(self) -> int:
        return len(self.icpf)

    @staticmethod
    def concat(parts: list[ImageMetrics]) -> ImageMetrics:
        if not parts:
            empty = np.zeros(0)
            return ImageMetrics(empty, empty, empty, empty.astype(np.int64), empty.astype(np.int64),
                                empty.astype(np.int64))
        return ImageMetrics(*(np.concatenate([getattr(p, k) for p in parts]) for k in
                              ("icpf", "shower_error", "track_error", "n_pixels", "n_track", "n_shower")))


@dataclass
class SampleMetrics:
    icpf_mean: float
    icpf_q90: float
    shower_error: float
    track_error: float
    n_images: int
    n_images_labelled: int

    def as_dict(self) -> dict:
        return asdict(self)


def _as_classes(x) -> torch.Tensor:
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    return t


def image_metrics(prediction, label, ignore=None, ignore_label: int | None = None) -> ImageMetrics:
    """Per-image ICPF and error rates of ``prediction`` against ``label`` (see the module docstring).

    Only the labelled pixels are looked at (a per-image 3x3 confusion matrix of them), so
    passing scores (N, C, H, W) costs an argmax over those pixels only.
    """
    pred = _as_classes(prediction)
    lab = _as_classes(label)
    if lab.dim() == 2:
        lab = lab[None]
    scores = pred.dim() == lab.dim() + 1
    if pred.dim() == 2:
        pred = pred[None]
    shape = tuple(pred.shape[:1] + pred.shape[2:]) if scores else tuple(pred.shape)
    if shape != tuple(lab.shape):
        raise ValueError(f"prediction {tuple(pred.shape)} and label {tuple(lab.shape)} differ in shape")
    b = lab.shape[0]
    flat = lab.reshape(b, -1)
    sel = (flat == TRACK) | (flat == SHOWER)
    if ignore is not None:
        ign = _as_classes(ignore).to(lab.device).bool()
        sel &= ~ign.reshape(b, -1)
    if ignore_label is not None:
        sel &= flat != ignore_label
    bi, pi = torch.nonzero(sel, as_tuple=True)
    truth = flat[bi, pi].long()
    pred = pred.to(lab.device)
    if scores:
        guess = pred.reshape(b, pred.shape[1], -1)[bi, :, pi].argmax(dim=1)
    else:
        guess = pred.reshape(b, -1)[bi, pi].long()
    guess = torch.where((guess < 0) | (guess > 2), torch.zeros_like(guess), guess)  # other values: wrong
    conf = torch.bincount(bi * 9 + truth * 3 + guess, minlength=b * 9).reshape(b, 3, 3).cpu().numpy()
    n_track = conf[:, TRACK].sum(axis=1)
    n_shower = conf[:, SHOWER].sum(axis=1)
    n = n_track + n_shower
    wrong = n - conf[:, TRACK, TRACK] - conf[:, SHOWER, SHOWER]

    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.maximum(den, 1), np.nan)

    return ImageMetrics(
        icpf=ratio(wrong, n), shower_error=ratio(conf[:, SHOWER, TRACK], n_shower),
        track_error=ratio(conf[:, TRACK, SHOWER], n_track), n_pixels=n.astype(np.int64),
        n_track=n_track.astype(np.int64), n_shower=n_shower.astype(np.int64),
    )


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


def summarize(per_image: ImageMetrics) -> SampleMetrics:
    """Sample metrics from per-image values."""
    icpf = per_image.icpf[np.isfinite(per_image.icpf)]
    return SampleMetrics(
        icpf_mean=float(icpf.mean()) if len(icpf) else float("nan"),
        icpf_q90=float(np.quantile(icpf, 0.9)) if len(icpf) else float("nan"),
        shower_error=_nanmean(per_image.shower_error),
        track_error=_nanmean(per_image.track_error),
        n_images=len(per_image),
        n_images_labelled=len(icpf),
    )


def sample_metrics(prediction, label, ignore=None, ignore_label: int | None = None) -> SampleMetrics:
    """Sample metrics of a whole batch of images at once."""
    return summarize(image_metrics(prediction, label, ignore, ignore_label))


class MetricAccumulator:
    """Collects per-image metrics batch by batch: ``update(pred, label)``, then ``summary()``."""

    def __init__(self, ignore_label: int | None = None):
        self.ignore_label = ignore_label
        self.parts: list[ImageMetrics] = []

    def update(self, prediction, label, ignore=None) -> ImageMetrics:
        part = image_metrics(prediction, label, ignore, self.ignore_label)
        self.parts.append(part)
        return part

    def per_image(self) -> ImageMetrics:
        return ImageMetrics.concat(self.parts)

    def summary(self) -> SampleMetrics:
        return summarize(self.per_image())
