"""``larseg info``: what a data file holds."""

from __future__ import annotations

from pathlib import Path

import typer

from larseg.cli import app
from larseg.data.larcv3 import Larcv3File


@app.command("info")
def info_cmd(
    file: Path = typer.Argument(..., help="A larcv3-layout HDF5 file."),
    config: bool = typer.Option(False, "--config", help="Also print the config the file was made with."),
) -> None:
    """Entries, products and provenance of a data file."""
    f = Larcv3File(file)
    typer.echo(f"{file}: {f.n_entries} entries")
    for ptype, producers in f.products.items():
        if producers:
            typer.echo(f"  {ptype}: {', '.join(sorted(producers))}")
    meta = f.metadata
    for key in ("larseg_sample", "larseg_version", "git_commit", "seed"):
        if key in meta:
            typer.echo(f"  {key}: {meta[key]}")
    if config and "larseg_config" in meta:
        typer.echo(meta["larseg_config"], nl=False)
