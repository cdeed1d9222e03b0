"""``larseg pretrain``, ``larseg train`` and ``larseg plot-training``: thin commands over larseg.train."""

from __future__ import annotations

import math
import os
from pathlib import Path

import typer

from larseg.cli.app import app
from larseg.cli.simulate_cmd import parse_settings
from larseg.config.base import SEED_LIMIT, check_option

_MODEL_HELP = "Model preset (paper, mcc8, cpu) or a YAML file. Default: paper (on --resume: the run's)."
_TRAIN_HELP = "Training preset (paper, cpu) or a YAML file. Default: paper (on --resume: the run's)."
_SET_HELP = ("Override a setting (repeatable): training keys as is (lr=1e-4, augment.crop=256) or with "
             "'training.', model keys with 'model.' (model.filters=[8,16,32]).")
_DEVICE_HELP = "auto (CUDA when present), cuda or cpu."


def _seed_option(value: int) -> int:
    return check_option(value, "--seed", 0, SEED_LIMIT, high_open=True)


_TIME_HELP = ("Stop cleanly (last.pt written) at the first step after this much training time: seconds, or "
              "with a unit (90m, 2h, 1.5h); --resume continues from there. For campaigns run in slices.")
_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str | None) -> float | None:
    """``--time-limit`` text as seconds: ``3600``, ``90m``, ``2h``, ``1.5h``, ``45s`` (one clear error otherwise)."""
    if text is None:
        return None
    raw = text.strip().lower()
    unit = next((u for u in sorted(_UNITS, key=len, reverse=True) if raw.endswith(u)), "")
    try:
        seconds = float(raw[:len(raw) - len(unit)]) * _UNITS.get(unit, 1.0)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration (seconds, or 90m, 2h)",
                                 param_hint="--time-limit") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise typer.BadParameter(f"{text!r}: must be a positive duration", param_hint="--time-limit")
    return seconds


def _quiet_threads() -> None:
    """Idle OpenMP threads sleep instead of spinning (set before torch loads; ``OMP_WAIT_POLICY`` overrides).

    On a 2-core machine shared with other jobs, spinning threads made training steps ~4x slower.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _report(result, what: str) -> None:
    if int(os.environ.get("RANK", "0")) != 0:
        return
    best = "-" if not math.isfinite(result.best_metric) else f"{result.best_metric:.4f}"
    state = "finished" if result.finished else "stopped"
    typer.echo(f"{what} {state}: {result.steps} steps, {result.epochs_done} epochs, best validation "
               f"{'ICPF' if what == 'training' else 'error'} {best}, {result.images_per_second:.2f} images/s; "
               f"checkpoints in {result.run_dir}")


@app.command("pretrain")
def pretrain_cmd(
    data: list[Path] = typer.Argument(..., help="Training files of single-particle images (preset 'single')."),
    val: list[Path] = typer.Option(..., "--val", help="Validation file (repeatable)."),
    output: Path = typer.Option(..., "-o", "--output", help="Run directory (checkpoints, logs)."),
    model: str = typer.Option(None, "--model", help=_MODEL_HELP),
    training: str = typer.Option(None, "--training", help=_TRAIN_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in OUTPUT from its last.pt."),
    device: str = typer.Option("auto", "--device", help=_DEVICE_HELP),
    settings: list[str] = typer.Option(None, "--set", help=_SET_HELP),
    time_limit: str = typer.Option(None, "--time-limit", help=_TIME_HELP),
) -> None:
    """Pretrain the U-ResNet encoder as a 5-class particle classifier (e-, gamma, mu-, pi-, p) for transfer learning."""
    _quiet_threads()
    from larseg.train import pretrain

    result = pretrain(data, val, output, model, training, settings=parse_settings(settings), resume=resume,
                      time_limit=parse_duration(time_limit),
                      device=device)
    _report(result, "pretraining")


@app.command("train")
def train_cmd(
    data: list[Path] = typer.Argument(..., help="Training files (larseg/larcv3 HDF5)."),
    val: list[Path] = typer.Option(..., "--val", help="Validation file (repeatable)."),
    output: Path = typer.Option(..., "-o", "--output", help="Run directory (checkpoints, logs)."),
    model: str = typer.Option(None, "--model", help=_MODEL_HELP),
    training: str = typer.Option(None, "--training", help=_TRAIN_HELP),
    init_encoder: Path = typer.Option(None, "--init-encoder", help="A 'larseg pretrain' checkpoint: start the "
                                                                   "encoder from its weights (transfer learning)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in OUTPUT from its last.pt."),
    device: str = typer.Option("auto", "--device", help=_DEVICE_HELP),
    settings: list[str] = typer.Option(None, "--set", help=_SET_HELP),
    time_limit: str = typer.Option(None, "--time-limit", help=_TIME_HELP),
) -> None:
    """Train the U-ResNet (track/shower pixel labelling) with the paper's recipe; torchrun for several GPUs."""
    _quiet_threads()
    from larseg.train import train

    result = train(data, val, output, model, training, settings=parse_settings(settings),
                   init_encoder=init_encoder, resume=resume, device=device,
                   time_limit=parse_duration(time_limit))
    _report(result, "training")


@app.command("plot-training")
def plot_training_cmd(
    run: Path = typer.Argument(..., help="A run directory of 'larseg train' or 'larseg pretrain'."),
    output: Path = typer.Option(None, "-o", "--output", help="PNG file (default RUN/training.png)."),
    window: int = typer.Option(200, "--window", min=1, help="Running-average window in steps (the paper: 200)."),
) -> None:
    """Draw the paper's Fig. 5 for a run: loss and ICPF against epoch, with running averages."""
    from larseg.train.plot import plot_training

    typer.echo(f"wrote {plot_training(run, output, window)}")


@app.command("recalibrate")
def recalibrate_cmd(
    checkpoint: Path = typer.Argument(..., help="A U-ResNet checkpoint (file or run directory: its best.pt)."),
    data: list[Path] = typer.Argument(..., help="Training files whose whole images give the statistics."),
    output: Path = typer.Option(..., "-o", "--output", help="The recalibrated checkpoint (a new file)."),
    batches: int = typer.Option(60, "--batches", min=1, help="Batches of whole images averaged."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Images per batch."),
    seed: int = typer.Option(0, "--seed", callback=_seed_option, help="Seed of the image choice, in [0, 2**63)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Recompute a checkpoint's BatchNorm running statistics as a plain average over training images."""
    from larseg.train.bn import recalibrate_checkpoint

    rec = recalibrate_checkpoint(checkpoint, data, output, batches, batch_size, seed, device=device)
    typer.echo(f"wrote {output}: BatchNorm statistics from {rec['batches']} batches of {batch_size} images "
               f"(plane {rec['plane']}, threshold {rec['threshold']:g})")
