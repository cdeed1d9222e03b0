"""BatchNorm recalibration: exact averages, state restored, in the training loop, and the command."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from train_helpers import tiny_model, tiny_training

from larseg.errors import DataFileError, LarsegError
from larseg.model import build_model, read_checkpoint
from larseg.train import train
from larseg.train.bn import (
    batchnorm_layers,
    image_batches,
    recalibrate_batchnorm,
    recalibrate_checkpoint,
    recalibration_indices,
)
from larseg.train.data import SegmentationData


def test_statistics_are_the_plain_average_of_the_batches():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3, momentum=0.1)
    batches = [torch.randn(4, 3, 5, 5) * (k + 1) + k for k in range(5)]
    assert recalibrate_batchnorm(bn, batches) == 5
    means = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches])
    variances = torch.stack([b.transpose(0, 1).reshape(3, -1).var(dim=1, unbiased=True) for b in batches])
    torch.testing.assert_close(bn.running_mean, means.mean(0))
    torch.testing.assert_close(bn.running_var, variances.mean(0))
    # the moving average of the same batches is dominated by the last ones (the test can fail)
    ema = nn.BatchNorm2d(3, momentum=0.1).train()
    for b in batches:
        ema(b)
    assert not torch.allclose(ema.running_mean, means.mean(0), atol=0.1)
    assert bn.momentum == 0.1 and bn.training  # restored


def test_mode_restored_weights_untouched_and_empty_input_keeps_statistics():
    model = build_model(tiny_model()).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert recalibrate_batchnorm(model, []) == 0
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    x = torch.zeros(2, 1, 32, 32)
    x[:, 0, 10, 4:28] = 50.0
    recalibrate_batchnorm(model, [x])
    assert not model.training
    after = model.state_dict()
    for k in before:
        if "running" in k or "num_batches" in k:
            continue
        assert torch.equal(after[k], before[k]), k
    assert any(not torch.equal(after[k], before[k]) for k in before if "running_var" in k)
    assert batchnorm_layers(build_model(tiny_model(norm="group"))) == []


def test_indices_depend_only_on_seed_and_step():
    a = recalibration_indices(100, 3, 4, seed=1, step=10)
    assert a == recalibration_indices(100, 3, 4, seed=1, step=10)
    assert a != recalibration_indices(100, 3, 4, seed=1, step=11)
    assert [len(b) for b in a] == [4, 4, 4] and len({i for b in a for i in b}) == 12
    assert sum(len(b) for b in recalibration_indices(5, 3, 4, 0, 0)) == 5  # fewer images than asked


def test_training_loop_recalibrates_before_validation(sample_files, tmp_path):
    cfg = tiny_training(epochs=1, bn_recalibration=2)
    out = tmp_path / "run"
    train([sample_files["train"]], [sample_files["val"]], out, model=tiny_model(), training=cfg, device="cpu",
          progress=False)
    last = read_checkpoint(out / "last.pt")
    # redo the recalibration the loop did at its last validation, on the saved weights
    model = build_model(tiny_model())
    model.load_state_dict(last["model"])
    ds = SegmentationData([sample_files["train"]], 2, 10.0, None, cfg.seed, model.config.multiple)
    chosen = recalibration_indices(len(ds), 2, cfg.val_batch, cfg.seed, last["step"])
    recalibrate_batchnorm(model, image_batches(ds, chosen, torch.device("cpu")))
    for k, v in model.state_dict().items():
        if "running" in k:
            torch.testing.assert_close(v, last["model"][k], atol=1e-6, rtol=1e-5, msg=k)


def test_recalibrate_command_and_errors(sample_files, tmp_path):
    from typer.testing import CliRunner

    from larseg.cli import app

    out = tmp_path / "run"
    train([sample_files["train"]], [sample_files["val"]], out, model=tiny_model(), training=tiny_training(epochs=1),
          device="cpu", progress=False)
    runner = CliRunner()
    new = tmp_path / "recal.pt"
    r = runner.invoke(app, ["recalibrate", str(out / "last.pt"), str(sample_files["train"]), "-o", str(new),
                            "--batches", "2", "--batch-size", "3"])
    assert r.exit_code == 0, r.output
    ck = read_checkpoint(new)
    assert ck["bn_recalibrated"]["batches"] == 2 and ck["step"] == read_checkpoint(out / "last.pt")["step"]
    with pytest.raises(LarsegError, match="choose another output"):
        recalibrate_checkpoint(new, [sample_files["train"]], new)
    with pytest.raises(DataFileError, match="missing.pt"):
        recalibrate_checkpoint(tmp_path / "missing.pt", [sample_files["train"]], tmp_path / "x.pt")
    gn = tmp_path / "gn"
    train([sample_files["train"]], [sample_files["val"]], gn, model=tiny_model(norm="group", norm_groups=2),
          training=tiny_training(epochs=1), device="cpu", progress=False)
    with pytest.raises(LarsegError, match="no BatchNorm"):
        recalibrate_checkpoint(gn / "last.pt", [sample_files["train"]], tmp_path / "y.pt")
