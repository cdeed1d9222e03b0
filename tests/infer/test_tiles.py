"""Whole images as overlapping tiles: placement, windows, and no seams against the whole-image result."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from infer_helpers import save_checkpoint, tiny_model, track_image

from larseg.model.tiles import edge_ramp, predict_tiled, tile_starts, window_1d


@pytest.mark.parametrize("length, tile, overlap, multiple", [
    (1024, 512, 128, 32), (3456, 512, 128, 32), (2400, 512, 128, 32), (1600, 512, 64, 32), (200, 128, 96, 4),
    (520, 512, 128, 8), (3456, 256, 0, 32),
])
def test_tile_starts_cover_with_overlap_on_the_grid(length, tile, overlap, multiple):
    starts = tile_starts(length, tile, overlap, multiple)
    assert starts[0] == 0 and starts[-1] + tile == length
    assert all(s % multiple == 0 for s in starts)
    gaps = np.diff(starts)
    assert np.all(gaps > 0)
    assert np.all(tile - gaps >= overlap)  # consecutive tiles overlap by at least `overlap`
    covered = np.zeros(length, bool)
    for s in starts:
        covered[s: s + tile] = True
    assert covered.all()


def test_single_tile_when_image_is_small():
    assert tile_starts(96, 512, 128, 32) == [0]
    assert tile_starts(512, 512, 128, 32) == [0]


def test_windows_of_neighbours_sum_to_one_and_image_edges_keep_full_weight():
    starts = [0, 96, 192]
    tile = 128
    total = np.zeros(320)
    for k in range(3):
        w = window_1d(starts, tile, k)
        total[starts[k]: starts[k] + tile] += w
    np.testing.assert_allclose(total, 1.0, atol=1e-5)
    assert window_1d(starts, tile, 0)[0] == 1.0 and window_1d(starts, tile, 2)[-1] == 1.0
    ramp = edge_ramp(32)
    assert ramp[:8].max() <= 1e-12 and np.all(np.diff(ramp) >= 0) and ramp[-1] > 0.99


def _receptive_radius(model) -> int:
    """How far (pixels) an output pixel sees, from the input gradient of one output pixel."""
    x = (torch.rand(1, 1, 128, 128) * 50).requires_grad_(True)
    model(x)[0, :, 64, 64].sum().backward()
    rows, cols = np.nonzero(x.grad[0, 0].abs().numpy() > 0)
    return int(max(64 - rows.min(), rows.max() - 64, 64 - cols.min(), cols.max() - 64))


def test_track_across_tile_borders_labelled_as_in_one_piece(tmp_path):
    """Tiles overlapping by more than 4x the receptive radius reproduce the whole-image scores exactly."""
    import larseg

    model = tiny_model()
    radius = _receptive_radius(model)
    tile, overlap = 128, 96
    assert radius < overlap // 4, radius  # the zero-weight margin hides every tile-border effect
    net = larseg.load_model(save_checkpoint(model, tmp_path / "tiny.pt"))
    image = track_image(256, 384, seed=0)  # tracks cross the whole image, hence every tile border
    charged = image >= 10
    whole = net.predict(image)
    tiled = net.predict(image, "tiles", tile=tile, overlap=overlap, skip_empty=False)
    assert tiled.shape == whole.shape == (3, 256, 384)
    labels = whole.argmax(0)[charged]
    assert 0.2 < np.mean(labels == 1) < 0.8  # the test network labels both tracks and showers
    np.testing.assert_allclose(tiled, whole, atol=1e-4)
    assert np.array_equal(tiled.argmax(0)[charged], labels)
    skipping = net.predict(image, "tiles", tile=tile, overlap=overlap)  # empty tiles skipped: same where charged
    np.testing.assert_array_equal(skipping[:, charged], tiled[:, charged])
    # charged pixels do lie near tile borders (within the receptive radius of one)
    starts = tile_starts(384, tile, overlap, net.multiple)
    near = np.zeros(384, bool)
    for s in starts[1:]:
        near[max(0, s - radius): s + radius] = True
    for s in starts[:-1]:
        near[max(0, s + tile - radius): s + tile + radius] = True
    assert charged[:, near].sum() > 50


def test_abutting_tiles_without_overlap_show_seams(tmp_path):
    """The control: tiles cut edge to edge (no overlap) disagree with the whole image at their borders."""
    import larseg

    net = larseg.load_model(save_checkpoint(tiny_model(), tmp_path / "tiny.pt"))
    image = track_image(256, 384, seed=0)
    charged = image >= 10
    whole = net.predict(image)
    seams = net.predict(image, "tiles", tile=128, overlap=0)
    assert np.abs(seams - whole).max() > 0.1
    assert np.count_nonzero(seams.argmax(0)[charged] != whole.argmax(0)[charged]) > 0


def test_tiles_of_an_image_smaller_than_a_tile_is_the_whole_image(tmp_path):
    import larseg

    net = larseg.load_model(save_checkpoint(tiny_model(), tmp_path / "tiny.pt"))
    image = track_image(50, 70, seed=2)
    np.testing.assert_allclose(net.predict(image, "tiles"), net.predict(image), atol=1e-6)


def test_empty_tiles_are_skipped():
    calls = []

    def run(x):
        calls.append(x.shape[0])
        out = np.zeros((x.shape[0], 3) + x.shape[2:], np.float32)
        out[:, 2] = 1.0
        return out

    image = np.zeros((64, 512), np.float32)
    image[10:20, 30] = 50.0  # charge in the first tile only
    scores = predict_tiled(run, image, tile=64, overlap=16, multiple=8)
    n_tiles = len(tile_starts(512, 64, 16, 8))
    assert sum(calls) == 1 < n_tiles
    assert np.all(scores[2, :, :40] == 1.0)  # the run tile's scores (where no other tile overlaps)
    np.testing.assert_array_equal(scores[0, :, 64:], 1.0)  # under skipped tiles alone: background
    assert sum(calls) == 1
    calls.clear()
    predict_tiled(run, image, tile=64, overlap=16, multiple=8, skip_empty=False)
    assert sum(calls) == n_tiles


def test_predict_tiled_blends_a_weighted_mean():
    """With a 'network' that returns a constant per tile, the blend is a convex mix of those constants."""
    calls = []

    def run(x):
        calls.append(x.shape)
        out = np.zeros((x.shape[0], 3) + x.shape[2:], np.float32)
        out[:, 1] = 1.0
        return out

    scores = predict_tiled(run, np.ones((64, 200), np.float32), tile=64, overlap=32, multiple=8, batch=2)
    np.testing.assert_allclose(scores[1], 1.0, atol=1e-6)
    assert all(s[0] <= 2 for s in calls) and sum(s[0] for s in calls) == len(tile_starts(200, 64, 32, 8))
