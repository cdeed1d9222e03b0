"""The ``larseg`` typer application, on which every subcommand module registers its commands."""

from __future__ import annotations

import typer
from rich.console import Console

from larseg._version import __version__

app = typer.Typer(
    name="larseg",
    help="Pixel-level track/shower labelling of LArTPC images (the MicroBooNE U-ResNet, PRD 99 092001).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"larseg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Pixel-level track/shower labelling of LArTPC images."""
