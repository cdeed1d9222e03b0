"""``larseg info``: what an event file holds (any input format)."""

from __future__ import annotations

from pathlib import Path

import typer

from larseg.cli.app import app


@app.command("info")
def info_cmd(
    file: Path = typer.Argument(..., help="An event file: larseg/larcv3 HDF5, LArCV1/LArCV2 ROOT, .npy or .npz."),
    config: bool = typer.Option(False, "--config", help="Also print the config the file was made with."),
    producer: str = typer.Option(None, "--producer", help="Image product to describe (larcv3: sparse2d, ROOT: "
                                 "image2d; default wire, or the only image tree of a ROOT file)."),
) -> None:
    """Format, entries, products, truth labels and provenance of an event file."""
    from larseg.data.sources import open_input

    src = open_input(file, producer)
    typer.echo(f"{file}: {src.n_entries} entries ({src.format})")
    for ptype, producers in src.products.items():
        if producers:
            typer.echo(f"  {ptype}: {', '.join(sorted(producers))}")
    if src.unread:
        typer.echo(f"  not read: {', '.join(src.unread)}")
    if src.producer is not None:
        typer.echo(f"  images: {src.producer}")
    if src.n_entries:
        planes = ", ".join(f"{im.projection_id}: {im.image.shape[0]} x {im.image.shape[1]}" for im in src.images(0))
        typer.echo(f"  entry 0 planes (rows x wires): {planes or 'none'}")
    typer.echo(f"  truth labels: {src.label_source or 'none'}")
    meta = src.metadata
    for key in ("larseg_sample", "larseg_version", "git_commit", "seed"):
        if key in meta:
            typer.echo(f"  {key}: {meta[key]}")
    if config and "larseg_config" in meta:
        typer.echo(meta["larseg_config"], nl=False)
