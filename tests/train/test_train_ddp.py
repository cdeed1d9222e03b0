"""DDP on the CPU (gloo, 2 processes) matches one process with the same global batch.

Batch norm: the 2-process run synchronises batch statistics across processes
(``sync_batchnorm``, larseg's CrossProcessBatchNorm2d on the CPU), so each forward pass
normalises over the whole global batch exactly as the 1-process run does; gradients are
averaged by DDP and the per-process loss is scaled by the per-process batch, so the
updates agree up to floating-point summation order.
"""

from __future__ import annotations

import socket

import pytest
import torch
import torch.multiprocessing as mp
from train_helpers import ddp_worker, tiny_model, tiny_training

from larseg.model import read_checkpoint
from larseg.train import train
from larseg.train.logs import read_csv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The sparse net runs with SGD: RMSProp divides each gradient by its running RMS, so on the
# few weights whose gradient is ~0 (sites a tiny image barely touches) it turns the
# summation-order noise of the 2-process all-reduce into +-lr steps (3e-5 after 3 steps,
# measured), while with SGD the runs agree to 2e-7.
@pytest.mark.parametrize("model_kw,optimizer", [({}, "rmsprop"), ({"sparse": True}, "sgd")], ids=["dense", "sparse"])
def test_two_processes_match_one(sample_files, tmp_path, model_kw, optimizer):
    cfg = tiny_training(epochs=1, lr=1e-3, lr_milestones=(), optimizer=optimizer)
    one = tmp_path / "one"
    train([sample_files["train"]], [sample_files["val"]], one, model=tiny_model(**model_kw), training=cfg,
          device="cpu", progress=False)
    two = tmp_path / "two"
    mp.start_processes(ddp_worker, args=(2, _free_port(), str(sample_files["train"]), str(sample_files["val"]),
                                         str(two), cfg, model_kw), nprocs=2, join=True, start_method="spawn")
    a = read_checkpoint(one / "last.pt")
    b = read_checkpoint(two / "last.pt")
    assert a["step"] == b["step"] == 3 and b["world_size"] == 2
    for k, v in a["model"].items():
        if v.is_floating_point():
            torch.testing.assert_close(b["model"][k], v, rtol=1e-4, atol=1e-5, msg=k)
        else:
            assert torch.equal(b["model"][k], v), k
    # the runs did train (weights moved from the same initialisation)
    torch.manual_seed(cfg.seed)
    from larseg.model import build_model

    init = build_model(tiny_model(**model_kw)).state_dict()
    moved = any(not torch.allclose(init[k], v) for k, v in a["model"].items() if v.is_floating_point())
    assert moved
    la = [float(r["loss"]) for r in read_csv(one / "train.csv")]
    lb = [float(r["loss"]) for r in read_csv(two / "train.csv")]
    torch.testing.assert_close(torch.tensor(lb), torch.tensor(la), rtol=1e-4, atol=1e-6)
    va = read_csv(one / "val.csv")[0]
    vb = read_csv(two / "val.csv")[0]  # validation sharded over the 2 processes and gathered
    assert int(va["n_images"]) == int(vb["n_images"]) == 6
    assert abs(float(va["loss"]) - float(vb["loss"])) < 1e-4
