"""``larseg calibrate-gain``: the pixel scale of a detector config (the collection-plane MIP peak mode)."""

from __future__ import annotations

import typer

from larseg.cli.app import app
from larseg.errors import LarsegError


@app.command("calibrate-gain")
def calibrate_gain_cmd(
    tracks: int = typer.Option(300, "--tracks", "-n", min=1, help="Number of tracks (or muons), one per event."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed."),
    muons: bool = typer.Option(False, "--muons", help="1 GeV/c muons from the particle transport (Landau "
                               "fluctuations, delta rays) instead of straight 2.12 MeV/cm lines."),
    length: float = typer.Option(60.0, "--length", min=1.0, help="Length of the straight lines [cm]."),
    sample: str = typer.Option(None, "--sample", help="Use the detector of this simulation preset or YAML file "
                               "(default: the detector defaults)."),
    settings: list[str] = typer.Option(None, "--set", help="Override a detector setting: key=value, e.g. "
                                       "detector.response.electrons_per_unit=190 (repeatable)."),
) -> None:
    """Measure the collection-plane MIP peak-pixel mode (the paper's Fig. 9 finder) that sets the pixel scale.

    Straight minimum-ionising lines with isotropic directions go through the wire-plane
    response of the detector config; the mode of the peak-pixel values should be about 60
    (MicroBooNE: 40-70). Tune detector.response.electrons_per_unit with --set. See
    docs/detector.md, "Calibration of the pixel scale".
    """
    from larseg import config as cfg
    from larseg.cli.simulate_cmd import parse_settings
    from larseg.detector.calibration import measure_gain
    from larseg.detector.config import DetectorConfig

    detector = cfg.resolve("simulation", sample).detector if sample else DetectorConfig()
    overrides = {(k[len("detector."):] if k.startswith("detector.") else k): v
                 for k, v in parse_settings(settings).items()}
    if overrides:
        try:
            detector = cfg.replace(detector, **overrides)
        except LarsegError as exc:
            raise LarsegError(f"--set: {exc} (detector settings: geometry, readout, charge, response, dead_wires, "
                              "crop)") from None
    try:
        result = measure_gain(detector, n_tracks=tracks, seed=seed, muons=muons, length_cm=length)
    except ValueError as exc:
        raise LarsegError(f"calibrate-gain: {exc}") from None
    for line in result.lines():
        typer.echo(line)
