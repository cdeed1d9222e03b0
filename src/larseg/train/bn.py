"""Batch-norm recalibration: exact running statistics from a fixed set of training images.

PyTorch's BatchNorm keeps an exponential moving average of the batch statistics
(momentum 0.1: about the last ten batches). On LArTPC images, whose content varies a lot
from crop to crop, that average is noisy and lags the weights; the sparse ``sparse-cpu``
model's eval-mode validation ICPF went from 12% to 20% in its last epoch while the same
weights with batch statistics scored 9% (docs/results.md). Recomputing the statistics as
a plain average over a few hundred training images (Caffe's BN used a much longer
average, moving_average_fraction 0.999) restores eval mode to the training quality.

    from larseg.train.bn import recalibrate_batchnorm
    n = recalibrate_batchnorm(model, batches)     # an iterable of (N, 1, H, W) image tensors

Used by the training loop before every validation (``bn_recalibration`` batches of the
training files, whole images, chosen by the run's seed and step) and by
``larseg recalibrate`` on a finished checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from larseg.config import from_yaml
from larseg.errors import DataFileError, LarsegError
from larseg.model.device import resolve_device
from larseg.model.io import checkpoint_model_config, network_from_checkpoint, read_checkpoint, save_atomic
from larseg.train.config import TrainConfig
from larseg.train.data import SegmentationData


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Replace every BatchNorm's running statistics by their average over ``batches``; returns the batch count.

    Runs the model in training mode without gradients (weights untouched), with
    cumulative averaging (``momentum=None``), then restores each layer's momentum and the
    model's mode. A model without BatchNorm is left as it is (returns 0).
    """
    layers = batchnorm_layers(model)
    if not layers:
        return 0
    momenta = [m.momentum for m in layers]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in layers]
    was_training = model.training
    count = 0
    try:
        for m in layers:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        for x in batches:
            model(x)
            count += 1
    finally:
        for m, mom in zip(layers, momenta):
            m.momentum = mom
        if count == 0:  # nothing seen: keep the old statistics
            for m, (mean, var, n) in zip(layers, saved):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(n)
        model.train(was_training)
    return count


def recalibration_indices(n_images: int, batches: int, batch_size: int, seed: int, step: int) -> list[list[int]]:
    """The image indices of each recalibration batch: a fixed function of (seed, step), not of the global RNG."""
    rng = np.random.default_rng([seed, step, 0xB4])
    take = min(n_images, batches * batch_size)
    order = rng.permutation(n_images)[:take]
    return [order[i:i + batch_size].tolist() for i in range(0, take, batch_size)]


def image_batches(dataset, index_batches: Sequence[Sequence[int]], device: torch.device,
                  channels_last: bool = False) -> Iterable[torch.Tensor]:
    """(N, 1, H, W) tensors of the ``image`` of each index batch of a larseg dataset (whole images)."""
    for idx in index_batches:
        items = [dataset[i] for i in idx]
        for item in items:
            if "error" in item:
                raise LarsegError(item["error"])
        images = [torch.as_tensor(np.asarray(item["image"]), dtype=torch.float32) for item in items]
        h = max(im.shape[-2] for im in images)
        w = max(im.shape[-1] for im in images)
        # images of different sizes (several files) are zero-padded to the largest of the batch
        x = torch.stack([torch.nn.functional.pad(im, (0, w - im.shape[-1], 0, h - im.shape[-2])) for im in images])
        x = x.to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        yield x


def recalibrate_checkpoint(checkpoint, files: Sequence, output, batches: int = 60, batch_size: int = 8,
                           seed: int = 0, plane: int | None = None, threshold: float | None = None,
                           device: str = "cpu") -> dict:
    """Write ``output``: ``checkpoint`` with BatchNorm statistics recomputed on whole images of ``files``.

    Plane and threshold default to the checkpoint's training config. Everything else in
    the checkpoint is kept; ``bn_recalibrated`` records what was done. The output is
    written atomically. Returns that record.
    """
    ckpt = read_checkpoint(checkpoint)
    if ckpt.get("task", "segment") != "segment":
        raise DataFileError(checkpoint, f"a {ckpt.get('task')} checkpoint, not a U-ResNet")
    if Path(output).resolve() == Path(checkpoint).resolve():
        raise LarsegError(f"{output}: choose another output file (the checkpoint is kept as it is)")
    cfg = checkpoint_model_config(ckpt, checkpoint)
    tcfg = from_yaml(TrainConfig, ckpt["training_config"], f"{checkpoint} (training config)") \
        if "training_config" in ckpt else TrainConfig()
    model = network_from_checkpoint(ckpt, checkpoint)
    if not batchnorm_layers(model):
        raise LarsegError(f"{checkpoint}: model preset '{cfg.name}' has no BatchNorm layers (norm: {cfg.norm})")
    plane = tcfg.plane if plane is None else plane
    threshold = tcfg.threshold if threshold is None else threshold
    dev = resolve_device(device)
    model.to(dev)
    dataset = SegmentationData(list(files), plane, threshold, None, seed, cfg.multiple)
    chosen = recalibration_indices(len(dataset), batches, batch_size, seed, 0)
    count = recalibrate_batchnorm(model, image_batches(dataset, chosen, dev))
    record = {"files": [str(f) for f in files], "batches": count, "batch_size": batch_size, "seed": seed,
              "plane": plane, "threshold": threshold}
    ckpt["model"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    ckpt["bn_recalibrated"] = record
    save_atomic(ckpt, output)
    return record
