"""The training loop of Sec. IV: U-ResNet segmentation (``train``) and encoder pretraining (``pretrain``).

One loop serves both tasks, on one CPU/GPU or under ``torchrun`` (DDP; rank 0 writes
logs and checkpoints). A run directory holds::

    model.yaml, training.yaml   the configs of the run
    train.csv, val.csv          logs (see larseg.train.logs)
    last.pt                     the latest state (every ``checkpoint_every`` steps and every epoch)
    best.pt                     the state with the best validation metric (lowest ICPF, or
                                lowest classification error for pretraining)

``resume=True`` continues from ``last.pt`` and reaches the same weights as a run that was
never interrupted: the batch order and augmentation are functions of (seed, epoch, index),
and the checkpoint holds the model, optimiser, scheduler, counters and RNG states.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from larseg import config as cfgmod
from larseg.atomic import output_dir, remove_stale_temporaries, write_text_atomic
from larseg.config import to_yaml
from larseg.data.resume import check_same_data, data_records, first_difference
from larseg.errors import ConfigError, LarsegError
from larseg.model.blocks import convert_batchnorm
from larseg.model.config import ModelConfig
from larseg.model.contract import InputContract
from larseg.model.io import FORMAT, checkpoint_model_config, load_encoder_weights, read_checkpoint, save_atomic
from larseg.model.metrics import ImageMetrics, image_metrics, summarize
from larseg.model.predictor import Predictor
from larseg.model.registry import build_classifier, build_model
from larseg.progress import progress_bar
from larseg.provenance import provenance
from larseg.train import distributed as D
from larseg.train.bn import batchnorm_layers, image_batches, recalibrate_batchnorm, recalibration_indices
from larseg.train.config import AugmentConfig, TrainConfig
from larseg.train.data import GlobalBatchSampler, ParticleData, SegmentationData, collate
from larseg.train.logs import RunLog
from larseg.train.loss import check_labels, per_image_loss, weight_maps


@dataclass
class TrainResult:
    run_dir: Path
    steps: int
    epochs_done: int
    best_metric: float
    best_checkpoint: Path | None
    last_checkpoint: Path
    seconds: float
    images_per_second: float
    finished: bool


# --- tasks


class SegmentTask:
    name = "segment"
    metric = "icpf_mean"
    metric_label = "ICPF"

    def build(self, mcfg: ModelConfig) -> nn.Module:
        return build_model(mcfg)

    def dataset(self, files, tcfg: TrainConfig, train: bool, multiple: int):
        return SegmentationData(files, tcfg.plane, tcfg.threshold, tcfg.augment if train else AugmentConfig(),
                                tcfg.seed, multiple)

    def loss(self, model, batch, tcfg: TrainConfig, device, amp, channels_last):
        x = batch["image"].to(device, non_blocking=True)
        label = batch["label"].to(device, non_blocking=True)
        check_labels(label, 3)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with amp:
            logits = model(x)
        w = weight_maps(tcfg.weighting, x, label, batch["instance"].to(device), batch["vertex"].to(device),
                        tcfg.edge_radius, tcfg.vertex_radius)
        per = per_image_loss(logits, label, w)
        icpf = image_metrics(logits.detach(), label).icpf
        ok = np.isfinite(icpf)
        return per, (float(icpf[ok].sum()), float(ok.sum()))

    def evaluate(self, model, batch, tcfg, device, amp, channels_last):
        """``model``: the network's :class:`Predictor` (validation runs it as every trained network runs)."""
        x = batch["image"].to(device)
        label = batch["label"].to(device)
        check_labels(label, 3)
        logits = model.logits(x)
        w = weight_maps(tcfg.weighting, x, label, batch["instance"].to(device), batch["vertex"].to(device),
                        tcfg.edge_radius, tcfg.vertex_radius)
        per = per_image_loss(logits, label, w).cpu().numpy()
        return per, image_metrics(logits, label)

    def summarize(self, losses: np.ndarray, parts: list) -> dict:
        s = summarize(ImageMetrics.concat(parts))
        return {"loss": float(np.mean(losses)) if len(losses) else math.nan, "icpf_mean": s.icpf_mean,
                "icpf_q90": s.icpf_q90, "shower_error": s.shower_error, "track_error": s.track_error,
                "n_images": s.n_images}


