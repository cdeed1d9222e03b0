"""Gain calibration: the collection-plane MIP peak-pixel mode (the paper's Fig. 9 finder).

The paper's peak finder marks a pixel whose value is greater than both its
neighbours before and after it along the time axis (same wire). For
minimum-ionising tracks the most frequent peak value measures the pixel scale;
in MicroBooNE's images it lies between 40 and 70. ``ResponseConfig.electrons_per_unit``
is chosen so that straight MIP tracks (:data:`~larseg.physics.constants.LAR_MIP_DEDX`
= 2.12 MeV/cm, no Landau fluctuations) with isotropic directions give a mode of about 60.

:func:`measure_gain` measures it (``larseg calibrate-gain``), and with ``muons=True``
for muons from the particle transport (Landau fluctuations and delta rays lower
the mode by about 15%).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from larseg.detector.config import DetectorConfig
from larseg.detector.geometry import Geometry
from larseg.detector.planes import render, simulate_planes
from larseg.physics.constants import LAR_MIP_DEDX
from larseg.physics.transport import transport
from larseg.physics.truth import PARTICLE_DTYPE, Deposits


def peak_pixels(image: np.ndarray) -> np.ndarray:
    """Values of the peak pixels of a (rows = time, columns = wire) image.

    A peak pixel is non-zero and greater than the pixels just before and after
    it in time; the first and last rows have no two neighbours and are skipped.
    """
    image = np.asarray(image)
    mid = image[1:-1]
    return mid[(mid > 0) & (mid > image[:-2]) & (mid > image[2:])]


def peak_mode(values: np.ndarray, bin_width: float = 2.0, low: float = 0.0, high: float = 300.0) -> float:
    """Most frequent value: centre of the fullest histogram bin of ``bin_width`` in [low, high)."""
    counts, edges = np.histogram(values, bins=np.arange(low, high + bin_width, bin_width))
    if counts.sum() == 0:
        raise ValueError("no values in the histogram range")
    i = int(np.argmax(counts))
    return float(0.5 * (edges[i] + edges[i + 1]))


def straight_mip(start, direction, length_cm: float, step_cm: float = 0.05, track: int = 0) -> Deposits:
    """Deposits of a straight minimum-ionising track: midpoints of equal steps, ``LAR_MIP_DEDX`` (2.12 MeV/cm)."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    n = max(round(length_cm / step_cm), 1)
    s = (np.arange(n) + 0.5) * step_cm
    p = np.asarray(start, dtype=np.float64)[None, :] + s[:, None] * d[None, :]
    return Deposits(p[:, 0], p[:, 1], p[:, 2], np.zeros(n), np.full(n, LAR_MIP_DEDX * step_cm),
                    np.full(n, step_cm), np.full(n, track, dtype=np.int32))


def collection_peaks(deposits: Deposits, config: DetectorConfig, rng: np.random.Generator,
                     plane: int = 2) -> np.ndarray:
    """Peak-pixel values of one event's plane image (default: collection)."""
    particles = np.zeros(int(deposits.track.max()) + 1 if len(deposits) else 1, dtype=PARTICLE_DTYPE)
    particles["pdg"] = 13
    particles["track_id"] = particles["ancestor_id"] = np.arange(len(particles))
    vertex = (deposits.x[0], deposits.y[0], deposits.z[0]) if len(deposits) else (0.0, 0.0, 0.0)
    truth = simulate_planes(deposits, particles, vertex, config, rng)[plane]
    if not len(truth):
        return np.zeros(0, dtype=np.float32)
    r0, c0 = int(truth.row.min()) - 1, int(truth.col.min()) - 1
    window = (r0, c0, int(truth.row.max()) - r0 + 2, int(truth.col.max()) - c0 + 2)
    return peak_pixels(render([truth], [window])[0].image)


