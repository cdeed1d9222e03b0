"""Contract tests of the network boundary: the registry builds every preset, every preset runs through a
Predictor on every installed backend, the input contract is applied and recorded, one device resolver."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from larseg.config import list_presets, load_preset
from larseg.conventions import CLASSES, PARTICLE_CLASSES
from larseg.errors import LarsegError
from larseg.model import InputContract, ModelConfig, Predictor, architectures, build_classifier, build_model
from larseg.model.device import resolve_device
from larseg.model.io import FORMAT, save_atomic
from larseg.model.predictor import checkpoint_contract, load_model
from larseg.model.registry import Architecture, register

PRESETS = list_presets("model")["model"]


def _sparse_backends() -> list[str]:
    try:
        import spconv.pytorch  # noqa: F401
    except ImportError:
        return ["torch"]
    return ["torch", "spconv"]


def _small(name: str, **changes) -> ModelConfig:
    """A preset with its layout kept but its widths cut (so that the paper's 1024-filter net runs in a test)."""
    cfg = load_preset("model", name)
    filters = tuple(min(f, 16) for f in cfg.filters)[:4]
    small = {"filters": filters, "stem_filters": min(cfg.stem_filters, 8), "norm_groups": 2,
             "head_filters": tuple(min(h, 8) for h in cfg.head_filters)}
    return dataclasses.replace(cfg, **{**small, **changes})


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), dtype=np.float32)
    rows = rng.integers(0, h, 60)
    cols = rng.integers(0, w, 60)
    img[rows, cols] = rng.uniform(5, 120, 60)  # some below the threshold of 10
    return img


def test_registry_lists_the_u_resnet_with_both_backends():
    archs = architectures()
    assert "uresnet" in archs
    assert set(archs["uresnet"].backends) == {"dense", "sparse"}
    with pytest.raises(ValueError, match="already registered"):
        register(archs["uresnet"])
    with pytest.raises(LarsegError, match="unknown architecture 'nope'"):
        build_model(ModelConfig(name="x", architecture="nope"))


def test_a_new_architecture_is_one_registration():
    class Tiny(torch.nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.config = cfg
            self.conv = torch.nn.Conv2d(1, cfg.num_classes, 1)

        def forward(self, x):
            return self.conv(x)

    name = "test-one-by-one"
    if name not in architectures():
        register(Architecture(name, "a 1x1 convolution", {"dense": Tiny}, {}))
    cfg = ModelConfig(name="t", architecture=name, filters=(4,))
    net = build_model(cfg)
    scores = Predictor.from_module(net).predict(_image(20, 30))
    assert scores.shape == (3, 20, 30)
    with pytest.raises(LarsegError, match="no dense classifier"):
        build_classifier(cfg)
    with pytest.raises(LarsegError, match="no sparse backend"):
        build_model(dataclasses.replace(cfg, sparse=True))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_builds_and_runs_through_a_predictor(preset):
    base = _small(preset)
    backends = _sparse_backends() if base.sparse else ["dense"]
    outputs = []
    for backend in backends:
        cfg = dataclasses.replace(base, sparse_backend=backend) if base.sparse else base
        torch.manual_seed(0)
        net = build_model(cfg)
        clf = build_classifier(cfg)
        assert clf(torch.zeros(2, 1, 32, 32) + 20).shape == (2, len(PARTICLE_CLASSES))
        predictor = Predictor.from_module(net)
        assert predictor.contract.multiple == cfg.multiple
        image = _image(37, 53)  # sides that are not multiples of the network's
        scores = predictor.predict(image)
        assert scores.shape == (len(CLASSES), 37, 53) and scores.dtype == np.float32
        np.testing.assert_allclose(scores.sum(0), 1.0, atol=1e-5)
        # the contract's threshold: pixels below 10 do not matter
        quiet = image.copy()
        quiet[quiet < 10] = 0
        np.testing.assert_array_equal(predictor.predict(quiet), scores)
        # the torch-batch path gives the same scores
        probs = predictor.probabilities(torch.from_numpy(image)[None, None])
        np.testing.assert_allclose(probs[0].numpy(), scores, atol=1e-6)
        outputs.append(scores)
    for other in outputs[1:]:  # the sparse backends run the same weights
        np.testing.assert_allclose(other, outputs[0], atol=1e-4)


def test_contract_is_recorded_in_checkpoints_and_read_back(tmp_path):
    cfg = _small("sparse-cpu")
    net = build_model(cfg)
    from larseg.config import to_yaml

    ckpt = {"format": FORMAT, "task": "segment", "model": net.state_dict(), "model_config": to_yaml(cfg),
            "input_contract": InputContract(plane=1, threshold=7.5, multiple=cfg.multiple).as_dict()}
    save_atomic(ckpt, tmp_path / "a.pt")
    loaded = load_model(tmp_path / "a.pt")
    assert (loaded.plane, loaded.threshold, loaded.multiple) == (1, 7.5, cfg.multiple)
    assert load_model(tmp_path / "a.pt", threshold=3.0, plane=2).contract.threshold == 3.0
    # a checkpoint from before the contract was recorded: from its training config
    old = {k: v for k, v in ckpt.items() if k != "input_contract"}
    old["training_config"] = "plane: 0\nthreshold: 12.0\n"
    assert checkpoint_contract(old, cfg) == InputContract(plane=0, threshold=12.0, multiple=cfg.multiple)
    assert checkpoint_contract({}, cfg) == InputContract(multiple=cfg.multiple)


def test_contract_thresholds_then_scales_and_pads():
    c = InputContract(threshold=10.0, scale=0.5, multiple=8)
    x = c.prepare(np.array([[5.0, 10.0, 40.0]]))
    np.testing.assert_array_equal(x, [[0.0, 5.0, 20.0]])
    padded, (h, w) = c.pad(x)
    assert padded.shape == (8, 8) and (h, w) == (1, 3)
    tpadded, _ = c.pad(torch.from_numpy(x)[None, None])
    assert tpadded.shape == (1, 1, 8, 8)
    for bad in ({"plane": 3}, {"threshold": -1.0}, {"scale": 0.0}, {"multiple": 0}, {"threshold": float("nan")}):
        with pytest.raises(LarsegError, match="input contract"):
            InputContract(**bad)
    with pytest.raises(LarsegError, match="NaN/inf"):
        c.prepare(np.array([[np.nan, 1.0]]))


def test_one_device_resolver():
    assert resolve_device(None) == torch.device("cpu")
    assert resolve_device("CPU") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(LarsegError, match="expected cpu, cuda, cuda:N or auto"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        for name in ("cuda", "cuda:0"):
            with pytest.raises(LarsegError, match="no CUDA device"):
                resolve_device(name)