class ClassifyTask:
    name = "classify"
    metric = "error"
    metric_label = "error"

    def build(self, mcfg: ModelConfig) -> nn.Module:
        return build_classifier(mcfg)

    def dataset(self, files, tcfg: TrainConfig, train: bool, multiple: int):
        return ParticleData(files, tcfg.plane, tcfg.threshold, tcfg.augment if train else AugmentConfig(),
                            tcfg.seed, multiple)

    def loss(self, model, batch, tcfg, device, amp, channels_last):
        x = batch["image"].to(device, non_blocking=True)
        target = batch["target"].to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with amp:
            logits = model(x)
        per = F.cross_entropy(logits.float(), target, reduction="none")
        wrong = (logits.detach().argmax(dim=1) != target).float()
        return per, (float(wrong.sum()), float(len(wrong)))

    def evaluate(self, model, batch, tcfg, device, amp, channels_last):
        per, (wrong, n) = self.loss(model, batch, tcfg, device, amp, channels_last)
        return per.cpu().numpy(), (wrong, n)

    def summarize(self, losses: np.ndarray, parts: list) -> dict:
        wrong = sum(p[0] for p in parts)
        n = sum(p[1] for p in parts)
        return {"loss": float(np.mean(losses)) if len(losses) else math.nan,
                "error": wrong / n if n else math.nan, "n_images": int(n)}


TASKS = {"segment": SegmentTask(), "classify": ClassifyTask()}


# --- helpers


def build_optimizer(params, tcfg: TrainConfig) -> torch.optim.Optimizer:
    if tcfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=tcfg.lr, alpha=tcfg.rmsprop_alpha, eps=tcfg.eps,
                                   momentum=tcfg.momentum, weight_decay=tcfg.weight_decay)
    if tcfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=tcfg.lr, eps=tcfg.eps, weight_decay=tcfg.weight_decay)
    return torch.optim.SGD(params, lr=tcfg.lr, momentum=tcfg.momentum, weight_decay=tcfg.weight_decay)


def _rng_state() -> dict:
    """The RNG states as tensors and plain data, so that the checkpoint loads with ``weights_only=True``."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    numpy_state = [name, [int(k) for k in keys], int(pos), int(has_gauss), float(gauss)]
    state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss), float(gauss)))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        with contextlib.suppress(Exception):
            torch.cuda.set_rng_state_all(state["cuda"])


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def apply_settings(model_cfg: ModelConfig, train_cfg: TrainConfig, settings: dict | None):
    """``--set`` overrides: ``model.<key>=v`` changes the model config, ``training.<key>=v`` or a bare
    ``<key>=v`` the training config (``augment.crop=256``)."""
    m, t = {}, {}
    for key, value in (settings or {}).items():
        if key.startswith("model."):
            m[key[len("model."):]] = value
        elif key.startswith("training."):
            t[key[len("training."):]] = value
        else:
            t[key] = value
    if m:
        model_cfg = cfgmod.replace(model_cfg, **m)
    if t:
        train_cfg = cfgmod.replace(train_cfg, **t)
    return model_cfg, train_cfg


def _resolve(kind: str, value):
    if value is None or isinstance(value, (ModelConfig, TrainConfig)):
        return value
    return cfgmod.resolve(kind, str(value))


def _amp_enabled(tcfg: TrainConfig, device: torch.device) -> bool:
    return tcfg.amp == "bf16" or (tcfg.amp == "auto" and device.type == "cuda")


def _amp_context(tcfg: TrainConfig, device: torch.device):
    if _amp_enabled(tcfg, device):
        return lambda: torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def _channels_last(tcfg: TrainConfig, device: torch.device, model: nn.Module) -> bool:
    use = tcfg.channels_last if tcfg.channels_last is not None else device.type == "cuda"
    if use and device.type == "cpu":
        hazard = channels_last_hazard(model)
        if hazard:
            warnings.warn(f"channels-last disabled: on the CPU the backward pass of 1x1 stride-2 convolutions with "
                          f"2-{_fp32_lanes() - 1} input channels ({hazard}) corrupts memory in oneDNN "
                          "(uxlfoundation/oneDNN#6035)", stacklevel=3)
            return False
    return use


def _fp32_lanes() -> int:
    """fp32 lanes of the vectors oneDNN's CPU kernels use here: 16 with AVX-512 (hardware), else 8."""
    try:
        return 16 if torch.cpu._is_avx512_supported() else 8
    except AttributeError:  # private torch API: assume the wider (more restrictive) case
        return 16


