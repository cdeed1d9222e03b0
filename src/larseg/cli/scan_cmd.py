"""``larseg scan``: a thin command over larseg.scan (the hand-scanning web application)."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from larseg.cli.app import app
from larseg.errors import LarsegError


@app.command("scan")
def scan_cmd(
    files: list[Path] = typer.Argument(..., help="Event files to scan: larcv3 HDF5, LArCV1/2 ROOT, npy/npz."),
    labels: Path = typer.Option(..., "--labels", help="The labels file (HDF5, larcv3 layout) this scanner "
                                                      "writes; created if missing, continued if present."),
    model: Path = typer.Option(None, "--model", help="A model: its labels and scores as an overlay."),
    predictions: Path = typer.Option(None, "--predictions", help="A 'larseg predict' file of the same FILES "
                                                                 "(instead of --model)."),
    scanner: str = typer.Option(None, "--scanner", help="Your name, recorded with every label (default: "
                                                        "the login name)."),
    plane: list[int] = typer.Option(None, "--plane", help="Planes to show (repeatable; default all)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; the default is this "
                                                         "machine only. 0.0.0.0 exposes it to the network."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port (0: a free one)."),
    blind: bool = typer.Option(False, "--blind", help="Hide the network and truth overlays (unbiased scans)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the URL only; do not open a browser."),
    producer: str = typer.Option(None, "--producer", help="Image producer to read (larcv3/ROOT files)."),
) -> None:
    """Label pixels by hand (track, shower, ignore) in the browser; every edit is saved as it is made."""
    try:
        from larseg.scan.server import serve  # FastAPI and uvicorn: the 'scan' extra
    except ImportError as exc:
        raise LarsegError(f"larseg scan needs the 'scan' extra (pip install 'larseg[scan]'): {exc}") from None
    from larseg.scan.session import ScanSession

    session = ScanSession(files, labels, scanner or getpass.getuser(), model=model, predictions=predictions,
                          blind=blind, planes=plane or None, producer=producer)
    serve(session, host, port, open_browser=not no_browser, log=typer.echo)
