"""The training loop on tiny files: run directory, exact resume, transfer learning, errors, CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from train_helpers import tiny_model, tiny_training

import larseg
from larseg import __version__
from larseg.errors import DataFileError, LarsegError
from larseg.model import load_network, read_checkpoint, save_atomic
from larseg.train import pretrain, train
from larseg.train.config import AugmentConfig
from larseg.train.logs import read_csv
from larseg.train.plot import plot_training


def _run(files, out, **kw):
    args = {"model": tiny_model(), "training": tiny_training(), "device": "cpu", "progress": False}
    args.update(kw)
    return train([files["train"]], [files["val"]], out, **args)


def test_run_directory_and_logs(sample_files, tmp_path):
    out = tmp_path / "run"
    result = _run(sample_files, out)
    assert result.finished and result.steps == 6 and result.epochs_done == 2  # 12 images / batch 4, 2 epochs
    for name in ("best.pt", "last.pt", "train.csv", "val.csv", "model.yaml", "training.yaml"):
        assert (out / name).is_file(), name
    rows = read_csv(out / "train.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 7))
    assert {"loss", "lr", "icpf"} <= set(rows[0])
    assert float(rows[-1]["lr"]) == pytest.approx(1e-4)  # x0.1 from epoch 1
    vals = read_csv(out / "val.csv")
    assert [float(v["epoch"]) for v in vals] == [1.0, 2.0] and "icpf_mean" in vals[0]
    best = read_checkpoint(out / "best.pt")
    assert best["best_metric"] == pytest.approx(min(float(v["icpf_mean"]) for v in vals))
    last = read_checkpoint(out / "last.pt")
    for key in ("model", "optimizer", "scheduler", "epoch", "step", "rng", "data_order", "model_config",
                "training_config", "provenance"):
        assert key in last, key
    assert last["provenance"]["larseg_version"] == __version__
    model = load_network(out)
    assert not model.training and model.config.name == "tiny"
    # the input contract is recorded, and the Predictor of the run applies it
    assert last["input_contract"] == {"plane": 2, "threshold": 10.0, "scale": 1.0, "multiple": model.config.multiple}
    assert larseg.load_model(out).contract.as_dict() == last["input_contract"]
    png = plot_training(out)
    assert png.is_file() and png.stat().st_size > 1000


@pytest.mark.parametrize("recalibration", [0, 2])
def test_resume_reaches_the_same_weights(sample_files, tmp_path, recalibration):
    cfg = tiny_training(checkpoint_every=2, epochs=2, bn_recalibration=recalibration)
    full = _run(sample_files, tmp_path / "full", training=cfg)
    # a job killed after step 5 (no checkpoint written at the kill; the last one is from step 4)
    part = _run(sample_files, tmp_path / "part", training=cfg, stop_after_steps=5, save_on_stop=False)
    assert not part.finished and read_checkpoint(tmp_path / "part" / "last.pt")["step"] == 4
    resumed = _run(sample_files, tmp_path / "part", model=None, training=None, resume=True)
    assert resumed.finished and resumed.steps == full.steps
    a = read_checkpoint(tmp_path / "full" / "last.pt")
    b = read_checkpoint(tmp_path / "part" / "last.pt")
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    rows_a = read_csv(tmp_path / "full" / "train.csv")
    rows_b = read_csv(tmp_path / "part" / "train.csv")
    assert [(r["step"], r["loss"]) for r in rows_a] == [(r["step"], r["loss"]) for r in rows_b]


def test_time_limit_ends_a_slice_cleanly_and_resumes_exactly(sample_files, tmp_path, monkeypatch):
    """A campaign slice (--time-limit) stops at a step boundary with last.pt written; resuming it
    reaches the weights of a run that was never stopped."""
    import larseg.train.loop as loop

    cfg = tiny_training(checkpoint_every=100, epochs=2)
    full = _run(sample_files, tmp_path / "full", training=cfg)
    clock = {"t": 0.0}

    def fake_clock():  # every reading advances 1 s: the limit of 2.5 s falls inside the first epoch
        clock["t"] += 1.0
        return clock["t"]

    monkeypatch.setattr(loop.time, "perf_counter", fake_clock)
    part = _run(sample_files, tmp_path / "part", training=cfg, time_limit=2.5)
    monkeypatch.undo()
    stopped_at = read_checkpoint(tmp_path / "part" / "last.pt")["step"]
    assert not part.finished and 0 < stopped_at == part.steps < full.steps
    resumed = _run(sample_files, tmp_path / "part", model=None, training=None, resume=True)
    assert resumed.finished and resumed.steps == full.steps
    a = read_checkpoint(tmp_path / "full" / "last.pt")["model"]
    b = read_checkpoint(tmp_path / "part" / "last.pt")["model"]
    for k, v in a.items():
        assert torch.equal(v, b[k]), k
    with pytest.raises(LarsegError, match="time limit"):
        _run(sample_files, tmp_path / "bad", training=cfg, time_limit=0)


def test_time_limit_option_parses_durations():
    import typer

    from larseg.cli.train_cmd import parse_duration

    assert parse_duration("90") == 90 and parse_duration("90m") == 5400 and parse_duration("1.5h") == 5400
    assert parse_duration("45s") == 45 and parse_duration(None) is None
    for bad in ("two hours", "-1h", "0", "nanm", "infh"):
        with pytest.raises(typer.BadParameter):
            parse_duration(bad)


def test_gradient_accumulation_and_workers(sample_files, tmp_path):
    cfg = tiny_training(micro_batch=3, max_steps=2, epochs=1, num_workers=1, channels_last=True)
    with pytest.warns(UserWarning, match="channels-last disabled"):  # the tiny net has 4-channel 1x1/2 shortcuts
        result = _run(sample_files, tmp_path / "acc", training=cfg)
    assert result.steps == 2 and result.finished
    assert len(read_csv(tmp_path / "acc" / "train.csv")) == 2
    assert len(read_csv(tmp_path / "acc" / "val.csv")) == 1  # max_steps ended mid-epoch: a final validation
    # resuming may extend a finished run (more steps) with other workers/threads
    with pytest.warns(UserWarning, match="channels-last disabled"):
        more = _run(sample_files, tmp_path / "acc", model=None, training=None, resume=True,
                    settings={"max_steps": 3, "num_workers": 0})
    assert more.steps == 3


def test_bad_labels_in_a_file_are_one_line_errors(sample_files, tmp_path):
    from train_helpers import write_sample

    bad = write_sample(tmp_path / "bad.h5", n=8, seed=5, bad_label_entry=2)
    with pytest.raises(LarsegError, match=r"bad.h5: entry 2: labels outside 0..2"):
        _run({"train": bad, "val": sample_files["val"]}, tmp_path / "r", training=tiny_training(num_workers=1))


def test_pretrain_then_transfer(sample_files, tmp_path):
    pre = pretrain([sample_files["single"]], [sample_files["single_val"]], tmp_path / "pre", model=tiny_model(),
                   training=tiny_training(epochs=1, batch_size=5), device="cpu", progress=False)
    assert pre.finished and (tmp_path / "pre" / "last.pt").is_file()
    assert "error" in read_csv(tmp_path / "pre" / "val.csv")[0]
    clf = read_checkpoint(tmp_path / "pre" / "last.pt")
    assert clf["task"] == "classify"
    out = tmp_path / "tl"
    _run(sample_files, out, init_encoder=tmp_path / "pre" / "last.pt", stop_after_steps=1,
         training=tiny_training(lr=1e-12))
    # with a vanishing learning rate the first step leaves the (pretrained) encoder convolutions as loaded
    seg = read_checkpoint(out / "last.pt")
    key = "encoder.stages.2.0.conv1.weight"
    torch.testing.assert_close(seg["model"][key], clf["model"][key], atol=1e-8, rtol=0)
    with pytest.raises(LarsegError, match="does not match model preset"):
        _run(sample_files, tmp_path / "tl2", model=tiny_model(filters=(4, 8, 32)),
             init_encoder=tmp_path / "pre" / "last.pt")
    with pytest.raises(LarsegError, match="not a U-ResNet"):
        load_network(tmp_path / "pre" / "last.pt")


def test_user_errors(sample_files, tmp_path):
    with pytest.raises(DataFileError, match="missing.h5: no such file"):
        train([tmp_path / "missing.h5"], [sample_files["val"]], tmp_path / "r0", model=tiny_model(),
              training=tiny_training(), device="cpu", progress=False)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(DataFileError, match="junk.h5"):
        _run({"train": junk, "val": sample_files["val"]}, tmp_path / "r1")
    out = tmp_path / "r2"
    _run(sample_files, out, stop_after_steps=1)
    with pytest.raises(LarsegError, match="already holds a training run"):
        _run(sample_files, out)
    with pytest.raises(LarsegError, match="checkpoint from model preset 'tiny', not 'other'"):
        _run(sample_files, out, model=tiny_model(name="other", filters=(4, 8, 8)), resume=True)
    with pytest.raises(LarsegError, match="nothing to resume"):
        _run(sample_files, tmp_path / "r3", resume=True)
    ckpt = read_checkpoint(out / "last.pt")
    ckpt["provenance"]["larseg_version"] = "9.0"
    save_atomic(ckpt, out / "last.pt")
    with pytest.raises(DataFileError, match="newer than this larseg"):
        _run(sample_files, out, model=None, training=None, resume=True)
    with pytest.raises(LarsegError, match="fewer than one batch"):
        _run(sample_files, tmp_path / "r4", training=tiny_training(batch_size=64))
    with pytest.raises(LarsegError, match="not a multiple of 4"):
        _run(sample_files, tmp_path / "r5", training=tiny_training(augment=AugmentConfig(crop=10)))


def test_cli_one_line_errors_and_plot(sample_files, tmp_path):
    env_cmd = [sys.executable, "-m", "larseg"]
    r = subprocess.run(env_cmd + ["train", str(tmp_path / "nope.h5"), "--val", str(sample_files["val"]),
                                  "-o", str(tmp_path / "x"), "--model", "cpu", "--training", "cpu", "--device", "cpu"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"larseg: error: {tmp_path / 'nope.h5'}: no such file"]
    from typer.testing import CliRunner

    from larseg.cli import app

    result = CliRunner().invoke(app, ["plot-training", str(tmp_path)])
    assert isinstance(result.exception, DataFileError) and "not a larseg training run directory" in str(
        result.exception)


def test_cli_train_with_settings(sample_files, tmp_path):
    from typer.testing import CliRunner

    from larseg.cli import app

    model_yaml = tmp_path / "tiny.yaml"
    from larseg.config import to_yaml

    model_yaml.write_text(to_yaml(tiny_model()))
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, [
        "train", str(sample_files["train"]), "--val", str(sample_files["val"]), "-o", str(out),
        "--model", str(model_yaml), "--training", "cpu", "--device", "cpu",
        "--set", "batch_size=4", "--set", "images_per_epoch=8", "--set", "epochs=1", "--set", "augment.crop=16",
        "--set", "num_workers=0", "--set", "val_max_images=2", "--set", "model.name=tiny2",
        "--set", "channels_last=false",
    ])
    assert result.exit_code == 0, result.output
    assert "training finished: 2 steps" in result.output
    assert load_network(out / "last.pt").config.name == "tiny2"


def test_running_average_by_hand():
    from larseg.train.plot import running_average

    got = running_average([1.0, 2.0, 3.0, 4.0, 5.0], 3)
    assert got.tolist() == [1.5, 2.0, 3.0, 4.0, 4.5]
    assert running_average([1.0, float("nan"), 3.0], 3).tolist() == [1.0, 2.0, 3.0]
    assert running_average([2.0, 4.0, 6.0], 200).tolist() == [3.0, 4.0, 5.0]  # window capped at 3


def test_log_keeps_the_columns_of_an_existing_file(tmp_path):
    from larseg.train.logs import RunLog

    log = RunLog(tmp_path)
    log.train_row({"step": 1, "loss": 0.5})
    log.train_row({"step": 2, "loss": 0.25, "new_column": 7})
    log.train_row({"step": 3})
    rows = read_csv(tmp_path / "train.csv")
    assert list(rows[0]) == ["step", "loss"]
    assert [r["loss"] for r in rows] == ["0.5", "0.25", ""]
    log.truncate(2)
    assert [r["step"] for r in read_csv(tmp_path / "train.csv")] == ["1", "2"]


def test_sparse_model_trains_resumes_and_transfers(sample_files, tmp_path):
    """The same training system with a sparse U-ResNet: pretraining, transfer, exact resume, load."""
    sparse = tiny_model(sparse=True, norm="group", norm_groups=2)
    pre = pretrain([sample_files["single"]], [sample_files["single_val"]], tmp_path / "pre", model=sparse,
                   training=tiny_training(epochs=1, batch_size=5), device="cpu", progress=False)
    assert pre.finished
    cfg = tiny_training(checkpoint_every=2, epochs=2)
    full = _run(sample_files, tmp_path / "full", model=sparse, training=cfg,
                init_encoder=tmp_path / "pre" / "last.pt")
    part = _run(sample_files, tmp_path / "part", model=sparse, training=cfg, stop_after_steps=3,
                save_on_stop=False, init_encoder=tmp_path / "pre" / "last.pt")
    assert not part.finished
    resumed = _run(sample_files, tmp_path / "part", model=None, training=None, resume=True)
    assert resumed.finished and resumed.steps == full.steps
    a = read_checkpoint(tmp_path / "full" / "last.pt")["model"]
    b = read_checkpoint(tmp_path / "part" / "last.pt")["model"]
    for k, v in a.items():
        assert torch.equal(v, b[k]), k
    model = load_network(tmp_path / "full")
    assert model.config.sparse and type(model).__name__ == "SparseUResNet"
    assert float(read_csv(tmp_path / "full" / "val.csv")[-1]["icpf_mean"]) <= 1.0
