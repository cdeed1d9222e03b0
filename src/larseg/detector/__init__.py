"""MicroBooNE-like wire-plane images with exact per-pixel truth (docs/detector.md).

Energy deposits (:class:`larseg.physics.truth.Deposits`) become three wire-plane
images, U, V and Y (collection), rows = time (6 ticks), columns = wires::

    planes = simulate_planes(deposits, particles, vertex, config, rng)  # sparse, whole event
    box = crop_box(planes, [vertex], config)                             # the paper's CRA
    crops = render(planes, box.windows)                                  # 512x512 dense windows
    full = render(planes)                                                # whole 1008-row images

Each :class:`PlaneWindow` holds ``image`` (float32, zero-suppressed), ``label``
(uint8: 0 background, 1 track, 2 shower), ``instance`` (int32: primary ancestor
track id, -1 background) and the vertex (row, col) in the window.
"""

from larseg.detector.config import (
    ChargeConfig,
    CropConfig,
    DeadWireConfig,
    DetectorConfig,
    GeometryConfig,
    PlaneConfig,
    ReadoutConfig,
    ResponseConfig,
)
from larseg.detector.crop import CropBox, CropError, crop_box
from larseg.detector.deadwires import dead_wire_map
from larseg.detector.geometry import Geometry, pixel_index
from larseg.detector.planes import (
    BACKGROUND,
    SHOWER,
    TRACK,
    PlaneTruth,
    PlaneWindow,
    Window,
    render,
    simulate_planes,
)
from larseg.detector.response import drift_charge, recombination_factor

__all__ = [
    "BACKGROUND",
    "SHOWER",
    "TRACK",
    "ChargeConfig",
    "CropBox",
    "CropConfig",
    "CropError",
    "DeadWireConfig",
    "DetectorConfig",
    "Geometry",
    "GeometryConfig",
    "PlaneConfig",
    "PlaneTruth",
    "PlaneWindow",
    "ReadoutConfig",
    "ResponseConfig",
    "Window",
    "crop_box",
    "dead_wire_map",
    "drift_charge",
    "pixel_index",
    "recombination_factor",
    "render",
    "simulate_planes",
]
