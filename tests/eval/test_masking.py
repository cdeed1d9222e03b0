"""Masking geometry (rectangles, polygons, instances), the Michel preset's regions, and the mask study."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eval_helpers import ValueModel

from larseg.errors import LarsegError
from larseg.eval.masking import (
    instance_mask,
    mask_study,
    masked,
    michel_regions,
    parse_ids,
    parse_polygon,
    parse_rect,
    polygon_mask,
    rect_mask,
    selection_mask,
)


def _brute(shape, inside):
    rr, cc = np.mgrid[0:shape[0], 0:shape[1]]
    return inside(rr, cc)


def test_rectangle_is_half_open_and_clipped():
    m = rect_mask((6, 6), 1, 2, 3, 5)
    assert m.sum() == 6
    assert set(zip(*np.nonzero(m))) == {(r, c) for r in (1, 2) for c in (2, 3, 4)}
    clipped = rect_mask((4, 4), -2, 3, 10, 9)
    assert clipped.sum() == 4 and clipped[:, 3].all()
    assert not rect_mask((4, 4), 5, 5, 8, 8).any()
    with pytest.raises(LarsegError):
        rect_mask((4, 4), 2, 0, 2, 3)


def test_polygons_include_their_boundary():
    square = polygon_mask((8, 8), [(0, 0), (0, 4), (4, 4), (4, 0)])
    np.testing.assert_array_equal(square, _brute((8, 8), lambda r, c: (r <= 4) & (c <= 4)))
    triangle = polygon_mask((10, 10), [(0, 0), (0, 6), (6, 0)])
    assert triangle.sum() == 28  # r + c <= 6 with r, c >= 0: 7 + 6 + ... + 1
    np.testing.assert_array_equal(triangle, _brute((10, 10), lambda r, c: r + c <= 6))
    # concave L shape
    ell = polygon_mask((9, 9), [(0, 0), (0, 6), (2, 6), (2, 2), (6, 2), (6, 0)])
    expect = _brute((9, 9), lambda r, c: ((r <= 2) & (c <= 6)) | ((r <= 6) & (c <= 2)))
    np.testing.assert_array_equal(ell, expect)
    assert ell.sum() == 21 + 12
    # fractional vertices: a diamond of radius 2.5 holds the pixels with |dr| + |dc| <= 2
    diamond = polygon_mask((11, 11), [(2.5, 5), (5, 7.5), (7.5, 5), (5, 2.5)])
    np.testing.assert_array_equal(diamond, _brute((11, 11), lambda r, c: abs(r - 5) + abs(c - 5) <= 2))
    assert diamond.sum() == 13
    # partly outside the image: clipped
    assert polygon_mask((4, 4), [(-3, -3), (-3, 10), (10, 10), (10, -3)]).all()
    with pytest.raises(LarsegError):
        polygon_mask((4, 4), [(0, 0), (1, 1)])


def test_instances_parsing_and_union():
    inst = np.array([[-1, 0, 1], [2, 1, -1]])
    np.testing.assert_array_equal(instance_mask(inst, [1, 2]), [[False, False, True], [True, True, False]])
    assert parse_rect("1,2,3,4") == (1, 2, 3, 4)
    np.testing.assert_array_equal(parse_polygon("0,0; 0,4;4,4"), [[0, 0], [0, 4], [4, 4]])
    assert parse_ids("3, 5") == [3, 5]
    for bad in (lambda: parse_rect("1,2,3"), lambda: parse_rect("a,b,c,d"), lambda: parse_polygon("0,0;1,1"),
                lambda: parse_ids("x")):
        with pytest.raises(LarsegError):
            bad()
    m = selection_mask((5, 5), rects=[(0, 0, 1, 1)], polygons=[[(4, 4), (4, 3), (3, 4)]], instances=[7],
                       instance_image=np.where(np.eye(5, dtype=bool), 7, -1))
    assert set(zip(*np.nonzero(m))) == {(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (4, 3), (3, 4)}
    image = np.arange(25, dtype=np.float32).reshape(5, 5)
    kept = masked(image, m)
    assert kept[4, 3] == image[4, 3] and kept[0, 1] == 0 and (kept > 0).sum() == 6  # pixel (0, 0) is 0 anyway


def _michel_image():
    """A muon along row 50 (columns 10..109) stopping at (50, 109); a Michel electron from there to the
    right and down; an unconnected delta-ray blob far away."""
    image = np.zeros((128, 160), np.float32)
    label = np.zeros(image.shape, np.uint8)
    image[50, 10:110] = 60.0
    label[50, 10:110] = 1
    for k in range(12):  # the Michel: a diagonal line starting next to the muon's end
        image[50 + k // 2, 110 + k] = 40.0
        label[50 + k // 2, 110 + k] = 2
    image[10:13, 30:33] = 30.0  # delta-ray blob
    label[10:13, 30:33] = 2
    return image, label


def test_michel_regions_from_a_known_geometry():
    image, label = _michel_image()
    cases, facts = michel_regions(image, label, (50.2, 109.3), lengths=(5, 10, 40), start_px=4.0, bragg_px=6.0)
    by_name = {name: m for _, name, m in cases}
    assert facts["muon_end_pixel"] == [50, 109]
    # Bragg end: track pixels closer than L to (50, 109)
    assert set(np.nonzero(by_name["Bragg end, 5 px"])[1]) == set(range(105, 110))
    # MIP pieces start d0 = max(30, (99 - 40) / 2) = 30 pixels before the end
    assert facts["mip_start_px"] == 30.0
    assert set(np.nonzero(by_name["MIP muon, 10 px"])[1]) == set(range(70, 80))
    assert by_name["MIP muon, 40 px"].sum() == 40
    michel = by_name["(a) whole Michel electron"]
    assert michel.sum() == 12 and not michel[10:13, 30:33].any()  # the delta ray is not the Michel
    first = by_name["(c) first 4 px of the Michel"]
    rr, cc = np.nonzero(first)
    assert first.sum() >= 2 and np.all(np.hypot(rr - 50, cc - 109) < 4)
    assert (by_name["(b) Michel without first 4 px"] | first).sum() == 12
    both = by_name["Bragg end 6 px + first 4 px of the Michel"]
    assert both.sum() == 6 + first.sum()
    with pytest.raises(LarsegError, match="no track pixel"):
        michel_regions(image, label, (120.0, 150.0))


def test_mask_study_rectangle_and_michel_preset(sample_michel, tmp_path):
    model = ValueModel(50.0)
    res = mask_study(model, sample_michel, tmp_path / "rect", 0, rects=[(100, 100, 400, 400)])
    kept = [c for c in res["cases"] if c["name"] == "kept pixels"][0]
    from larseg.data.dataset import PlaneDataset

    image = PlaneDataset([sample_michel])[0]["image"][0].numpy()
    window = image[100:400, 100:400]
    assert kept["n_pixels"] == int((window > 0).sum())
    # the value network: the fraction called shower is the fraction of kept pixels above the cut
    assert kept["fraction_shower"] == pytest.approx(float((window[window > 0] > 50).mean()))
    assert (tmp_path / "rect" / "mask_entry0.png").is_file()
    with pytest.raises(LarsegError, match="no non-zero"):
        mask_study(model, sample_michel, tmp_path / "empty", 0, rects=[(0, 0, 1, 1)])

    res = mask_study(model, sample_michel, tmp_path / "michel", None, preset="michel", lengths=(5, 20))
    names = [c["name"] for c in res["cases"]]
    assert "MIP muon, 20 px" in names and "Bragg end, 5 px" in names and "(a) whole Michel electron" in names
    for fig in ("fig12_mip.png", "fig13_bragg.png", "fig14_michel.png", "fig15_bragg_michel.png"):
        assert (tmp_path / "michel" / fig).is_file(), fig
    saved = json.loads((tmp_path / "michel" / "mask.json").read_text())
    assert saved["entry"] == res["entry"] and saved["geometry"]["snap_distance_px"] < 3
