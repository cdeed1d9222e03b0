"""Every number of the detector simulation, as one typed config (loads from YAML).

Units are in the field names (``_cm``, ``_us``, ``_ev``, ...); per-plane tuples
are ordered (U, V, Y). The defaults describe MicroBooNE as simulated for the
paper; docs/detector.md gives the source of each value. A "data-like" detector
(the paper saw a 20-30% gain difference between data and simulation) is only a
config change, e.g.::

    response: {gain_scale: 0.78, noise_rms: [4.5, 4.5, 3.0], coherent_noise_rms: [1.0, 1.0, 0.7]}
    dead_wires: {fraction: [0.2, 0.16, 0.09]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from larseg.config.base import SEED_LIMIT, SettingError, require, require_finite
from larseg.conventions import PIXEL_THRESHOLD

#: Largest number of wires of a plane and of rows of an image: an image of
#: MAX_IMAGE_SIDE x MAX_IMAGE_SIDE float32 pixels is already 1 GiB (MicroBooNE: 3456 x 1008).
MAX_IMAGE_SIDE = 16384


@dataclass
class PlaneConfig:
    """One wire plane.

    Wires run along the direction at ``angle_deg`` from vertical (+y) towards +z;
    a wire's position is measured along the pitch direction, perpendicular to
    the wires in the (y, z) plane: ``s = z cos(angle) - y sin(angle)``. Wire
    ``k`` lies at ``s = wire0_cm + k * pitch_cm``.
    """

    name: str = "Y"
    angle_deg: float = 0.0
    n_wires: int = 3456
    pitch_cm: float = 0.3
    wire0_cm: float = 0.0

    def __post_init__(self):
        require_finite(self)
        require(self, "n_wires", low=1, high=MAX_IMAGE_SIDE, integer=True)
        require(self, "pitch_cm", low=0, low_open=True)
        require(self, "angle_deg", low=-90, high=90)


def _microboone_planes() -> list[PlaneConfig]:
    # 2400 induction wires at +-60 deg span 2400 * 0.3 = 720 cm of s, the extent of the
    # active (y, z) rectangle projected on their pitch direction (233 sin60 + 1036.8 cos60
    # = 720.2 cm); wire 0 is placed so that the wires are centred on it. Y wire k sits at
    # z = 0.3 k cm (MicroBooNE's first collection wire is at z = 0.25 cm).
    return [
        PlaneConfig("U", 60.0, 2400, 0.3, -100.65),
        PlaneConfig("V", -60.0, 2400, 0.3, -100.65),
        PlaneConfig("Y", 0.0, 3456, 0.3, 0.0),
    ]


@dataclass
class GeometryConfig:
    """The TPC's active volume (x = drift, anode at ``x_min_cm``) and its wire planes (U, V, Y)."""

    x_min_cm: float = 0.0
    x_max_cm: float = 256.35
    y_min_cm: float = -116.5
    y_max_cm: float = 116.5
    z_min_cm: float = 0.0
    z_max_cm: float = 1036.8
    planes: list[PlaneConfig] = field(default_factory=_microboone_planes)

    def __post_init__(self):
        require_finite(self)
        for axis in "xyz":
            lo, hi = getattr(self, f"{axis}_min_cm"), getattr(self, f"{axis}_max_cm")
            if not hi > lo:
                raise SettingError(f"{axis}_max_cm", f"must be larger than {axis}_min_cm {lo!r} (the active volume "
                                                     f"needs a positive extent), got {hi!r}")
        if len(self.planes) != 3:
            raise ValueError(f"three wire planes (U, V, Y) are expected, got {len(self.planes)}")


@dataclass
class ReadoutConfig:
    """Drift and digitisation: how (x, t) becomes an image row.

    Charge made at time t [ns] at distance d = x - x_anode from the anode arrives
    at tick ``trigger_tick + sampling_mhz * (t / 1000 + d / drift_velocity)``. The
    image starts at ``first_tick`` and sums ``ticks_per_row`` ticks per row.
    """

    drift_velocity_cm_per_us: float = 0.1114
    sampling_mhz: float = 2.0
    trigger_tick: float = 3200.0
    first_tick: float = 2400.0
    ticks_per_row: int = 6
    n_rows: int = 1008

    def __post_init__(self):
        require_finite(self)
        require(self, "drift_velocity_cm_per_us", "sampling_mhz", low=0, low_open=True)
        require(self, "ticks_per_row", low=1, high=MAX_IMAGE_SIDE, integer=True)
        require(self, "n_rows", low=1, high=MAX_IMAGE_SIDE, integer=True)


@dataclass
class ChargeConfig:
    """Ionisation, recombination and drift of the charge."""

    w_ion_ev: float = 23.6
    recombination: Literal["modified_box", "birks"] = "modified_box"
    box_alpha: float = 0.93
    box_beta: float = 0.212  # (kV/cm)(g/cm^2)/MeV
    birks_a: float = 0.800
    birks_k: float = 0.0486  # (kV/cm)(g/cm^2)/MeV
    field_kv_per_cm: float = 0.273
    density_g_per_cm3: float = 1.3954
    #: Recombination is evaluated at no less than this dE/dx [MeV/cm].
    min_dedx_mev_per_cm: float = 1.0
    #: dE/dx [MeV/cm] used for deposits with no step length (energy dumped where a particle stops).
    point_dedx_mev_per_cm: float = 3.0
    lifetime_us: float = 15000.0
    diffusion_long_cm2_per_s: float = 3.74
    diffusion_trans_cm2_per_s: float = 6.0
    #: Steps longer than this (half a wire pitch) are split into equal sub-steps along their direction [cm].
    substep_cm: float = 0.15

    def __post_init__(self):
        require_finite(self)
        require(self, "w_ion_ev", "field_kv_per_cm", "density_g_per_cm3", "box_alpha", "box_beta",
                "min_dedx_mev_per_cm", "point_dedx_mev_per_cm", "lifetime_us", "substep_cm", low=0, low_open=True)
        require(self, "birks_a", low=0, high=1, low_open=True, why="the recombination survival at zero dE/dx")
        require(self, "birks_k", "diffusion_long_cm2_per_s", "diffusion_trans_cm2_per_s", low=0)


