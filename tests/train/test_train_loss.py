"""The PL / class weighting and the per-image normalised loss, on hand-made images."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from larseg.errors import LarsegError
from larseg.train.loss import (
    CAT_EDGE,
    CAT_FAR,
    CAT_UNASSIGNED,
    CAT_VERTEX,
    INSTANCE0,
    check_labels,
    class_weights,
    per_image_loss,
    pixel_categories,
    pixel_weights,
    segmentation_loss,
    weight_maps,
)

NAN2 = torch.tensor([[math.nan, math.nan]])


def _one(image, instance, vertex=None):
    img = torch.tensor(image, dtype=torch.float32)[None, None]
    inst = torch.tensor(instance, dtype=torch.int64)[None]
    v = NAN2 if vertex is None else torch.tensor([vertex], dtype=torch.float32)
    return img, inst, v


def test_single_pixel_centre_and_corner():
    # one non-zero pixel in the middle of 11x11: 24 edge pixels (5x5 square minus itself), 96 far ones
    image = np.zeros((11, 11))
    image[5, 5] = 30.0
    inst = np.full((11, 11), -1)
    inst[5, 5] = 4
    img, ins, v = _one(image, inst)
    cat = pixel_categories(img, ins, v)[0]
    assert int((cat == CAT_EDGE).sum()) == 24
    assert int((cat == CAT_FAR).sum()) == 96
    assert int(cat[5, 5]) == INSTANCE0
    assert bool((cat[3:8, 3:8] != CAT_FAR).all()) and int(cat[2, 5]) == CAT_FAR and int(cat[5, 8]) == CAT_FAR
    w = pixel_weights(img, ins, v)[0]
    assert float(w[5, 5]) == 1.0
    assert float(w[4, 4]) == pytest.approx(1 / 24) and float(w[3, 7]) == pytest.approx(1 / 24)
    assert float(w[0, 0]) == pytest.approx(1 / 96)
    # in the corner the square is clipped: 3x3 - 1 = 8 edge pixels
    image = np.zeros((11, 11))
    image[0, 0] = 12.0
    img, ins, v = _one(image, np.where(image > 0, 0, -1))
    cat = pixel_categories(img, ins, v)[0]
    assert int((cat == CAT_EDGE).sum()) == 8
    assert float(pixel_weights(img, ins, v)[0, 10, 10]) == pytest.approx(1 / (121 - 9))


def test_all_four_categories_hand_counted():
    # 12x12 image:
    #   instance 5: (1,1) (1,2) (1,3) (1,4)   instance 9: (9,9) (10,10)   noise without instance: (6,0)
    #   vertex at (1,1), vertex_radius 1 -> rows 0..2, cols 0..2: (1,1) and (1,2) are category 3
    image = np.zeros((12, 12))
    inst = np.full((12, 12), -1)
    for rc in [(1, 1), (1, 2), (1, 3), (1, 4)]:
        image[rc], inst[rc] = 50.0, 5
    for rc in [(9, 9), (10, 10)]:
        image[rc], inst[rc] = 20.0, 9
    image[6, 0] = 15.0
    img, ins, v = _one(image, inst, vertex=(1.0, 1.0))
    cat = pixel_categories(img, ins, v, edge_radius=1, vertex_radius=1)[0]
    assert int(cat[1, 1]) == CAT_VERTEX and int(cat[1, 2]) == CAT_VERTEX
    assert int(cat[1, 3]) == int(cat[1, 4]) == INSTANCE0  # instance 5 (smallest id) minus the vertex pixels
    assert int(cat[9, 9]) == int(cat[10, 10]) == INSTANCE0 + 1
    assert int(cat[6, 0]) == CAT_UNASSIGNED
    # edge pixels (radius 1): around the row-1 track a 3x6 box (rows 0..2, cols 0..5) minus 4 pixels = 14;
    # around (9,9),(10,10): union of two 3x3 squares (9 + 9 - 4 overlap) minus 2 = 12;
    # around (6,0): rows 5..7, cols 0..1 -> 6 - 1 = 5.  Total 31.
    assert int((cat == CAT_EDGE).sum()) == 31
    assert int((cat == CAT_FAR).sum()) == 144 - 31 - 7
    w = pixel_weights(img, ins, v, edge_radius=1, vertex_radius=1)[0]
    expect = {(1, 1): 1 / 2, (1, 2): 1 / 2, (1, 3): 1 / 2, (1, 4): 1 / 2, (9, 9): 1 / 2, (10, 10): 1 / 2,
              (6, 0): 1.0, (0, 0): 1 / 31, (11, 0): 1 / 106}
    for rc, value in expect.items():
        assert float(w[rc]) == pytest.approx(value), rc
    # every non-empty category sums to 1: 2 background + vertex + 2 instances + unassigned = 6
    assert float(w.sum()) == pytest.approx(6.0)


def test_vertex_outside_image_and_default_radius():
    image = np.zeros((16, 16))
    image[8, 2:14] = 40.0
    inst = np.where(image > 0, 3, -1)
    img, ins, _ = _one(image, inst)
    cat = pixel_categories(img, ins, torch.tensor([[8.0, 2.0]]))[0]
    # vertex_radius 4 (Chebyshev): columns 0..6 of the track are vertex pixels, columns 7..13 instance pixels
    assert int((cat == CAT_VERTEX).sum()) == 5
    assert int((cat == INSTANCE0).sum()) == 7
    cat = pixel_categories(img, ins, NAN2)[0]
    assert int((cat == CAT_VERTEX).sum()) == 0 and int((cat == INSTANCE0).sum()) == 12


def _brute_force(image, instance, vertex, er, vr):
    h, w = image.shape
    nz = image > 0
    out = np.zeros((h, w))
    groups = {}
    for r in range(h):
        for c in range(w):
            if not nz[r, c]:
                near = nz[max(0, r - er):r + er + 1, max(0, c - er):c + er + 1].any()
                key = "edge" if near else "far"
            elif np.isfinite(vertex).all() and abs(r - vertex[0]) <= vr and abs(c - vertex[1]) <= vr:
                key = "vertex"
            else:
                key = ("inst", int(instance[r, c]))
            groups.setdefault(key, []).append((r, c))
    for pix in groups.values():
        for rc in pix:
            out[rc] = 1.0 / len(pix)
    return out


def test_batch_matches_brute_force_and_each_image_has_its_own_map():
    rng = np.random.default_rng(3)
    b, h, w = 3, 20, 24
    image = np.where(rng.random((b, h, w)) < 0.08, rng.uniform(10, 90, (b, h, w)), 0.0)
    inst = np.where(image > 0, rng.integers(-1, 4, (b, h, w)) * 7, -1)
    inst[inst < 0] = -1
    vertex = np.array([[5.0, 6.0], [np.nan, np.nan], [19.0, 0.0]])
    got = pixel_weights(torch.tensor(image[:, None], dtype=torch.float32), torch.tensor(inst),
                        torch.tensor(vertex, dtype=torch.float32), edge_radius=2, vertex_radius=4).numpy()
    for k in range(b):
        want = _brute_force(image[k], inst[k], vertex[k], 2, 4)
        np.testing.assert_allclose(got[k], want, rtol=1e-6)
        alone = pixel_weights(torch.tensor(image[k:k + 1, None], dtype=torch.float32), torch.tensor(inst[k:k + 1]),
                              torch.tensor(vertex[k:k + 1], dtype=torch.float32)).numpy()
        np.testing.assert_allclose(got[k], alone[0], rtol=1e-6)
    assert not np.allclose(got[0], got[1])


def test_class_weights_hand_counted():
    label = torch.zeros(2, 4, 4, dtype=torch.int64)
    label[0, 0, :3] = 1  # 3 track pixels
    label[0, 3, 3] = 2  # 1 shower pixel
    label[1, 1, 1] = 1  # image 1: 1 track, no shower
    w = class_weights(label)
    assert float(w[0, 0, 0]) == pytest.approx(1 / 3)
    assert float(w[0, 3, 3]) == 1.0
    assert float(w[0, 2, 2]) == pytest.approx(1 / 12)
    assert float(w[1, 1, 1]) == 1.0 and float(w[1, 0, 0]) == pytest.approx(1 / 15)


def test_loss_is_normalised_per_image():
    # 1 image, 2x2: pixel (0,0) is background predicted perfectly (ce ~ 0), the rest have uniform logits (ce = ln 3)
    label = torch.tensor([[[0, 1], [2, 1]]])
    logits = torch.zeros(1, 3, 2, 2)
    logits[0, 0, 0, 0] = 50.0
    weights = torch.tensor([[[4.0, 1.0], [2.0, 1.0]]])
    per = per_image_loss(logits, label, weights)
    assert float(per[0]) == pytest.approx(math.log(3) * (1 + 2 + 1) / (4 + 1 + 2 + 1), rel=1e-5)
    # scaling an image's weights changes nothing; the batch loss is the mean of per-image losses
    assert float(per_image_loss(logits, label, weights * 10)[0]) == pytest.approx(float(per[0]), rel=1e-6)
    batch_logits = torch.cat([logits, torch.zeros(1, 3, 2, 2)])
    batch_label = torch.cat([label, label])
    loss = segmentation_loss(batch_logits, batch_label, scheme="none")
    plain = per_image_loss(logits, label, torch.ones(1, 2, 2))
    assert float(loss) == pytest.approx((float(plain[0]) + math.log(3)) / 2, rel=1e-5)


def test_ignore_label_and_bad_labels():
    label = torch.tensor([[[0, 1], [-1, 2]]])
    img = torch.tensor([[[[0.0, 20.0], [30.0, 40.0]]]])
    w = weight_maps("class", img, label)
    assert float(w[0, 1, 0]) == 0.0 and float(w[0, 0, 1]) == 1.0
    with pytest.raises(LarsegError, match="label value 3 out of range"):
        check_labels(torch.tensor([[0, 3]]))
    with pytest.raises(LarsegError, match="label value -1"):
        check_labels(torch.tensor([[0, -1]]))
    check_labels(torch.tensor([[0, -1, 2]]), ignore_index=-1)
    with pytest.raises(LarsegError, match="unknown loss weighting"):
        weight_maps("focal", img, label)


def test_loss_gradient_flows():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    label = torch.randint(0, 3, (2, 8, 8))
    image = (label > 0).float()[:, None] * 20
    inst = torch.where(label > 0, label, torch.full_like(label, -1))
    vertex = torch.tensor([[3.0, 3.0], [math.nan, math.nan]])
    loss = segmentation_loss(logits, label, image, inst, vertex, scheme="pixel")
    loss.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
