"""Settings of the particle transport (loaded from YAML by ``larseg.config.base.from_dict``)."""

from __future__ import annotations

from dataclasses import dataclass

from larseg.config.base import SettingError, require, require_finite

#: The MicroBooNE TPC active volume [cm]: x (drift) 0..256.35, y -116.5..116.5, z 0..1036.8.
MICROBOONE_ACTIVE_VOLUME = (0.0, 256.35, -116.5, 116.5, 0.0, 1036.8)


@dataclass
class PhysicsConfig:
    """Transport settings. Energies are kinetic [MeV], lengths [cm].

    Step sizes: a charged particle's step is ``step_range_fraction`` of its
    residual range, but at most ``max_step`` and at least ``min_step``; so
    steps are ``max_step`` along a track and shrink geometrically in the last
    ``max_step / step_range_fraction`` cm (the Bragg peak).
    """

    max_step: float = 0.1
    min_step: float = 0.005
    step_range_fraction: float = 0.2
    #: e-/e+ below this kinetic energy stop and deposit what they have where they stand.
    electron_cut: float = 1.0
    #: photons below this energy are absorbed where they are (photoelectric effect).
    photon_cut: float = 0.1
    #: hadrons/muons made by decays and nuclear reactions below this are not tracked (local deposit).
    hadron_cut: float = 1.0
    #: delta rays above this kinetic energy are emitted as electrons; below, the loss is continuous.
    delta_threshold: float = 2.0
    #: bremsstrahlung photons above this energy are emitted; softer ones are a continuous loss.
    brems_threshold: float = 1.0
    enable_delta_rays: bool = True
    enable_bremsstrahlung: bool = True
    enable_multiple_scattering: bool = True
    enable_loss_fluctuations: bool = True
    enable_range_straggling: bool = True
    enable_hadronic: bool = True
    enable_decays: bool = True
    enable_annihilation: bool = True
    #: fraction of stopped mu- captured by the argon nucleus (the rest decay in orbit).
    mu_minus_capture_fraction: float = 0.75
    #: xmin, xmax, ymin, ymax, zmin, zmax [cm]: particles are stopped where they leave it; None: unbounded.
    bounding_box: tuple[float, float, float, float, float, float] | None = MICROBOONE_ACTIVE_VOLUME

    def __post_init__(self):
        require_finite(self)
        require(self, "max_step", "min_step", "electron_cut", "photon_cut", "delta_threshold", "brems_threshold",
                low=0, low_open=True)
        require(self, "step_range_fraction", low=0, high=1, low_open=True)
        require(self, "hadron_cut", low=0)
        if self.min_step > self.max_step:
            raise SettingError("min_step", f"must not be larger than max_step {self.max_step}, got {self.min_step}")
        require(self, "mu_minus_capture_fraction", low=0, high=1)
        if self.bounding_box is not None:
            box = tuple(float(v) for v in self.bounding_box)
            if len(box) != 6:
                raise SettingError("bounding_box", f"must be 6 numbers xmin, xmax, ymin, ymax, zmin, zmax, got {box}")
            self.bounding_box = box
            require(self, "bounding_box")
            if not (box[0] < box[1] and box[2] < box[3] and box[4] < box[5]):
                raise SettingError("bounding_box", f"must be xmin < xmax, ymin < ymax, zmin < zmax, got {box}")
