"""The cropping algorithm (CRA): summed-area search against brute force, and crops of real events."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from detector_helpers import line, particle_table

from larseg.detector import (
    CropConfig,
    CropError,
    DetectorConfig,
    GeometryConfig,
    PlaneConfig,
    PlaneTruth,
    ReadoutConfig,
    crop_box,
    render,
    simulate_planes,
)
from larseg.detector.crop import window_counts
from larseg.physics.truth import Deposits

V = 0.1114  # cm/us
PITCH = 0.3


def small_config(rows, cols, height=0.0, margin=0):
    """A toy TPC: 30 rows (x = 0 at row ~2), 20 collection wires, 22 induction wires."""
    geometry = GeometryConfig(
        x_min_cm=0.0, x_max_cm=9.0, y_min_cm=-2.0, y_max_cm=2.0, z_min_cm=0.0, z_max_cm=5.8,
        planes=[PlaneConfig("U", 60.0, 22, PITCH, -1.8), PlaneConfig("V", -60.0, 22, PITCH, -1.8),
                PlaneConfig("Y", 0.0, 20, PITCH, 0.0)],
    )
    readout = ReadoutConfig(first_tick=3188.0, n_rows=30)
    return DetectorConfig(geometry=geometry, readout=readout,
                          crop=CropConfig(rows=rows, cols=cols, height_cm=height, margin=margin))


def random_plane(rng, plane, shape, density):
    on = rng.random(shape) < density
    r, c = np.nonzero(on)
    n = len(r)
    return PlaneTruth(plane, "UVY"[plane], shape, r.astype(np.int32), c.astype(np.int32),
                      np.full(n, 20.0, np.float32), np.ones(n, np.uint8), np.zeros(n, np.int32), (0.0, 0.0))


def pixel_coords(points, angle_deg, wire0):
    """(row, wire) continuous coordinates, written out from the readout and wire definitions."""
    tick = 3200.0 + 2.0 * points[:, 0] / V
    row = (tick - 3188.0) / 6.0 - 0.5
    s = -points[:, 1] * math.sin(math.radians(angle_deg)) + points[:, 2] * math.cos(math.radians(angle_deg))
    return row, (s - wire0) / PITCH


def brute_force_best(dense, size, feasible, target):
    """Every offset the spec allows; most pixels, then centre nearest target, then smallest offset."""
    best = None
    for off in feasible:
        count = int(dense[tuple(slice(o, o + s) for o, s in zip(off, size))].sum())
        dist = sum((o + (s - 1) / 2.0 - t) ** 2 for o, s, t in zip(off, size, target))
        key = (-count, dist, off)
        if best is None or key < best[0]:
            best = (key, off)
    return best


def test_window_counts_equal_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(30):
        shape = tuple(rng.integers(3, 25, 2))
        dense = rng.random(shape) < rng.uniform(0.02, 0.5)
        h, w = (int(rng.integers(1, s + 1)) for s in shape)
        r_lo = int(rng.integers(0, shape[0] - h + 1))
        r_hi = int(rng.integers(r_lo, shape[0] - h + 1))
        c_lo = int(rng.integers(0, shape[1] - w + 1))
        c_hi = int(rng.integers(c_lo, shape[1] - w + 1))
        rows, cols = np.nonzero(dense)
        got = window_counts(rows, cols, (h, w), (r_lo, r_hi), (c_lo, c_hi))
        want = np.array([[dense[a:a + h, b:b + w].sum() for b in range(c_lo, c_hi + 1)]
                         for a in range(r_lo, r_hi + 1)])
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(40))
def test_cra_equals_brute_force_on_small_detectors(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(3, 12)), int(rng.integers(3, 10))
    height = float(rng.choice([0.0, 1.5]))
    margin = int(rng.choice([0, 0, 1]))
    config = small_config(h, w, height, margin)
    n_rows = config.readout.n_rows
    planes = [random_plane(rng, k, (n_rows, config.geometry.planes[k].n_wires), rng.uniform(0.03, 0.3))
              for k in range(3)]
    first = rng.uniform([0.2, -1.8, 0.2], [8.8, 1.8, 5.6])
    points = first + rng.uniform(-0.6, 0.6, size=(int(rng.integers(1, 4)), 3))
    points = np.clip(points, [0.0, -2.0, 0.0], [9.0, 2.0, 5.8])

    # Collection plane: all windows inside the image holding every constraint pixel (with the margin).
    row_c, col_c = pixel_coords(points, 0.0, 0.0)
    rp, cp = np.floor(row_c + 0.5).astype(int), np.floor(col_c + 0.5).astype(int)
    dense_y = np.zeros((n_rows, 20), dtype=int)
    dense_y[planes[2].row, planes[2].col] = 1
    feasible = [(r, c) for r in range(n_rows - h + 1) for c in range(20 - w + 1)
                if r + margin <= rp.min() and rp.max() + margin < r + h and c + margin <= cp.min()
                and cp.max() + margin < c + w]
    if not feasible:
        with pytest.raises(CropError):
            crop_box(planes, points, config)
        return
    box = crop_box(planes, points, config)
    (neg_count, _, _), (r0, c0) = brute_force_best(dense_y, (h, w), feasible, (row_c.mean(), col_c.mean()))
    assert box.windows[2] == (r0, c0, h, w)
    assert box.n_nonzero == -neg_count

    # The 3D box: x from the rows, z from the collection window, y full height or `height` around the points.
    assert box.z_cm == pytest.approx(((c0 - 0.5) * PITCH, (c0 + w - 0.5) * PITCH))
    assert box.x_cm == pytest.approx((((r0 * 6 + 3188.0) - 3200.0) / 2.0 * V,
                                      ((r0 + h) * 6 + 3188.0 - 3200.0) / 2.0 * V))
    if height == 0.0:
        assert box.y_cm == (-2.0, 2.0)
    else:
        assert box.y_cm[1] - box.y_cm[0] == pytest.approx(height)
        assert box.y_cm[0] <= points[:, 1].min() and points[:, 1].max() <= box.y_cm[1]

    # Induction planes: same rows; columns inside the box's projection (or covering it when it is
    # narrower than a window), holding the constraint points, most pixels in those rows.
    for k, angle in ((0, 60.0), (1, -60.0)):
        _, wc = pixel_coords(points, angle, -1.8)
        wp = np.floor(wc + 0.5).astype(int)
        ys = np.array([box.y_cm[0], box.y_cm[0], box.y_cm[1], box.y_cm[1]])
        zs = np.array([box.z_cm[0], box.z_cm[1], box.z_cm[0], box.z_cm[1]])
        corners = (-ys * math.sin(math.radians(angle)) + zs * math.cos(math.radians(angle)) + 1.8) / PITCH
        lo, hi = corners.min(), corners.max()
        holds = [c for c in range(22 - w + 1) if c + margin <= wp.min() and wp.max() + margin < c + w]
        inside = [c for c in holds if c - 0.5 >= lo and c + w - 0.5 <= hi]
        covers = [c for c in holds if c - 0.5 <= lo and c + w - 0.5 >= hi]
        any_inside = any(c - 0.5 >= lo and c + w - 0.5 <= hi for c in range(-50, 50))
        allowed = (inside if any_inside else covers) or holds
        dense = np.zeros((n_rows, 22), dtype=int)
        dense[planes[k].row, planes[k].col] = 1
        if allowed:
            _, (c,) = brute_force_best(dense[r0:r0 + h].sum(axis=0), (w,), [(c,) for c in allowed],
                                       ((lo + hi) / 2.0,))
        else:
            c = int(np.clip(round(wc.mean() - (w - 1) / 2), 0, 22 - w))
        assert box.windows[k] == (r0, c, h, w), k


def test_ties_prefer_windows_centred_on_the_constraints():
    # An empty event: every window is equally good, so the crop is centred on the vertex.
    config = DetectorConfig()
    empty = simulate_planes(Deposits.empty(), particle_table([13]), [100.0, 0.0, 500.0], config,
                            np.random.default_rng(0))
    box = crop_box(empty, [[100.0, 0.0, 500.0]], config)
    r0, c0, h, w = box.windows[2]
    row = (3200 + 2 * 100.0 / V - 2400) / 6 - 0.5
    assert abs(r0 + (h - 1) / 2 - row) <= 0.5 and abs(c0 + (w - 1) / 2 - 500.0 / PITCH) <= 0.5


def test_crops_of_an_event_hold_the_vertex_and_the_most_charge(event):
    deposits, particles, vertex = event
    config = DetectorConfig()
    planes = simulate_planes(deposits, particles, vertex, config, np.random.default_rng(0))
    box = crop_box(planes, [vertex], config)
    crops = render(planes, box.windows)
    for c, p in zip(crops, planes):
        assert c.image.shape == c.label.shape == c.instance.shape == (512, 512)
        r0, c0, nr, nc = c.window
        assert 0 <= r0 and r0 + nr <= p.shape[0] and 0 <= c0 and c0 + nc <= p.shape[1]
        assert c.vertex is not None
        assert 0 <= round(c.vertex[0]) < 512 and 0 <= round(c.vertex[1]) < 512
    assert len({w[0] for w in box.windows}) == 1  # one time window for all planes
    assert box.n_nonzero == int(np.count_nonzero(crops[2].image))
    # No other admissible collection window holds more non-zero pixels (sampled).
    y = planes[2]
    vr, vc = round(planes[2].vertex[0]), round(planes[2].vertex[1])
    rng = np.random.default_rng(1)
    for r0, c0 in zip(rng.integers(max(0, vr - 511), min(vr, 1008 - 512) + 1, 300),
                      rng.integers(max(0, vc - 511), min(vc, 3456 - 512) + 1, 300)):
        inside = (y.row >= r0) & (y.row < r0 + 512) & (y.col >= c0) & (y.col < c0 + 512)
        assert inside.sum() <= box.n_nonzero
    # The box is 512 rows (about 171 cm of drift) by 512 wires (153.6 cm of z), full height.
    assert box.x_cm[1] - box.x_cm[0] == pytest.approx(512 * 6 * 0.5 * V)
    assert box.z_cm[1] - box.z_cm[0] == pytest.approx(153.6)
    assert box.x_cm[0] <= vertex[0] <= box.x_cm[1] and box.z_cm[0] <= vertex[2] <= box.z_cm[1]


def test_michel_constraints_hold_both_points():
    # A stopping muon whose decay point, 2.2 us later, must also be in the crop.
    config = DetectorConfig()
    muon = line([30.0, 100.0, 200.0], [0.5, -1.0, 0.8], 120.0, track=0)
    end = np.array([muon.x[-1], muon.y[-1], muon.z[-1]])
    michel = line(end, [-0.2, 0.3, -1.0], 15.0, dedx=2.5, track=1, t_ns=2200.0)
    particles = particle_table([13, -11], ancestors=[0, 0], parents=[-1, 0])
    planes = simulate_planes(Deposits.concatenate([muon, michel]), particles, [30.0, 100.0, 200.0], config,
                             np.random.default_rng(0))
    box = crop_box(planes, [[30.0, 100.0, 200.0, 0.0], [*end, 2200.0]], config)
    crops = render(planes, box.windows)
    for c, p in zip(crops, planes):
        r0, c0, _, _ = c.window
        on = (p.instance == 0) & (p.label == 2)
        michel_pixels = (p.row[on] - r0, p.col[on] - c0)
        assert c.vertex is not None
        assert all(((v >= 0) & (v < 512)).all() for v in michel_pixels)


def test_impossible_constraints_raise():
    config = DetectorConfig()
    planes = simulate_planes(Deposits.empty(), particle_table([13]), [100.0, 0.0, 500.0], config,
                             np.random.default_rng(0))
    with pytest.raises(CropError):
        crop_box(planes, [[100.0, 0.0, 100.0], [100.0, 0.0, 400.0]], config)  # 300 cm apart in z
    with pytest.raises(CropError):
        crop_box(planes, [[300.0, 0.0, 100.0]], config)  # beyond the cathode
    short = dataclasses.replace(config, crop=CropConfig(height_cm=50.0))
    with pytest.raises(CropError):
        crop_box(planes, [[100.0, -50.0, 100.0], [100.0, 50.0, 110.0]], short)
