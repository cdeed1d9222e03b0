"""TPC geometry: wire coordinates of 3D points and image rows of drift times.

Pixel coordinates. A continuous pixel coordinate has pixel ``k`` centred on the
integer ``k`` and covering ``[k - 0.5, k + 0.5)``; the pixel holding a
coordinate ``c`` is ``floor(c + 0.5)``. Columns are wires: the wire coordinate
of a point is its distance from wire 0 along the pitch direction in units of
the pitch, so the nearest wire is the pixel. Rows are time bins of
``ticks_per_row`` ticks: row ``k`` holds ticks ``[first_tick + k * ticks_per_row,
first_tick + (k + 1) * ticks_per_row)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from larseg.detector.config import DetectorConfig


def pixel_index(coordinate) -> np.ndarray:
    """Integer pixel holding a continuous pixel coordinate (``floor(c + 0.5)``)."""
    return np.floor(np.asarray(coordinate, dtype=np.float64) + 0.5).astype(np.int64)


@dataclass(frozen=True)
class PlaneGeometry:
    """One wire plane: pitch direction ``(cos_y, cos_z)`` in the (y, z) plane and wire spacing."""

    index: int
    name: str
    n_wires: int
    pitch_cm: float
    wire0_cm: float
    cos_y: float  # pitch direction, y component: -sin(angle)
    cos_z: float  # pitch direction, z component: cos(angle)

    def wire_coordinate(self, y, z) -> np.ndarray:
        """Continuous wire coordinate of points (y, z) [cm]; wire ``k`` is at ``k``."""
        s = np.asarray(y, dtype=np.float64) * self.cos_y + np.asarray(z, dtype=np.float64) * self.cos_z
        return (s - self.wire0_cm) / self.pitch_cm


class Geometry:
    """Geometry and timing of a :class:`DetectorConfig`, with the conversions the simulation needs."""

    def __init__(self, config: DetectorConfig | None = None):
        config = config or DetectorConfig()
        self.config = config
        g = config.geometry
        self.planes = tuple(
            PlaneGeometry(
                index=i,
                name=p.name,
                n_wires=p.n_wires,
                pitch_cm=p.pitch_cm,
                wire0_cm=p.wire0_cm,
                cos_y=-np.sin(np.radians(p.angle_deg)),
                cos_z=np.cos(np.radians(p.angle_deg)),
            )
            for i, p in enumerate(g.planes)
        )
        r = config.readout
        self.n_rows = r.n_rows
        #: Drift distance covered in one tick [cm].
        self.cm_per_tick = r.drift_velocity_cm_per_us / r.sampling_mhz
        #: Drift distance covered in one image row [cm] (about 0.334 cm).
        self.row_height_cm = self.cm_per_tick * r.ticks_per_row

    # --- volume

    def contains(self, x, y, z) -> np.ndarray:
        """True for points inside the active volume."""
        g = self.config.geometry
        x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
        return (
            (x >= g.x_min_cm) & (x <= g.x_max_cm)
            & (y >= g.y_min_cm) & (y <= g.y_max_cm)
            & (z >= g.z_min_cm) & (z <= g.z_max_cm)
        )

    # --- time

    def drift_time_us(self, x) -> np.ndarray:
        """Drift time [us] from x [cm] to the anode."""
        g, r = self.config.geometry, self.config.readout
        return (np.asarray(x, dtype=np.float64) - g.x_min_cm) / r.drift_velocity_cm_per_us

    def tick(self, x, t_ns=0.0) -> np.ndarray:
        """Continuous readout tick at which charge made at (x [cm], t [ns]) arrives at the wires."""
        r = self.config.readout
        t_us = np.asarray(t_ns, dtype=np.float64) * 1e-3
        return r.trigger_tick + r.sampling_mhz * (t_us + self.drift_time_us(x))

    def row_coordinate(self, x, t_ns=0.0) -> np.ndarray:
        """Continuous row coordinate (row ``k`` centred on ``k``) of (x [cm], t [ns])."""
        r = self.config.readout
        return (self.tick(x, t_ns) - r.first_tick) / r.ticks_per_row - 0.5

    def row(self, x, t_ns=0.0) -> np.ndarray:
        """Image row holding charge made at (x [cm], t [ns]); may lie outside ``[0, n_rows)``."""
        return pixel_index(self.row_coordinate(x, t_ns))

    def x_of_row(self, row_coordinate, t_ns=0.0) -> np.ndarray:
        """Inverse of :meth:`row_coordinate`: x [cm] of a (continuous) row for charge made at t [ns]."""
        g, r = self.config.geometry, self.config.readout
        tick = (np.asarray(row_coordinate, dtype=np.float64) + 0.5) * r.ticks_per_row + r.first_tick
        drift_us = (tick - r.trigger_tick) / r.sampling_mhz - np.asarray(t_ns, dtype=np.float64) * 1e-3
        return g.x_min_cm + drift_us * r.drift_velocity_cm_per_us

    # --- wires

    def wire_coordinate(self, plane: int, y, z) -> np.ndarray:
        """Continuous wire coordinate of (y, z) [cm] on ``plane`` (0 U, 1 V, 2 Y)."""
        return self.planes[plane].wire_coordinate(y, z)

    def wire(self, plane: int, y, z) -> np.ndarray:
        """Nearest wire of (y, z) [cm] on ``plane``; may lie outside ``[0, n_wires)``."""
        return pixel_index(self.wire_coordinate(plane, y, z))

    def yz_of_wires(self, plane_a: int, wire_a, plane_b: int, wire_b) -> tuple[np.ndarray, np.ndarray]:
        """(y, z) [cm] where (continuous) wire ``wire_a`` of ``plane_a`` crosses ``wire_b`` of ``plane_b``."""
        pa, pb = self.planes[plane_a], self.planes[plane_b]
        det = pa.cos_y * pb.cos_z - pa.cos_z * pb.cos_y
        if abs(det) < 1e-12:
            raise ValueError(f"planes {pa.name} and {pb.name} have parallel wires")
        sa = pa.wire0_cm + np.asarray(wire_a, dtype=np.float64) * pa.pitch_cm
        sb = pb.wire0_cm + np.asarray(wire_b, dtype=np.float64) * pb.pitch_cm
        return (sa * pb.cos_z - sb * pa.cos_z) / det, (pa.cos_y * sb - pb.cos_y * sa) / det

    def project(self, points) -> np.ndarray:
        """Continuous (row, wire) coordinates of 3D points ``(..., 3)`` or ``(..., 4)`` (x, y, z[, t ns]).

        Returns an array ``(n_planes, ..., 2)``.
        """
        p = np.asarray(points, dtype=np.float64)
        t = p[..., 3] if p.shape[-1] > 3 else 0.0
        row = self.row_coordinate(p[..., 0], t)
        return np.stack(
            [np.stack([row, pl.wire_coordinate(p[..., 1], p[..., 2])], axis=-1) for pl in self.planes]
        )
