"""The simulation config: one per sample, shipped as presets (``larseg config list simulation``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from larseg.config.base import SettingError
from larseg.detector.config import DetectorConfig
from larseg.physics.config import PhysicsConfig
from larseg.physics.generators import GeneratorConfig


@dataclass
class SimulationConfig:
    name: str = "custom"
    description: str = ""
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    #: Wire planes written: 0 = U, 1 = V, 2 = Y (collection).
    planes: tuple[int, ...] = (0, 1, 2)
    #: True: 512x512 crops chosen by the paper's cropping algorithm; False: whole events.
    crop: bool = True

    def __post_init__(self):
        if not self.planes or any(p not in (0, 1, 2) for p in self.planes) or len(set(self.planes)) != len(self.planes):
            raise SettingError("planes", f"must be distinct values of 0, 1, 2, got {list(self.planes)}")
        g = self.detector.geometry
        for axis, margin in zip("xyz", self.generator.vertex_margin):
            extent = getattr(g, f"{axis}_max_cm") - getattr(g, f"{axis}_min_cm")
            if 2 * margin >= extent:
                raise SettingError("generator.vertex_margin", f"{margin!r} cm in {axis} leaves no room for vertices "
                                   f"in the {extent:g} cm of the active volume")
