"""U-ResNet shapes, presets, padding, FLOP counting, checkpoints and encoder transfer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from larseg import __version__
from larseg.config import load_preset, to_yaml
from larseg.errors import DataFileError, LarsegError
from larseg.model import (
    ModelConfig,
    build_classifier,
    build_model,
    count_flops,
    count_parameters,
    load_encoder_weights,
    load_network,
    pad_to_multiple,
    save_atomic,
)
from larseg.model.backends import DENSE
from larseg.model.blocks import CrossProcessBatchNorm2d, ResBlock, convert_batchnorm
from larseg.model.io import FORMAT
from larseg.model.predictor import Predictor
from larseg.model.uresnet import EncoderClassifier, UResNet


def tiny(**kw) -> ModelConfig:
    args = {"name": "tiny", "stem_filters": 4, "filters": (4, 8, 16)}
    args.update(kw)
    return ModelConfig(**args)


def test_presets_layout():
    paper = load_preset("model", "paper")
    assert paper.filters == (32, 64, 128, 256, 512, 1024) and paper.depth == 5 and paper.multiple == 32
    # 512 / 2**5 = 16: the paper's 16x16x1024 bottom tensor
    assert 512 // paper.multiple == 16 and paper.filters[-1] == 1024
    mcc8 = load_preset("model", "mcc8")
    assert mcc8.stem_pool and mcc8.depth == 5 and mcc8.stem_kernel == 7 and mcc8.head_filters == (16,)
    cpu = load_preset("model", "cpu")
    assert cpu.depth >= 4


def test_mcc8_parameter_count():
    model = build_model("mcc8")
    n = count_parameters(model)
    assert 15.0e6 < n < 15.6e6, n  # about 15.4 M in the production network
    # layer shapes of the production net
    assert model.encoder.stem[0].kernel_size == (7, 7) and model.encoder.stem[0].out_channels == 16
    assert [len(s) for s in model.encoder.stages] == [2] * 5
    assert model.decoder[0].up[0].kernel_size == (4, 4) and model.decoder[0].up[0].groups == 256
    assert model.head[0][0].in_channels == 32 and model.head[-1].out_channels == 3


@pytest.mark.parametrize("preset", ["paper", "mcc8", "cpu"])
def test_forward_shapes(preset):
    model = build_model(preset).eval()
    x = torch.rand(1, 1, 64, 96) * 50
    with torch.no_grad():
        out = model(x)
        feats = model.encoder(x)
    assert out.shape == (1, 3, 64, 96)
    assert feats[-1].shape[-2:] == (64 // model.config.multiple, 96 // model.config.multiple)
    assert feats[-1].shape[1] == model.config.filters[-1]


def test_resblock_projection_only_when_needed():
    assert ResBlock(DENSE, 8, 8).shortcut is None
    assert ResBlock(DENSE, 8, 16).shortcut is not None
    block = ResBlock(DENSE, 8, 8, stride=2)
    assert block.shortcut is not None and block(torch.rand(1, 8, 8, 8)).shape == (1, 8, 4, 4)


def test_predict_pads_and_crops():
    torch.manual_seed(0)
    model = UResNet(tiny())  # multiple 4
    image = torch.rand(30, 45) * (torch.rand(30, 45) < 0.1) * 80
    probs = Predictor.from_module(model, threshold=0.0).probabilities(image)
    assert probs.shape == (1, 3, 30, 45)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(1, 30, 45))
    padded, (h, w) = pad_to_multiple(image[None, None], 4)
    assert padded.shape == (1, 1, 32, 48) and (h, w) == (30, 45)
    model.eval()
    with torch.no_grad():
        ref = torch.softmax(model(padded), dim=1)[..., :30, :45]
    torch.testing.assert_close(probs, ref)
    assert model.training is False
    model.train()
    Predictor.from_module(model).probabilities(image)
    assert model.training is True  # mode restored
    with pytest.raises(ValueError, match="multiples of 4"):
        model(image[None, None])


def test_count_flops_by_hand():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ConvTranspose2d(2, 4, 2, stride=2))
    # conv: 4x4 outputs * 2 channels * 1*9 MACs = 288; transposed conv: 4x4 inputs * 2 * 4 * 2*2 = 512 MACs
    assert count_flops(net, (1, 1, 4, 4)) == 2 * (288 + 512)
    grouped = nn.Conv2d(4, 4, 3, padding=1, groups=4)
    assert count_flops(grouped, (1, 4, 2, 2)) == 2 * (2 * 2 * 4 * 1 * 9)
    assert count_parameters(net) == (2 * 9 + 2) + (2 * 4 * 4 + 4)


def test_classifier_and_encoder_transfer(tmp_path):
    torch.manual_seed(1)
    clf = build_classifier(tiny())
    assert clf(torch.rand(3, 1, 16, 16)).shape == (3, 5)
    assert clf(torch.rand(1, 1, 18, 22)).shape == (1, 5)  # padded internally
    path = tmp_path / "clf.pt"
    save_atomic({"format": FORMAT, "task": "classify", "model": clf.state_dict(), "model_config": to_yaml(tiny()),
                 "provenance": {"larseg_version": __version__}}, path)
    net = UResNet(tiny())
    load_encoder_weights(net, path)
    for (k, a), (k2, b) in zip(net.encoder.state_dict().items(), clf.encoder.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    other = UResNet(tiny(filters=(4, 8, 32), name="other"))
    with pytest.raises(LarsegError, match="does not match model preset 'other'.*filters"):
        load_encoder_weights(other, path)


def test_load_model_round_trip_and_errors(tmp_path):
    torch.manual_seed(2)
    model = UResNet(tiny())
    path = tmp_path / "m.pt"
    save_atomic({"format": FORMAT, "task": "segment", "model": model.state_dict(), "model_config": to_yaml(tiny()),
                 "provenance": {"larseg_version": __version__}}, path)
    loaded = load_network(path)
    assert not loaded.training and loaded.config == tiny()
    x = torch.rand(2, 1, 16, 16) * 40
    model.eval()
    torch.testing.assert_close(loaded(x), model(x))
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write left no temporary file
    with pytest.raises(DataFileError, match="no such checkpoint"):
        load_network(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(DataFileError, match="junk.pt: not a readable checkpoint"):
        load_network(tmp_path / "junk.pt")
    newer = tmp_path / "newer.pt"
    save_atomic({"format": FORMAT, "task": "segment", "model": model.state_dict(), "model_config": to_yaml(tiny()),
                 "provenance": {"larseg_version": "99.0.0"}}, newer)
    with pytest.raises(DataFileError, match="newer than this larseg"):
        load_network(newer)
    wrong = tmp_path / "wrong.pt"
    save_atomic({"format": FORMAT, "task": "segment", "model": model.state_dict(),
                 "model_config": to_yaml(tiny(filters=(4, 8, 8))), "provenance": {"larseg_version": __version__}},
                wrong)
    with pytest.raises(DataFileError, match="weights do not match model preset"):
        load_network(wrong)


def test_cross_process_batchnorm_is_plain_batchnorm_without_process_group():
    torch.manual_seed(3)
    bn = nn.BatchNorm2d(4)
    net = convert_batchnorm(nn.Sequential(nn.Conv2d(1, 4, 3), bn), "cpu")
    assert isinstance(net[1], CrossProcessBatchNorm2d)
    x = torch.rand(2, 4, 5, 5)
    torch.testing.assert_close(net[1](x), nn.BatchNorm2d(4)(x))


def test_bad_configs():
    with pytest.raises(ValueError, match="upsample_kernel"):
        ModelConfig(upsample_kernel=3)
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(filters=(16, 24), upsample_grouped=True)
    assert isinstance(EncoderClassifier(tiny()).encoder, nn.Module)


def test_group_norm_same_function_in_train_and_eval_mode():
    """With norm=group the network's output does not depend on the mode or on the other images
    of the batch (the BatchNorm failure of the first CPU model cannot happen)."""
    torch.manual_seed(0)
    model = UResNet(tiny(norm="group", norm_groups=2, input_scale=0.01))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    x = torch.zeros(2, 1, 32, 32)
    x[0, 0, 5:20, 10] = 60.0
    x[1, 0, 3:30, 3:6] = torch.rand(27, 3) * 200
    with torch.no_grad():
        train_out = model.train()(x)
        eval_out = model.eval()(x)
        alone = model(x[:1])
    assert torch.allclose(train_out, eval_out, atol=1e-5)
    assert torch.allclose(alone, eval_out[:1], atol=1e-5)
    # a BatchNorm model does differ between modes (the test can fail)
    bn = UResNet(tiny()).train()
    with torch.no_grad():
        assert not torch.allclose(bn(x), bn.eval()(x), atol=1e-3)


def test_input_scale_is_part_of_the_model():
    torch.manual_seed(0)
    a = UResNet(tiny(norm="group", input_scale=0.01)).eval()
    b = UResNet(tiny(norm="group", input_scale=1.0)).eval()
    b.load_state_dict(a.state_dict())
    x = torch.zeros(1, 1, 32, 32)
    x[0, 0, 4:28, 16] = 60.0
    with torch.no_grad():
        assert torch.allclose(a(x), b(x * 0.01), atol=1e-5)


@pytest.mark.parametrize("kw", [{"norm": "layer"}, {"norm_groups": 0}, {"input_scale": 0.0}])
def test_norm_settings_are_checked(kw):
    with pytest.raises(ValueError):
        tiny(**kw)


def test_group_norm_groups_divide_channels():
    from larseg.model.blocks import make_norm

    assert make_norm(12, "group", 8).num_groups == 6
    assert make_norm(4, "group", 8).num_groups == 4
    assert make_norm(16, "group", 8).num_groups == 8
