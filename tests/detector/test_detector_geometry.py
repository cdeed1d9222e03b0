"""Geometry facts of the MicroBooNE TPC: wire numbers of known points, drift time to image row."""

from __future__ import annotations

import numpy as np
import pytest

from larseg.detector import DetectorConfig, Geometry

GEO = Geometry(DetectorConfig())
U, V, Y = 0, 1, 2


def test_collection_wire_of_known_points():
    # Y wires are vertical, 3 mm apart, wire 0 at z = 0.
    assert GEO.wire(Y, 0.0, 30.0) == 100
    assert GEO.wire(Y, 0.0, 0.0) == 0
    assert GEO.wire(Y, 0.0, 1036.5) == 3455
    # y does not matter for vertical wires; the pixel boundary is half a pitch from a wire.
    assert GEO.wire(Y, 100.0, 30.0) == GEO.wire(Y, -100.0, 30.0) == 100
    assert GEO.wire(Y, 0.0, 30.0 + 0.149) == 100 and GEO.wire(Y, 0.0, 30.0 + 0.151) == 101


@pytest.mark.parametrize("plane, angle", [(U, 60.0), (V, -60.0), (Y, 0.0)])
def test_wire_direction_and_pitch(plane, angle):
    p = GEO.planes[plane]
    # Wires are at `angle` from vertical (y) in the (y, z) plane.
    along = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    y0, z0 = 12.0, 480.0
    steps = np.linspace(-100.0, 100.0, 11)
    w = p.wire_coordinate(y0 + steps * along[0], z0 + steps * along[1])
    np.testing.assert_allclose(w, w[0], atol=1e-9)
    # Perpendicular to the wires, one pitch (3 mm) is one wire.
    across = np.array([-along[1], along[0]])
    w1 = p.wire_coordinate(y0 + 0.3 * across[0], z0 + 0.3 * across[1])
    assert abs(abs(w1 - w[0]) - 1.0) < 1e-9


@pytest.mark.parametrize("plane, n_wires", [(U, 2400), (V, 2400), (Y, 3456)])
def test_wires_cover_the_active_face(plane, n_wires):
    g = DetectorConfig().geometry
    corners_y = np.array([g.y_min_cm, g.y_min_cm, g.y_max_cm, g.y_max_cm])
    corners_z = np.array([g.z_min_cm, g.z_max_cm, g.z_min_cm, g.z_max_cm])
    w = GEO.wire_coordinate(plane, corners_y, corners_z)
    assert GEO.planes[plane].n_wires == n_wires
    # The wires span the active face to within one pitch at either end (MicroBooNE's face
    # projects to 720.2 cm on the induction pitch direction; 2400 wires cover 720 cm).
    assert -1.0 < w.min() < 1.0
    assert n_wires - 2.0 < w.max() <= n_wires


def test_u_and_v_are_mirror_images_in_y():
    y, z = 40.0, 300.0
    assert GEO.wire_coordinate(U, y, z) == pytest.approx(GEO.wire_coordinate(V, -y, z))


def test_wire_crossing_inverts_projection():
    rng = np.random.default_rng(3)
    y = rng.uniform(-116, 116, 50)
    z = rng.uniform(0, 1036, 50)
    for a, b in [(U, Y), (V, Y), (U, V)]:
        yy, zz = GEO.yz_of_wires(a, GEO.wire_coordinate(a, y, z), b, GEO.wire_coordinate(b, y, z))
        np.testing.assert_allclose(yy, y, atol=1e-9)
        np.testing.assert_allclose(zz, z, atol=1e-9)


def test_drift_time_to_row():
    v = 0.1114  # cm/us at 273 V/cm
    # Charge made at the anode at t = 0 arrives at the trigger tick 3200; the image starts at tick 2400.
    assert GEO.tick(0.0) == pytest.approx(3200.0)
    assert GEO.row(0.0) == (3200 - 2400) // 6
    # Cathode: 256.35 cm / 0.1114 cm/us = 2301 us = 4602 ticks at 2 MHz.
    assert GEO.tick(256.35) == pytest.approx(3200.0 + 2.0 * 256.35 / v)
    assert GEO.row(256.35) == int((3200 + 2.0 * 256.35 / v - 2400) // 6)
    # The whole drift fits in the 1008-row window (ticks 2400 - 8448).
    assert 0 < GEO.row(0.0) < GEO.row(256.35) < 1008
    # A row is 6 ticks = 3 us = 0.334 cm of drift; charge made 3 us later lands one row later.
    assert GEO.row_height_cm == pytest.approx(6 * 0.5 * v)
    assert GEO.row_coordinate(100.0, 3000.0) == pytest.approx(GEO.row_coordinate(100.0) + 1.0)
    assert GEO.row_coordinate(100.0 + GEO.row_height_cm) == pytest.approx(GEO.row_coordinate(100.0) + 1.0)


def test_x_of_row_inverts_row_coordinate():
    x = np.linspace(0, 256.35, 17)
    np.testing.assert_allclose(GEO.x_of_row(GEO.row_coordinate(x, 500.0), 500.0), x, atol=1e-9)


def test_project_gives_row_and_wire_per_plane():
    p = GEO.project([[50.0, 0.0, 30.0]])
    assert p.shape == (3, 1, 2)
    assert p[Y, 0, 1] == pytest.approx(100.0)
    np.testing.assert_allclose(p[:, 0, 0], GEO.row_coordinate(50.0))
