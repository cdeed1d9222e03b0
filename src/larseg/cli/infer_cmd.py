"""``larseg predict`` and ``larseg export``: run a trained network on files; export it to ONNX."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from larseg.cli.app import app
from larseg.errors import LarsegError


def parse_planes(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        planes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise LarsegError(f"--planes {text!r}: expected projection ids separated by commas, e.g. 0,1,2") from None
    if not planes or any(p < 0 for p in planes) or len(set(planes)) != len(planes):
        raise LarsegError(f"--planes {text!r}: expected distinct projection ids >= 0, e.g. 0,1,2")
    return planes


def _threads() -> None:
    # idle OpenMP threads sleep instead of spinning on a shared machine (see 'larseg train')
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@app.command("predict")
def predict_cmd(
    model: Path = typer.Argument(..., help="Checkpoint (.pt), training run directory, or exported .onnx model."),
    inputs: list[Path] = typer.Argument(..., help="Input files: larcv3 .h5, LArCV1/2 .root, .npy or .npz."),
    output: Path = typer.Option(..., "-o", "--output", help="Output HDF5 file (larcv3 layout)."),
    planes: str = typer.Option(None, "--planes", help="Projection ids to label, e.g. 0,1,2. Default: every plane."),
    producer: str = typer.Option(None, "--producer", help="Image product to read (larcv3: sparse2d, ROOT: "
                                                          "image2d). Default: wire, or the only one."),
    batch: int = typer.Option(1, "--batch", min=1, help="Images (or tiles) per forward pass."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or auto."),
    backend: str = typer.Option(None, "--backend", help="torch or onnx (default: onnx for .onnx models, else "
                                                        "torch; onnx with a checkpoint exports it in memory)."),
    mode: str = typer.Option("full", "--mode", help="full: whole images, zero-padded; tiles: overlapping "
                                                    "tiles, blended."),
    tile: int = typer.Option(512, "--tile", min=1, help="Tile side in pixels (--mode tiles)."),
    overlap: int = typer.Option(128, "--overlap", min=0, help="Minimum overlap of tiles in pixels (--mode tiles)."),
    threshold: float = typer.Option(None, "--threshold", min=0.0, help="Pixels below are zeroed and not labelled "
                                                                     "(default: the network's own, from training)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from OUTPUT.partial."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Label every pixel of every plane of every event: track and shower scores and the argmax label."""
    _threads()
    from larseg.infer import load_model, predict_files
    from larseg.progress import progress_bar

    plane_list = parse_planes(planes)
    if mode not in ("full", "tiles"):
        raise LarsegError(f"--mode {mode}: expected full or tiles")
    net = load_model(model, device=device, backend=backend, threshold=threshold)
    result = predict_files(
        net, inputs, output, mode=mode, planes=plane_list, producer=producer, batch=batch, tile=tile,
        overlap=overlap, resume=resume, overwrite=overwrite,
        progress_factory=lambda total, done: progress_bar(total, "predict", unit="ev", completed=done),
    )
    per_event = f", {result.seconds / result.n_predicted:.2f} s/event" if result.n_predicted else ""
    typer.echo(f"wrote {result.n_entries} events to {result.path} ({result.n_predicted} predicted now, "
               f"{result.n_planes} planes, {result.empty_planes} empty, {result.n_pixels} pixels labelled; "
               f"{net.backend} {mode}{per_event})")


@app.command("export")
def export_cmd(
    model: Path = typer.Argument(..., help="Checkpoint (.pt) or training run directory."),
    output: Path = typer.Option(..., "-o", "--output", help="ONNX file to write."),
    opset: int = typer.Option(17, "--opset", min=7, help="ONNX opset (17 runs on onnxruntime >= 1.14)."),
    check: bool = typer.Option(True, "--check/--no-check", help="Compare onnxruntime with PyTorch at two sizes."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Export a trained network to ONNX (dynamic batch and image size), checked against PyTorch."""
    _threads()
    from larseg.infer import export_onnx, parity
    from larseg.model.io import load_network

    if output.suffix.lower() != ".onnx":
        raise LarsegError(f"{output}: an ONNX export must end in .onnx")
    if output.exists() and not overwrite:
        raise LarsegError(f"{output}: exists already (use --overwrite to replace it)")
    net = load_network(model)
    data = export_onnx(net, output, opset=opset, source=str(model))
    typer.echo(f"wrote {output} ({len(data) / 1e6:.1f} MB, opset {opset}, model preset '{net.config.name}', "
               f"input (N, 1, H, W) with H, W multiples of {net.config.multiple})")
    if check:
        diffs = parity(net, data)
        sizes = ", ".join(f"{k}: {v:.2e}" for k, v in diffs.items() if k != "max")
        typer.echo(f"onnxruntime vs PyTorch softmax scores, max abs difference: {diffs['max']:.2e} ({sizes})")