#: Upper bound of ``gain_scale`` and ``plane_gain`` (relative factors near 1).
MAX_GAIN = 100.0


@dataclass
class ResponseConfig:
    """Deconvolved signal shape, gain, noise and zero-suppression, per plane (U, V, Y).

    A pixel's value is ``electrons * gain_scale * plane_gain / electrons_per_unit`` plus
    noise. ``electrons_per_unit`` is calibrated so that the collection-plane MIP
    peak-pixel mode is about 60 (docs/detector.md); it depends on ``time_sigma_ticks``
    (a wider signal spreads a track's charge over more rows), so recalibrate it
    (``larseg calibrate-gain``) when the widths change.
    """

    electrons_per_unit: float = 184.0
    gain_scale: float = 1.0
    plane_gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    #: Gaussian width of the deconvolved signal in time [ticks]: MicroBooNE's charge filter Gaus_wide
    #: (sigma_f = 0.12 MHz on every plane) leaves 1 / (2 pi sigma_f) = 1.33 us = 2.65 ticks
    #: (docs/detector.md, "Validation against MicroBooNE's response files").
    time_sigma_ticks: tuple[float, float, float] = (2.65, 2.65, 2.65)
    #: Gaussian spread to neighbouring wires left by the deconvolution [wire pitches].
    wire_sigma: tuple[float, float, float] = (0.4, 0.4, 0.25)
    #: Incoherent noise per pixel (after deconvolution and 6-tick summing) [pixel units].
    noise_rms: tuple[float, float, float] = (3.0, 3.0, 2.0)
    #: Residual coherent noise: one Gaussian offset per row per group of wires [pixel units].
    coherent_noise_rms: tuple[float, float, float] = (0.0, 0.0, 0.0)
    coherent_group_wires: int = 48
    #: Zero-suppression: pixels below this value are set to 0 (the paper: 10).
    threshold: float = PIXEL_THRESHOLD
    #: Pixels whose noise-free value is below this hold no true charge and are zeroed [pixel units].
    min_true_value: float = 1.0
    #: Gaussian tails are cut at this many sigma; charge sharing weights below ``min_weight`` are dropped.
    n_sigma: float = 3.0
    min_weight: float = 1e-4

    def __post_init__(self):
        require_finite(self)
        require(self, "electrons_per_unit", low=0, low_open=True)
        require(self, "gain_scale", "plane_gain", low=0, high=MAX_GAIN, low_open=True,
                why="a relative gain: the data-like detector is 0.78")
        require(self, "time_sigma_ticks", "wire_sigma", "noise_rms", "coherent_noise_rms", "threshold",
                "min_true_value", low=0)
        require(self, "coherent_group_wires", low=1, high=MAX_IMAGE_SIDE, integer=True)
        require(self, "n_sigma", low=0, low_open=True)
        require(self, "min_weight", low=0, high=1, low_open=True, high_open=True)


@dataclass
class DeadWireConfig:
    """Unresponsive channels: a fixed map drawn from ``seed``, the same in every event."""

    #: Fraction of dead wires per plane (U, V, Y): about 10% of all channels.
    fraction: tuple[float, float, float] = (0.14, 0.11, 0.06)
    seed: int = 92001
    #: Mean length of a contiguous dead group [wires].
    mean_group_wires: float = 24.0
    #: Fraction of the dead wires that are isolated single channels.
    isolated_fraction: float = 0.2

    def __post_init__(self):
        require_finite(self)
        require(self, "fraction", low=0, high=1, high_open=True)
        require(self, "isolated_fraction", low=0, high=1)
        require(self, "seed", low=0, high=SEED_LIMIT, high_open=True, integer=True)
        require(self, "mean_group_wires", low=1, high=MAX_IMAGE_SIDE)


@dataclass
class CropConfig:
    """The cropping algorithm's 3D box, given by its size in collection-plane pixels."""

    rows: int = 512
    cols: int = 512
    #: Height of the box in y [cm]; 0 means the full active height.
    height_cm: float = 0.0
    #: Constraint points must lie at least this many pixels inside the window.
    margin: int = 0

    def __post_init__(self):
        require_finite(self)
        require(self, "rows", "cols", low=1, high=MAX_IMAGE_SIDE, integer=True)
        require(self, "height_cm", low=0)
        require(self, "margin", low=0, high=MAX_IMAGE_SIDE, integer=True)


@dataclass
class DetectorConfig:
    """The whole detector simulation: geometry, readout, charge, response, dead wires, crop."""

    geometry: GeometryConfig = field(default_factory=GeometryConfig)
    readout: ReadoutConfig = field(default_factory=ReadoutConfig)
    charge: ChargeConfig = field(default_factory=ChargeConfig)
    response: ResponseConfig = field(default_factory=ResponseConfig)
    dead_wires: DeadWireConfig = field(default_factory=DeadWireConfig)
    crop: CropConfig = field(default_factory=CropConfig)
