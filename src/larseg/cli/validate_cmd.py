"""``larseg validate``: the simulator against outside references (one HTML report)."""

from __future__ import annotations

from pathlib import Path

import typer

from larseg.cli.app import app


@app.command("validate")
def validate_cmd(
    out: Path = typer.Option(Path("validate"), "-o", "--out", help="Folder for validate.html, .json, .md and figures."),
    group: list[str] = typer.Option(None, "--group", "-g",
                                    help="Only these groups (repeatable): showers, geant4, response."),
    quick: bool = typer.Option(False, "--quick", help="Fewer events (a smoke run, ~20 s; wider statistical spread)."),
    shared: Path = typer.Option(None, "--shared", help="The shared folder with fixtures/ (default: ../shared, "
                                "or $LARSEG_SHARED)."),
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 when a comparison FAILs unexplained."),
) -> None:
    """Compare the simulation with published parameterisations, Geant4 and MicroBooNE's response files.

    Each row: larseg's value, the reference, the tolerance, the source and a status
    (pass / FAIL / explained / info). Full run: a few minutes on 2 cores.
    """
    import os

    from larseg.validate.report import run_validation, summary

    if shared is not None:
        if not shared.is_dir():
            from larseg.errors import LarsegError

            raise LarsegError(f"{shared}: --shared is not a folder")
        os.environ["LARSEG_SHARED"] = str(shared)
    checks = run_validation(out, groups=group or None, quick=quick,
                            progress=lambda name: typer.echo(f"validate: {name} ...", err=True))
    counts = summary(checks)
    typer.echo(f"{out / 'validate.html'}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for c in checks:
        if c.status == "FAIL":
            typer.echo(f"  FAIL {c.group}: {c.name}: {c.value} vs {c.reference} +- {c.tolerance} {c.unit}")
    if strict and counts.get("FAIL"):
        raise typer.Exit(1)
