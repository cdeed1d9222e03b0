"""Augmentation and the distributed batch order."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from larseg.errors import LarsegError
from larseg.train.config import AugmentConfig
from larseg.train.data import GlobalBatchSampler, ParticleData, SegmentationData, augment_item, item_rng


def _item(h=32, w=40, r=20, c=30):
    image = torch.zeros(1, h, w)
    image[0, r, c] = 50.0
    label = torch.zeros(h, w, dtype=torch.int64)
    label[r, c] = 2
    inst = torch.full((h, w), -1, dtype=torch.int64)
    inst[r, c] = 3
    return {"image": image, "label": label, "instance": inst, "vertex": torch.tensor([float(r), float(c)]),
            "index": 0}


def test_active_crop_keeps_the_non_zero_pixel_and_moves_the_vertex():
    for seed in range(20):
        out = augment_item(_item(), AugmentConfig(crop=16), np.random.default_rng(seed))
        assert out["image"].shape == (1, 16, 16) and out["label"].shape == (16, 16)
        r, c = (int(v) for v in torch.nonzero(out["image"][0])[0])
        assert out["label"][r, c] == 2 and out["instance"][r, c] == 3
        assert tuple(out["vertex"].tolist()) == (r, c)  # the vertex sat on that pixel


def test_flips_move_vertex_with_pixels():
    cfg = AugmentConfig(flip_rows=True, flip_cols=True)
    seen = set()
    for seed in range(16):
        out = augment_item(_item(), cfg, np.random.default_rng(seed))
        r, c = (int(v) for v in torch.nonzero(out["image"][0])[0])
        assert tuple(out["vertex"].tolist()) == (r, c)
        seen.add((r, c))
    assert seen == {(20, 30), (11, 30), (20, 9), (11, 9)}


def test_crop_pads_small_images_and_drops_a_vertex_outside():
    item = _item(8, 8, 2, 2)
    out = augment_item(item, AugmentConfig(crop=16), np.random.default_rng(0))
    assert out["image"].shape == (1, 16, 16) and int(out["instance"][15, 15]) == -1
    item = _item()
    item["vertex"] = torch.tensor([0.0, 0.0])
    out = augment_item(item, AugmentConfig(crop=8), np.random.default_rng(1))
    assert math.isnan(float(out["vertex"][0]))
    padded = augment_item(_item(30, 45, 3, 4), AugmentConfig(), np.random.default_rng(0), multiple=16)
    assert padded["image"].shape == (1, 32, 48)


def test_augmentation_is_a_function_of_seed_epoch_index(sample_files):
    ds = SegmentationData([sample_files["train"]], augment=AugmentConfig(crop=16, flip_rows=True), seed=5)
    a, b = ds[(3, 1)], ds[(3, 1)]
    assert torch.equal(a["image"], b["image"])
    differs = any(not torch.equal(ds[(3, e)]["image"], a["image"]) for e in range(2, 8))
    assert differs
    assert item_rng(1, 2, 3).random() == item_rng(1, 2, 3).random()


def test_global_batches_do_not_depend_on_world_size():
    one = list(GlobalBatchSampler(22, 4, seed=3, epoch=2))
    assert len(one) == 5 and all(len(b) == 4 for b in one)
    r0 = list(GlobalBatchSampler(22, 4, world_size=2, rank=0, seed=3, epoch=2))
    r1 = list(GlobalBatchSampler(22, 4, world_size=2, rank=1, seed=3, epoch=2))
    for k in range(5):
        assert sorted(one[k]) == sorted(r0[k] + r1[k])
    micro = list(GlobalBatchSampler(22, 4, micro_batch=3, seed=3, epoch=2))
    assert [len(b) for b in micro[:2]] == [3, 1] and micro[0] + micro[1] == one[0]
    resumed = list(GlobalBatchSampler(22, 4, seed=3, epoch=2, start_batch=3))
    assert resumed == one[3:]
    assert list(GlobalBatchSampler(22, 4, seed=3, epoch=3)) != one
    sub = GlobalBatchSampler(5, 2, images_per_epoch=12, seed=0)
    assert sub.batches_per_epoch == 6 and len(list(sub)) == 6
    with pytest.raises(LarsegError, match="not divisible"):
        GlobalBatchSampler(10, 5, world_size=2)


def test_particle_targets(sample_files):
    ds = ParticleData([sample_files["single"]])
    assert [int(ds[(k, 0)]["target"]) for k in range(5)] == [0, 1, 2, 3, 4]
    bad = ParticleData([sample_files["train"]])  # two primaries per entry
    assert "2 primary particles" in bad[(0, 0)]["error"]
