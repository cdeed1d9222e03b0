"""larseg.model.metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from larseg.model.metrics import MetricAccumulator, image_metrics, sample_metrics, summarize


def test_one_image_by_hand():
    # labels: 4 track (1), 3 shower (2), the rest background
    label = np.array([[0, 1, 1, 0],
                      [0, 1, 1, 0],
                      [2, 2, 0, 0],
                      [2, 0, 0, 0]])
    pred = np.array([[2, 2, 0, 1],     # bg->shower (not counted), track->shower, track->bg, bg->track (not counted)
                     [0, 1, 1, 0],
                     [1, 2, 0, 0],     # shower->track, shower ok
                     [0, 0, 0, 0]])    # shower->background
    m = image_metrics(pred, label)
    # wrong labelled pixels: (0,1) (0,2) (2,0) (3,0) = 4 of 7
    assert m.icpf[0] == pytest.approx(4 / 7)
    assert m.shower_error[0] == pytest.approx(1 / 3)  # only shower->track counts
    assert m.track_error[0] == pytest.approx(1 / 4)  # only track->shower counts
    assert (m.n_pixels[0], m.n_track[0], m.n_shower[0]) == (7, 4, 3)


def test_scores_are_reduced_by_argmax_and_batches_work():
    label = torch.tensor([[[1, 2], [0, 2]], [[1, 1], [0, 0]]])
    scores = torch.zeros(2, 3, 2, 2)
    scores[0, 1] = 1.0  # image 0: everything predicted track
    scores[1, 2] = 1.0  # image 1: everything predicted shower
    m = image_metrics(scores, label)
    np.testing.assert_allclose(m.icpf, [2 / 3, 1.0])
    assert m.shower_error[0] == 1.0 and math.isnan(m.shower_error[1])
    assert m.track_error[0] == 0.0 and m.track_error[1] == 1.0


def test_ignore_mask_and_label():
    label = np.array([[1, 1, 2, 3]])
    pred = np.array([[1, 2, 1, 0]])
    assert image_metrics(pred, label).icpf[0] == pytest.approx(2 / 3)  # label 3 is never labelled
    ignore = np.array([[False, True, False, False]])
    m = image_metrics(pred, label, ignore=ignore)
    assert m.icpf[0] == pytest.approx(1 / 2) and m.track_error[0] == 0.0
    m = image_metrics(pred, label, ignore_label=2)
    assert m.icpf[0] == pytest.approx(1 / 2) and math.isnan(m.shower_error[0])


def test_sample_summary_by_hand():
    # five images with ICPF 0, 0.1, 0.2, 0.3, 1.0 (10 labelled pixels each), a sixth with no labelled pixels
    labels, preds = [], []
    for k, wrong in enumerate([0, 1, 2, 3, 10]):
        lab = np.zeros((1, 12), np.int64)
        lab[0, :10] = 1 if k % 2 == 0 else 2
        pred = lab.copy()
        pred[0, :wrong] = 0  # predicted background
        labels.append(lab)
        preds.append(pred)
    labels.append(np.zeros((1, 12), np.int64))
    preds.append(np.ones((1, 12), np.int64))
    acc = MetricAccumulator()
    for p, lab in zip(preds, labels):
        acc.update(p[None], lab[None])
    s = acc.summary()
    assert s.n_images == 6 and s.n_images_labelled == 5
    assert s.icpf_mean == pytest.approx((0 + 0.1 + 0.2 + 0.3 + 1.0) / 5)
    # numpy linear quantile of [0, .1, .2, .3, 1]: position 0.9 * 4 = 3.6 -> 0.3 + 0.6 * 0.7
    assert s.icpf_q90 == pytest.approx(0.3 + 0.6 * 0.7)
    # background predictions are not shower/track errors
    assert s.shower_error == 0.0 and s.track_error == 0.0
    same = sample_metrics(np.concatenate(preds)[:, None], np.concatenate(labels)[:, None])
    assert same == s
    # per-class rates average only over images having that class
    m = image_metrics(np.array([[[2, 2]], [[1, 1]]]), np.array([[[1, 1]], [[1, 2]]]))
    s = summarize(m)
    assert s.track_error == pytest.approx((1.0 + 0.0) / 2) and s.shower_error == pytest.approx(1.0)


def test_two_labellers_agree_perfectly():
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 3, (4, 16, 16))
    s = sample_metrics(lab, lab)
    assert s.icpf_mean == 0.0 and s.icpf_q90 == 0.0 and s.shower_error == 0.0 and s.track_error == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        image_metrics(lab[:, :8], lab)


def test_scores_and_class_maps_agree_on_random_data():
    rng = np.random.default_rng(1)
    label = torch.as_tensor(rng.integers(0, 3, (3, 9, 7)))
    scores = torch.as_tensor(rng.normal(size=(3, 3, 9, 7)))
    a = image_metrics(scores, label)
    b = image_metrics(scores.argmax(dim=1), label)
    for k in ("icpf", "shower_error", "track_error"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    # brute force over pixels
    pred = scores.argmax(dim=1).numpy()
    lab = label.numpy()
    for i in range(3):
        sel = (lab[i] == 1) | (lab[i] == 2)
        assert a.icpf[i] == pytest.approx((pred[i][sel] != lab[i][sel]).mean())
        assert a.track_error[i] == pytest.approx((pred[i][lab[i] == 1] == 2).mean())
        assert a.shower_error[i] == pytest.approx((pred[i][lab[i] == 2] == 1).mean())
    # a labeller's value outside 0..2 counts as wrong, and as neither track nor shower
    m = image_metrics(np.array([[7, 7]]), np.array([[1, 2]]))
    assert m.icpf[0] == 1.0 and m.track_error[0] == 0.0 and m.shower_error[0] == 0.0
