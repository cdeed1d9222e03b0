"""The Python API: larseg.load_model(path).predict(image) for use inside other programs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from infer_helpers import track_image

import larseg
from larseg.errors import DataFileError, LarsegError
from larseg.model import Predictor


def test_load_model_predict_gives_numpy_scores(tiny_ckpt):
    net = larseg.load_model(tiny_ckpt)
    assert isinstance(net, Predictor) and net.backend == "torch" and net.multiple == 4
    image = track_image(90, 130)
    scores = net.predict(image)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float32 and scores.shape == (3, 90, 130)
    np.testing.assert_allclose(scores.sum(0), 1.0, atol=1e-5)
    labels = net.predict_labels(image)
    assert labels.shape == (90, 130) and labels.dtype == np.uint8
    assert np.array_equal(labels, scores.argmax(0))


def test_one_implementation_numpy_and_torch_paths_agree(tiny_ckpt):
    """predict (numpy, whole images) and probabilities (torch batches) run the same contract and network."""
    net = larseg.load_model(tiny_ckpt)
    image = track_image(70, 110, seed=3)
    ref = net.probabilities(torch.from_numpy(image)[None, None])[0].numpy()
    np.testing.assert_array_equal(net.predict(image), ref)


def test_threshold_pixels_below_10_do_not_matter(tiny_ckpt):
    net = larseg.load_model(tiny_ckpt)
    image = track_image(64, 96, seed=1)
    noisy = image + np.random.default_rng(0).uniform(-5, 9.9, size=image.shape).astype(np.float32) * (image == 0)
    np.testing.assert_array_equal(net.predict(noisy), net.predict(image))
    raw = larseg.load_model(tiny_ckpt, threshold=0)
    assert np.abs(raw.predict(noisy) - net.predict(image)).max() > 1e-3


def test_batch_variants_agree_with_single_images(tiny_ckpt):
    net = larseg.load_model(tiny_ckpt)
    stack = np.stack([track_image(64, 80, seed=s) for s in range(3)])
    out = net.predict(stack, batch=2)
    assert out.shape == (3, 3, 64, 80)
    for k in range(3):
        np.testing.assert_allclose(out[k], net.predict(stack[k]), atol=1e-5)
    # planes of different sizes, as the planes of a MicroBooNE event
    planes = [track_image(48, 64, 5), track_image(48, 96, 6), track_image(48, 64, 7)]
    outs = net.predict_batch(planes, batch=2)
    assert [o.shape for o in outs] == [(3, 48, 64), (3, 48, 96), (3, 48, 64)]
    for plane, o in zip(planes, outs):
        np.testing.assert_allclose(o, net.predict(plane), atol=1e-5)
    # torch tensors are accepted too
    np.testing.assert_allclose(net.predict(torch.from_numpy(planes[0])), outs[0], atol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (37, 53), (33, 200)])
def test_images_smaller_or_not_multiples_are_padded(tiny_ckpt, shape):
    net = larseg.load_model(tiny_ckpt)
    image = np.full(shape, 50.0, dtype=np.float32)
    scores = net.predict(image)
    assert scores.shape == (3, *shape)
    np.testing.assert_allclose(scores.sum(0), 1.0, atol=1e-5)


@pytest.mark.parametrize("image, problem", [
    (np.full((8, 8), np.nan, np.float32), "64 NaN/inf pixels"),
    (np.array([[1.0, np.inf], [0.0, 0.0]], np.float32), "1 NaN/inf pixels"),
    (np.zeros((0, 16), np.float32), "empty image"),
    (np.zeros((2, 3, 8, 8), np.float32), "expected (H, W) or (N, H, W)"),
    (np.array([["a"]]), "numeric image"),
])
def test_bad_images_are_one_line_errors(tiny_ckpt, image, problem):
    net = larseg.load_model(tiny_ckpt)
    with pytest.raises(LarsegError) as err:
        net.predict(image)
    assert problem in str(err.value) and "\n" not in str(err.value)


def test_bad_model_paths_and_options(tmp_path, tiny_ckpt):
    with pytest.raises(DataFileError, match="no such model"):
        larseg.load_model(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DataFileError, match="not a readable checkpoint"):
        larseg.load_model(junk)
    with pytest.raises(LarsegError, match="--backend"):
        larseg.load_model(tiny_ckpt, backend="tensorflow")
    with pytest.raises(LarsegError, match="--device"):
        larseg.load_model(tiny_ckpt, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(LarsegError, match="no CUDA device is available"):
            larseg.load_model(tiny_ckpt, device="cuda")
    net = larseg.load_model(tiny_ckpt)
    with pytest.raises(LarsegError, match="--mode"):
        net.predict(np.zeros((8, 8)), mode="patches")
    with pytest.raises(LarsegError, match="--overlap"):
        net.predict(np.zeros((8, 8)), mode="tiles", tile=64, overlap=64)


def test_run_directory_loads_its_best_checkpoint(tmp_path, tiny_ckpt):
    run = tmp_path / "run"
    run.mkdir()
    (run / "best.pt").write_bytes(tiny_ckpt.read_bytes())
    image = track_image(40, 40)
    np.testing.assert_array_equal(larseg.load_model(run).predict(image), larseg.load_model(tiny_ckpt).predict(image))


def test_images_beyond_the_size_limit_are_refused(tiny_ckpt):
    net = larseg.load_model(tiny_ckpt)
    with pytest.raises(LarsegError, match="beyond the largest image"):
        net.predict(np.zeros((1, 40000), np.float32))
