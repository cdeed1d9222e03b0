"""Wire-plane images with per-pixel truth: a sparse full event, and dense windows of it.

:func:`simulate_planes` turns deposits into one :class:`PlaneTruth` per plane: the
non-zero pixels of the whole readout image (rows = time, columns = wires) with
their value, semantic label and instance. :func:`render` cuts dense windows
(512x512 crops or the whole 1008-row image) out of it.

Pixel value. Each electron cloud is spread over pixels with Gaussian weights
(diffusion combined with the deconvolved signal width in time, and with the
residual inter-wire spread across wires), integrated exactly over each pixel.
A pixel's value is its charge times ``gain_scale * plane_gain / electrons_per_unit``,
plus noise. Pixels on dead wires are zero. Zero-suppression sets every pixel
below ``threshold`` to 0.

Noise. Pixels with no true charge are below the threshold unless noise alone
lifts them over it. Such pixels would carry no truth, so larseg zeroes every
pixel whose noise-free value is below ``min_true_value``; noise is therefore
drawn only for pixels holding charge, which is the same, in distribution, as
adding noise to the whole window and then dropping noise-only pixels. The noise
is drawn once per event in :func:`simulate_planes`, so all windows of an event
see the same pixels (and the cropping algorithm counts the pixels the crop will
show).

Truth. The particle contributing the most charge to a pixel (after the spread)
decides it: label 2 (shower) if :func:`~larseg.physics.truth.is_shower_pdg` of its
PDG code, else 1 (track); instance = its ``ancestor_id`` (the primary's track
id). Ties go to the lower particle-table row. Zero pixels are label 0, instance -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from larseg.conventions import BACKGROUND, SHOWER, TRACK
from larseg.detector.config import DetectorConfig
from larseg.detector.deadwires import dead_wire_map
from larseg.detector.geometry import Geometry
from larseg.detector.response import DriftedCharge, drift_charge, gaussian_pixel_weights
from larseg.physics.truth import Deposits, is_shower_pdg

#: A window of a plane image: (first row, first column, number of rows, number of columns).
Window = tuple[int, int, int, int]


@dataclass
class PlaneTruth:
    """The non-zero pixels of one plane's full image, sorted by (row, col).

    ``vertex`` is the interaction vertex in continuous pixel coordinates
    ``(row, col)`` of the full image (pixel ``k`` is centred on ``k``).
    """

    plane: int
    name: str
    shape: tuple[int, int]  # (n_rows, n_wires)
    row: np.ndarray  # int32
    col: np.ndarray  # int32
    value: np.ndarray  # float32, >= threshold
    label: np.ndarray  # uint8, 1 track / 2 shower
    instance: np.ndarray  # int32, primary ancestor track id
    vertex: tuple[float, float]

    def __len__(self) -> int:
        return len(self.value)

    def full_window(self) -> Window:
        return (0, 0, self.shape[0], self.shape[1])


@dataclass
class PlaneWindow:
    """A dense window of one plane: rows = time, columns = wire.

    ``vertex`` is (row, col) in the window's continuous pixel coordinates, or None
    when the vertex pixel lies outside the window.
    """

    plane: int
    window: Window
    image: np.ndarray  # float32 (n_rows, n_cols)
    label: np.ndarray  # uint8
    instance: np.ndarray  # int32, -1 background
    vertex: tuple[float, float] | None


def pixel_particle_charge(clouds: DriftedCharge, particle: np.ndarray, n_particles: int, plane: int,
                          geometry: Geometry, config: DetectorConfig, row_weights: dict | None = None):
    """(flat pixel, particle, electrons) of every (pixel, particle) pair of ``plane`` touched by charge.

    Sorted by pixel, then particle (an index into the ``n_particles`` particles of
    ``particle``). :func:`simulate_planes` reduces these pairs to one label per
    pixel; ``larseg.eval.labels`` keeps the split to tell mixed pixels.

    Each cloud's charge is shared over a stencil of ``kr x kc`` pixels with the
    product of its row and column weights; shares below ``min_weight`` and pixels
    off the plane are dropped. Charge is then summed per (pixel, particle) by
    sorting integer keys ``pixel * n_particles + particle``. Sorting the clouds
    by their corner key first makes each of the ``kr x kc`` stencil offsets a
    sorted run, so the stable sort (timsort) only has to merge runs.
    ``row_weights`` caches the row weights per time width across planes.
    """
    row_weights = {} if row_weights is None else row_weights
    resp = config.response
    pl = geometry.planes[plane]
    n_rows, n_wires = geometry.n_rows, pl.n_wires

    sigma_t = resp.time_sigma_ticks[plane]
    if sigma_t not in row_weights:
        rho = geometry.row_coordinate(clouds.x, clouds.t)
        sig = np.hypot(clouds.sigma_long_cm / geometry.cm_per_tick, sigma_t) / config.readout.ticks_per_row
        row_weights[sigma_t] = gaussian_pixel_weights(rho, sig, resp.n_sigma)
    r0, wr, kr = row_weights[sigma_t]
    kappa = pl.wire_coordinate(clouds.y, clouds.z)
    sigma_c = np.hypot(clouds.sigma_trans_cm / pl.pitch_cm, resp.wire_sigma[plane])
    c0, wc, kc = gaussian_pixel_weights(kappa, sigma_c, resp.n_sigma)

    corner = r0 * n_wires + c0
    order = np.argsort(corner * n_particles + particle, kind="stable")
    r0, wr, c0, wc = r0[order], wr[order], c0[order], wc[order]
    key0 = corner[order] * n_particles + particle[order]
    charge = clouds.electrons[order]
    rows = r0[:, None] + np.arange(kr)
    cols = c0[:, None] + np.arange(kc)
    wr = np.where((rows >= 0) & (rows < n_rows), wr, 0.0)
    wc = np.where((cols >= 0) & (cols < n_wires), wc, 0.0)

    jr, jc = np.divmod(np.arange(kr * kc), kc)
    weights = wr.T[jr] * wc.T[jc]  # (stencil pixel, cloud)
    valid = weights >= resp.min_weight
    keys = (key0[None, :] + ((jr * n_wires + jc) * n_particles)[:, None])[valid]
    q = (weights * charge[None, :])[valid]
    order = np.argsort(keys, kind="stable")
    keys, q = keys[order], q[order]

    pair_start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    pair_key = keys[pair_start]
    pair_q = np.add.reduceat(q, pair_start)
    pix = pair_key // n_particles
    part = pair_key - pix * n_particles
    return pix, part, pair_q


def _plane_pixels(clouds: DriftedCharge, particle: np.ndarray, n_particles: int, plane: int,
                  geometry: Geometry, config: DetectorConfig, row_weights: dict):
    """(flat pixel, electrons, dominant particle) of every pixel of ``plane`` touched by charge.

    The dominant particle holds the most charge of the pixel's (pixel, particle)
    pairs from :func:`pixel_particle_charge`; exact ties go to the lower index.
    """
    pix, part, pair_q = pixel_particle_charge(clouds, particle, n_particles, plane, geometry, config, row_weights)
    pix_start = np.flatnonzero(np.r_[True, pix[1:] != pix[:-1]])
    total = np.add.reduceat(pair_q, pix_start)
    best = np.maximum.reduceat(pair_q, pix_start)
    segment = np.repeat(np.arange(len(pix_start)), np.diff(np.r_[pix_start, len(pix)]))
    is_best = np.flatnonzero(pair_q == best[segment])
    first_best = is_best[np.r_[True, segment[is_best][1:] != segment[is_best][:-1]]]
    return pix[pix_start], total, part[first_best]


def simulate_planes(deposits: Deposits, particles: np.ndarray, vertex, config: DetectorConfig | None,
                    rng: np.random.Generator, *, vertex_t_ns: float = 0.0) -> list[PlaneTruth]:
    """Simulate the three wire planes (U, V, Y) of one event as sparse full images.

    ``deposits`` [cm, ns, MeV] refer to rows of ``particles`` (``PARTICLE_DTYPE``);
    ``vertex`` is the interaction point (x, y, z) [cm] made at ``vertex_t_ns``.
    ``rng`` draws the noise; the same seed gives identical output.
    """
    config = config or DetectorConfig()
    geometry = Geometry(config)
    resp = config.response
    clouds = drift_charge(deposits, config, geometry)
    tracks, particle = np.unique(deposits.track[clouds.deposit], return_inverse=True)
    pdg = particles["pdg"][tracks]
    cls = np.where(is_shower_pdg(pdg), SHOWER, TRACK).astype(np.uint8)
    ancestor = particles["ancestor_id"][tracks].astype(np.int32)
    dead = dead_wire_map(config)
    vertex2d = geometry.project(np.r_[np.asarray(vertex, dtype=np.float64)[:3], vertex_t_ns])

    row_weights: dict = {}
    out = []
    for plane, pl in enumerate(geometry.planes):
        n_rows, n_wires = geometry.n_rows, pl.n_wires
        if len(clouds):
            pix, electrons, dominant = _plane_pixels(clouds, particle, len(tracks), plane, geometry, config,
                                                     row_weights)
        else:
            pix, electrons, dominant = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
        row, col = np.divmod(pix, n_wires)
        true_value = electrons * (resp.gain_scale * resp.plane_gain[plane] / resp.electrons_per_unit)
        keep = (true_value >= resp.min_true_value) & ~dead[plane][col]
        row, col, dominant, value = row[keep], col[keep], dominant[keep], true_value[keep]
        if resp.noise_rms[plane] > 0:
            value = value + resp.noise_rms[plane] * rng.standard_normal(len(value))
        if resp.coherent_noise_rms[plane] > 0:
            groups = -(-n_wires // resp.coherent_group_wires)
            coherent = resp.coherent_noise_rms[plane] * rng.standard_normal((n_rows, groups))
            value = value + coherent[row, col // resp.coherent_group_wires]
        keep = value >= resp.threshold
        out.append(
            PlaneTruth(
                plane=plane,
                name=pl.name,
                shape=(n_rows, n_wires),
                row=row[keep].astype(np.int32),
                col=col[keep].astype(np.int32),
                value=value[keep].astype(np.float32),
                label=cls[dominant[keep]],
                instance=ancestor[dominant[keep]],
                vertex=(float(vertex2d[plane, 0]), float(vertex2d[plane, 1])),
            )
        )
    return out


def render(planes: list[PlaneTruth], windows: list[Window] | None = None) -> list[PlaneWindow]:
    """Dense arrays of each plane's window (default: the whole plane).

    A window may reach beyond the plane; pixels there are zero (background).
    """
    windows = windows if windows is not None else [p.full_window() for p in planes]
    if len(windows) != len(planes):
        raise ValueError(f"{len(planes)} planes but {len(windows)} windows")
    out = []
    for p, win in zip(planes, windows):
        r0, c0, nr, nc = (int(v) for v in win)
        image = np.zeros((nr, nc), dtype=np.float32)
        label = np.full((nr, nc), BACKGROUND, dtype=np.uint8)
        instance = np.full((nr, nc), -1, dtype=np.int32)
        r, c = p.row - r0, p.col - c0
        inside = (r >= 0) & (r < nr) & (c >= 0) & (c < nc)
        r, c = r[inside], c[inside]
        image[r, c] = p.value[inside]
        label[r, c] = p.label[inside]
        instance[r, c] = p.instance[inside]
        vr, vc = p.vertex[0] - r0, p.vertex[1] - c0
        vertex_inside = 0 <= np.floor(vr + 0.5) < nr and 0 <= np.floor(vc + 0.5) < nc
        out.append(PlaneWindow(p.plane, (r0, c0, nr, nc), image, label, instance,
                               (vr, vc) if vertex_inside else None))
    return out