def isotropic_mip_peaks(config: DetectorConfig | None = None, n_tracks: int = 300, length_cm: float = 60.0,
                        seed: int = 0) -> np.ndarray:
    """Collection-plane peak values of ``n_tracks`` straight MIP tracks, isotropic, one per event.

    Each track starts at a uniform point of the active volume shrunk by
    ``length_cm`` on every side (so it stays inside), with uniform direction.
    """
    config = config or DetectorConfig()
    g = config.geometry
    rng = np.random.default_rng(seed)
    lo = np.array([g.x_min_cm, g.y_min_cm, g.z_min_cm]) + length_cm
    hi = np.array([g.x_max_cm, g.y_max_cm, g.z_max_cm]) - length_cm
    if np.any(hi <= lo):
        raise ValueError(f"tracks of {length_cm} cm do not fit in the active volume")
    peaks = []
    for _ in range(n_tracks):
        start = rng.uniform(lo, hi)
        direction = rng.normal(size=3)
        peaks.append(collection_peaks(straight_mip(start, direction, length_cm), config, rng))
    return np.concatenate(peaks)


def transported_muon_peaks(config: DetectorConfig | None = None, n_muons: int = 150, momentum_mev: float = 1000.0,
                           seed: int = 0) -> np.ndarray:
    """Collection-plane peak values of track pixels of muons transported by :mod:`larseg.physics`.

    Isotropic muons of ``momentum_mev`` (1 GeV/c: near minimum ionising) with
    the transport's Landau fluctuations and delta rays; shower-labelled pixels
    (delta rays, Michel electrons) are masked before the peak search.
    """
    config = config or DetectorConfig()
    g = config.geometry
    rng = np.random.default_rng(seed)
    lo = np.array([g.x_min_cm, g.y_min_cm, g.z_min_cm]) + 60.0
    hi = np.array([g.x_max_cm, g.y_max_cm, g.z_max_cm]) - 60.0
    peaks = []
    for _ in range(n_muons):
        start = rng.uniform(lo, hi)
        direction = rng.normal(size=3)
        momentum = momentum_mev * direction / np.linalg.norm(direction)
        event = transport([(13, *start, 0.0, *momentum)], rng)
        truth = simulate_planes(event.deposits, event.particles, start, config, rng)[2]
        if not len(truth):
            continue
        r0, c0 = int(truth.row.min()) - 1, int(truth.col.min()) - 1
        window = (r0, c0, int(truth.row.max()) - r0 + 2, int(truth.col.max()) - c0 + 2)
        plane = render([truth], [window])[0]
        peaks.append(peak_pixels(np.where(plane.label == 1, plane.image, 0.0)))
    return np.concatenate(peaks) if peaks else np.zeros(0, dtype=np.float32)


@dataclass
class GainCalibration:
    """What :func:`measure_gain` found: the collection-plane MIP peak-pixel mode for a detector config."""

    electrons_per_unit: float
    row_height_cm: float
    n_tracks: int
    n_peaks: int
    source: str  # what made the tracks
    mode: float  # most frequent peak value (2-unit histogram)
    median: float

    def lines(self) -> list[str]:
        """The report, three lines."""
        return [f"electrons_per_unit = {self.electrons_per_unit}, row height {self.row_height_cm:.4f} cm",
                f"{self.n_peaks} peak pixels from {self.n_tracks} isotropic {self.source}",
                f"collection-plane MIP peak-pixel mode = {self.mode:.1f} (median {self.median:.1f})"]


def measure_gain(config: DetectorConfig | None = None, n_tracks: int = 300, seed: int = 0, muons: bool = False,
                 length_cm: float = 60.0) -> GainCalibration:
    """The collection-plane peak-pixel mode of ``n_tracks`` isotropic straight MIP lines of ``length_cm``
    (:func:`isotropic_mip_peaks`), or with ``muons`` of transported 1 GeV/c muons
    (:func:`transported_muon_peaks`), for ``config`` (default: the detector defaults).

    Raises ``ValueError`` when no peak pixel falls in the histogram range.
    """
    config = config or DetectorConfig()
    if muons:
        peaks = transported_muon_peaks(config, n_muons=n_tracks, seed=seed)
        source = "transported 1 GeV/c muons"
    else:
        peaks = isotropic_mip_peaks(config, n_tracks=n_tracks, length_cm=length_cm, seed=seed)
        source = f"straight {LAR_MIP_DEDX:g} MeV/cm tracks of {length_cm:g} cm"
    if not len(peaks):
        raise ValueError("no peak pixels: the tracks left no charge on the collection plane")
    return GainCalibration(config.response.electrons_per_unit, Geometry(config).row_height_cm, n_tracks,
                           len(peaks), source, peak_mode(peaks), float(np.median(peaks)))
