"""The ``larseg`` command: a thin layer over the Python API.

Each subcommand lives in its own module and only parses options, calls the API
and prints. User mistakes raise :class:`larseg.errors.LarsegError`; :func:`main`
prints them as one line and exits with status 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from larseg import __version__
from larseg.errors import LarsegError

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


def _register() -> None:
    from larseg.cli import (  # noqa: F401  (commands register on import)
        config_cmd,
        data_cmd,
        eval_cmd,
        infer_cmd,
        simulate_cmd,
        train_cmd,
        validate_cmd,
    )


_register()


def main() -> None:
    try:
        app()
    except LarsegError as exc:
        err.print(f"larseg: error: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("larseg: interrupted", markup=False)
        sys.exit(130)