def channels_last_hazard(model: nn.Module) -> str | None:
    """The first convolution hit by oneDNN's channels-last 1x1 stride-2 backward bug on CPUs.

    With torch 2.13 (oneDNN 3.12) the channels-last weight-gradient kernel (``jit_1x1``
    backward_weights) of such a layer crashes the process (segfault, "double free or
    corruption") or writes wrong weight gradients when its input channels are 2 up to one
    SIMD vector of fp32 less one: 2-7 with AVX2, 2-15 with AVX-512 (the ``cpu`` model's
    8-channel ``encoder.stages.1.0.shortcut``). Measured one conv per process, forward +
    backward against the contiguous layout, batches of 8x128x128 and 8x256x256: AVX-512
    crashes for 2-15 and matches for 16-64; ``ONEDNN_MAX_CPU_ISA=AVX2`` crashes for 2-7 and
    matches for 8-32. 3x3 and stride-1 convolutions and ConvTranspose matched (4x64x64).
    """
    lanes = _fp32_lanes()
    for name, m in model.named_modules():
        if (isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and tuple(m.stride) != (1, 1)
                and 1 < m.in_channels // m.groups < lanes):
            return name
    return None


def _progress(total: int, description: str, unit: str, completed: int, enabled: bool):
    return progress_bar(total, description, unit=unit, completed=completed, disable=not enabled)


# --- the loop

#: Training settings a resumed run may change: they do not alter the weights of the steps done.
RESUME_FREE = ("description", "epochs", "max_steps", "num_workers", "threads", "checkpoint_every", "val_batch")


def train(train_files: Sequence[str | Path], val_files: Sequence[str | Path], out_dir: str | Path,
          model: ModelConfig | str | None = None, training: TrainConfig | str | None = None, *,
          settings: dict | None = None, init_encoder: str | Path | None = None, resume: bool = False,
          device: str = "auto", progress: bool = True, stop_after_steps: int | None = None,
          save_on_stop: bool = True, time_limit: float | None = None) -> TrainResult:
    """Train a U-ResNet (segmentation) into run directory ``out_dir``.

    ``model``/``training``: configs or preset names (default ``paper``; on ``resume`` the
    checkpoint's). ``settings``: dotted overrides (see :func:`apply_settings`).
    ``init_encoder``: a ``pretrain`` checkpoint whose encoder weights start the U-ResNet.
    ``stop_after_steps``: stop once this many steps are done in total (writing ``last.pt``
    unless ``save_on_stop`` is False, which mimics a killed job). ``time_limit``: stop cleanly
    (``last.pt`` written) at the first step boundary after this many seconds of training, so that
    a long campaign runs in bounded slices; ``resume`` continues it with the same weights as a run
    that was never stopped.
    """
    return run("segment", train_files, val_files, out_dir, model, training, settings=settings,
               init_encoder=init_encoder, resume=resume, device=device, progress=progress,
               stop_after_steps=stop_after_steps, save_on_stop=save_on_stop, time_limit=time_limit)


def pretrain(train_files: Sequence[str | Path], val_files: Sequence[str | Path], out_dir: str | Path,
             model: ModelConfig | str | None = None, training: TrainConfig | str | None = None, *,
             settings: dict | None = None, resume: bool = False, device: str = "auto", progress: bool = True,
             stop_after_steps: int | None = None, save_on_stop: bool = True,
             time_limit: float | None = None) -> TrainResult:
    """Train the encoder classifier (e-, gamma, mu-, pi-, p) on single-particle images (Sec. IV A)."""
    return run("classify", train_files, val_files, out_dir, model, training, settings=settings,
               resume=resume, device=device, progress=progress, stop_after_steps=stop_after_steps,
               save_on_stop=save_on_stop, time_limit=time_limit)


def run(task_name: str, train_files, val_files, out_dir, model=None, training=None, *, settings=None,
        init_encoder=None, resume=False, device="auto", progress=True, stop_after_steps=None,
        save_on_stop=True, time_limit=None) -> TrainResult:
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise LarsegError(f"time limit {time_limit!r}: must be a positive number of seconds")
    info, dev = D.setup(device)
    try:
        return _run(TASKS[task_name], list(train_files), list(val_files), Path(out_dir), _resolve("model", model),
                    _resolve("training", training), settings, init_encoder, resume, info, dev, progress,
                    stop_after_steps, save_on_stop, time_limit)
    finally:
        D.teardown(info)


def _run(task, train_files, val_files, out: Path, mcfg, tcfg, settings, init_encoder, resume, info: D.DistInfo,
         device: torch.device, progress: bool, stop_after_steps, save_on_stop, time_limit=None) -> TrainResult:
    last_path, best_path = out / "last.pt", out / "best.pt"
    ckpt = None
    # The identity of the data files (path, entries, size, recorded sample/seed/config), kept in the
    # checkpoint: a resumed run must read the same files in the same order (they set the batches).
    data = data_records(train_files, val_files)
    if resume:
        if not last_path.exists():
            raise LarsegError(f"{out}: nothing to resume (no last.pt)")
        ckpt = read_checkpoint(last_path)
        if ckpt.get("task") != task.name:
            raise LarsegError(f"{last_path}: a {ckpt.get('task')} run, cannot resume it as {task.name}")
        ck_model = checkpoint_model_config(ckpt, last_path)
        ck_train = cfgmod.from_yaml(TrainConfig, ckpt["training_config"], f"{last_path} (training config)")
        mcfg = mcfg or ck_model
        tcfg = tcfg or ck_train
        mcfg, tcfg = apply_settings(mcfg, tcfg, settings)
        for kind, mine, theirs in (("model", mcfg, ck_model), ("training", tcfg, ck_train)):
            a, b = cfgmod.to_dict(mine), cfgmod.to_dict(theirs)
            if kind == "training":  # settings that do not change the result may differ on resume
                for key in RESUME_FREE:
                    a.pop(key, None)
                    b.pop(key, None)
            diff = first_difference(b, a)
            if diff:
                key, was, now = diff
                raise LarsegError(f"{last_path}: checkpoint from {kind} preset '{theirs.name}', not '{mine.name}' "
                                  f"({key}: {now!r} vs {was!r}); resume with the run's own settings")
        check_same_data(last_path, ckpt.get("data_files"), data)
    else:
        mcfg = mcfg or cfgmod.load_preset("model", "paper")
        tcfg = tcfg or cfgmod.load_preset("training", "paper")
        mcfg, tcfg = apply_settings(mcfg, tcfg, settings)
        if last_path.exists():
            raise LarsegError(f"{out}: already holds a training run (last.pt); pass --resume to continue it "
                              "or choose another output directory")
    if tcfg.augment.crop and tcfg.augment.crop % mcfg.multiple:
        raise ConfigError(f"augment.crop {tcfg.augment.crop} is not a multiple of {mcfg.multiple} "
                          f"(2**depth of model preset '{mcfg.name}')")
    if not train_files:
        raise LarsegError("no training files given")
    if not val_files:
        raise LarsegError("no validation files given (--val)")
    if info.is_main:
        output_dir(out)
        for name in ("last.pt", "best.pt"):  # left by a run killed while saving (kill -9 skips the cleanup)
            remove_stale_temporaries(out / name)
        write_text_atomic(out / "model.yaml", to_yaml(mcfg))
        write_text_atomic(out / "training.yaml", to_yaml(tcfg))
    D.barrier(info)

    if tcfg.threads:
        torch.set_num_threads(tcfg.threads)
    _seed_all(tcfg.seed)
    multiple = mcfg.multiple
    train_ds = task.dataset(train_files, tcfg, True, multiple)
    val_ds = task.dataset(val_files, tcfg, False, multiple)
    per_epoch = tcfg.images_per_epoch or len(train_ds)
    if per_epoch < tcfg.batch_size:
        raise LarsegError(f"{per_epoch} training images per epoch, fewer than one batch of {tcfg.batch_size} "
                          "(lower batch_size with --set batch_size=N)")

    core = task.build(mcfg)
    if init_encoder is not None and ckpt is None:
        load_encoder_weights(core, init_encoder)
    core.to(device)
    channels_last = _channels_last(tcfg, device, core)
    if channels_last:
        core = core.to(memory_format=torch.channels_last)
    if info.active and tcfg.sync_batchnorm:
        core = convert_batchnorm(core, device.type).to(device)
    net: nn.Module = core
    if info.active:
        net = nn.parallel.DistributedDataParallel(core, device_ids=[device] if device.type == "cuda" else None)
    optimizer = build_optimizer(core.parameters(), tcfg)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(tcfg.lr_milestones),
                                                     gamma=tcfg.lr_gamma)
    epoch, batch_in_epoch, step = 0, 0, 0
    best = math.inf
    if ckpt is not None:
        core.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        epoch, batch_in_epoch, step = ckpt["epoch"], ckpt["batch_in_epoch"], ckpt["step"]
        best = ckpt.get("best_metric", math.inf)
        _set_rng_state(ckpt["rng"])
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    log = RunLog(out, enabled=info.is_main)
    if ckpt is not None:
        log.truncate(step)
    amp = _amp_context(tcfg, device)
    sampler0 = GlobalBatchSampler(len(train_ds), tcfg.batch_size, info.world_size, info.rank, tcfg.micro_batch,
                                  tcfg.seed, 0, tcfg.images_per_epoch)
    bpe = sampler0.batches_per_epoch
    total_steps = bpe * tcfg.epochs
    if tcfg.max_steps:
        total_steps = min(total_steps, tcfg.max_steps)
    per_rank = tcfg.batch_size // info.world_size

    def state(kind: str) -> dict:
        return {
            "format": FORMAT, "task": task.name, "kind": kind, "model": core.state_dict(),
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": epoch,
            "batch_in_epoch": batch_in_epoch, "step": step, "best_metric": best, "rng": _rng_state(),
            "data_order": {"seed": tcfg.seed, "epoch": epoch, "batch": batch_in_epoch,
                           "batches_per_epoch": bpe},
            "model_config": to_yaml(mcfg), "training_config": to_yaml(tcfg), "provenance": provenance(),
            "input_contract": contract.as_dict(), "data_files": data,
            "world_size": info.world_size, "metric": task.metric,
        }

    def save_last():
        if info.is_main:
            save_atomic(state("last"), last_path)

    recal_ds = task.dataset(train_files, tcfg, False, multiple) if tcfg.bn_recalibration else None

    def recalibrate() -> None:
        if recal_ds is None or not batchnorm_layers(core):
            return
        chosen = recalibration_indices(len(recal_ds), tcfg.bn_recalibration, tcfg.val_batch, tcfg.seed, step)
        chosen = chosen[:len(chosen) // info.world_size * info.world_size]  # the same count on every rank
        recalibrate_batchnorm(core, image_batches(recal_ds, chosen[info.rank::info.world_size], device,
                                                  channels_last))

    contract = InputContract(plane=tcfg.plane, threshold=tcfg.threshold, multiple=mcfg.multiple)

    def validate(show: bool) -> dict:
        recalibrate()
        core.eval()
        net = (Predictor.from_module(core, contract, amp=_amp_enabled(tcfg, device), channels_last=channels_last)
               if task.name == "segment" else core)
        idx = list(range(len(val_ds)))
        if tcfg.val_max_images:
            idx = idx[:tcfg.val_max_images]
        mine = idx[info.rank::info.world_size]
        batches = [mine[i:i + tcfg.val_batch] for i in range(0, len(mine), tcfg.val_batch)]
        loader = DataLoader(val_ds, batch_sampler=batches, num_workers=tcfg.num_workers, collate_fn=collate,
                            pin_memory=device.type == "cuda")
        losses, parts = [], []
        with torch.no_grad(), _progress(len(idx), f"validate epoch {epoch}", "img", 0,
                                        show and progress and info.is_main) as advance:
            for batch in loader:
                if "error" in batch:
                    raise LarsegError(batch["error"])
                per, part = task.evaluate(net, batch, tcfg, device, amp(), channels_last)
                losses.append(per)
                parts.append(part)
                advance(len(per) * info.world_size)
        core.train()
        gathered = D.gather_objects((losses, parts), info)
        all_losses = np.concatenate([x for g in gathered for x in g[0]]) if gathered else np.zeros(0)
        all_parts = [p for g in gathered for p in g[1]]
        return task.summarize(all_losses, all_parts)

    def record_validation(metrics: dict) -> None:
        nonlocal best
        row = {"step": step, "epoch": epoch + batch_in_epoch / bpe, **metrics}
        log.val_row(row)
        value = metrics[task.metric]
        if info.is_main and math.isfinite(value) and value < best:
            best = value
            save_atomic(state("best"), best_path)

    t_start = time.perf_counter()
    images_done = 0
    stopped = False

    def out_of_time() -> bool:
        """Whether the time limit has passed, agreed by every process (rank 0's clock decides)."""
        if time_limit is None:
            return False
        late = info.is_main and time.perf_counter() - t_start >= time_limit
        return D.all_sum([1.0 if late else 0.0], info, device)[0] > 0
    core.train()
    while epoch < tcfg.epochs and step < total_steps and not stopped:
        sampler = GlobalBatchSampler(len(train_ds), tcfg.batch_size, info.world_size, info.rank, tcfg.micro_batch,
                                     tcfg.seed, epoch, tcfg.images_per_epoch, start_batch=batch_in_epoch)
        loader = DataLoader(train_ds, batch_sampler=sampler, num_workers=tcfg.num_workers, collate_fn=collate,
                            pin_memory=device.type == "cuda")
        n_micro = sampler.micro_per_batch
        batches = iter(loader)
        with _progress(total_steps, f"{task.name} epoch {epoch + 1}/{tcfg.epochs}", "step", step,
                       progress and info.is_main) as advance:
            while batch_in_epoch < bpe and step < total_steps:
                t0 = time.perf_counter()
                optimizer.zero_grad(set_to_none=True)
                loss_sum, metric_sum, metric_n = 0.0, 0.0, 0.0
                for j in range(n_micro):
                    batch = next(batches)
                    if "error" in batch:
                        raise LarsegError(batch["error"])
                    sync = contextlib.nullcontext() if (not info.active or j == n_micro - 1) else net.no_sync()
                    with sync:
                        per, (msum, mn) = task.loss(net, batch, tcfg, device, amp(), channels_last)
                        (per.sum() / per_rank).backward()
                    loss_sum += float(per.detach().sum())
                    metric_sum += msum
                    metric_n += mn
                optimizer.step()
                step += 1
                batch_in_epoch += 1
                images_done += tcfg.batch_size
                loss_sum, metric_sum, metric_n = D.all_sum([loss_sum, metric_sum, metric_n], info, device)
                dt = time.perf_counter() - t0
                log.train_row({"step": step, "epoch": epoch + batch_in_epoch / bpe,
                               "loss": loss_sum / tcfg.batch_size, "lr": optimizer.param_groups[0]["lr"],
                               task.metric_label.lower(): metric_sum / metric_n if metric_n else math.nan,
                               "images_per_s": tcfg.batch_size / dt if dt > 0 else math.nan})
                advance(1)
                if not math.isfinite(loss_sum):
                    raise LarsegError(f"training diverged at step {step} (loss {loss_sum}); lower the learning rate")
                if tcfg.val_every_steps and step % tcfg.val_every_steps == 0 and batch_in_epoch < bpe:
                    record_validation(validate(show=False))
                if step % tcfg.checkpoint_every == 0 and batch_in_epoch < bpe:
                    save_last()
                if batch_in_epoch < bpe and ((stop_after_steps is not None and step >= stop_after_steps)
                                             or out_of_time()):
                    stopped = True
                    break
        if stopped:
            if save_on_stop:
                save_last()
            break
        if batch_in_epoch >= bpe:
            epoch += 1
            batch_in_epoch = 0
            scheduler.step()
            record_validation(validate(show=True))
            save_last()
            if step < total_steps and ((stop_after_steps is not None and step >= stop_after_steps)
                                       or out_of_time()):
                stopped = True
    if not stopped and batch_in_epoch:  # max_steps ended mid-epoch: a final validation
        record_validation(validate(show=True))
        save_last()
    D.barrier(info)
    log.close()
    seconds = time.perf_counter() - t_start
    return TrainResult(
        run_dir=out, steps=step, epochs_done=epoch, best_metric=best,
        best_checkpoint=best_path if best_path.exists() else None, last_checkpoint=last_path, seconds=seconds,
        images_per_second=images_done / seconds if seconds > 0 else math.nan, finished=not stopped,
    )
