"""``larseg evaluate``, ``larseg study ...`` and ``larseg report``: thin commands over larseg.eval."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from larseg.cli.app import app
from larseg.errors import LarsegError

study_app = typer.Typer(help="The paper's studies: kinematics, pixel scaling, peaks, masking, data/simulation; "
                             "label semantics.", no_args_is_help=True)
app.add_typer(study_app, name="study")

_MODEL = "Checkpoint file or training run directory (its best.pt)."
_PLANE = "Wire plane (0 U, 1 V, 2 Y); default: the one the network was trained on."
_MAX = "Use only the first N entries of each file."
_BATCH = "Images per forward pass."
_FORCE = "Recompute results that a previous run left in the output directory."
_DEVICE = "cpu, cuda or auto (CUDA when present)."
# options shared by the commands that run the network over sample files
_PLANE_OPT = typer.Option(None, "--plane", min=0, max=2, help=_PLANE)
_MAX_OPT = typer.Option(None, "--max-events", "-n", min=1, help=_MAX)
_BATCH_OPT = typer.Option(4, "--batch", "-b", min=1, help=_BATCH)
_FORCE_OPT = typer.Option(False, "--force", help=_FORCE)
_DEVICE_OPT = typer.Option("cpu", "--device", help=_DEVICE)


def _quiet_threads() -> None:
    # Idle OpenMP threads sleep instead of spinning (matters on a shared 2-core machine).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _bar(description: str):
    from larseg.progress import progress_bar

    return lambda total: progress_bar(total, description, unit="ev")


def _pct(x) -> str:
    return "-" if x is None or x != x else f"{100 * x:.2f}%"


@app.command("evaluate")
def evaluate_cmd(
    model: Path = typer.Argument(..., help=_MODEL),
    files: list[Path] = typer.Argument(..., help="Sample files with truth labels, one sample each: larcv3 HDF5 "
                                       "(e.g. data/1e1p.h5), LArCV1/2 ROOT with an image2d_segment_tree, or .npz "
                                       "with labels."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory."),
    plane: int = _PLANE_OPT,
    max_events: int = _MAX_OPT,
    batch: int = _BATCH_OPT,
    force: bool = _FORCE_OPT,
    device: str = _DEVICE_OPT,
) -> None:
    """Table I, Fig. 6 and Fig. 8 (b, c) of the paper for a network on simulated samples.

    Writes table1.md/.csv/.json (ours beside the paper's), fig6_icpf_*.png, fig8_scores_*.png,
    evaluation.json and samples/<sample>/events.jsonl (per-event metrics and truth kinematics).
    A file whose results are already in the output directory is not evaluated again.
    """
    _quiet_threads()
    from larseg.eval.evaluate import evaluate
    from larseg.eval.io import load_model_info

    info = load_model_info(str(model), plane, device=device)
    res = evaluate(info, files, output, max_events=max_events, batch=batch, progress=_bar("evaluate"), force=force)
    typer.echo((output / "table1.md").read_text(), nl=False)
    if res.n_reused:
        typer.echo(f"reused the results of {res.n_reused} file(s) already in {output}")
    typer.echo(f"wrote {output}/table1.md, {len(res.figures)} figures, per-event records in {output}/samples/")


@study_app.command("kinematics")
def kinematics_cmd(
    results: Path = typer.Argument(..., help="Output directory of 'larseg evaluate' (with 1e1p and/or 1e1p-le)."),
    output: Path = typer.Option(None, "-o", "--output", help="Where to write (default: RESULTS)."),
    panel: list[str] = typer.Option(None, "--panel",
                                    help="SAMPLE:VARIABLE (repeatable); VARIABLE: opening_angle, ke:PDG, "
                                         "nu_energy, n_pixels. Default: the paper's three panels."),
    bins: int = typer.Option(8, "--bins", min=1, help="Bins of the energy variables."),
) -> None:
    """Fig. 7: ICPF vs opening angle (1e1p) and vs electron / proton kinetic energy (1e1p-le)."""
    from larseg.eval.kinematics import DEFAULT_PANELS, kinematics_study

    res = kinematics_study(results, output, panel or DEFAULT_PANELS, bins)
    for p in res["panels"]:
        typer.echo(f"{p['sample']} {p['variable']}: {p['n_events']} events in {len(p['counts'])} bins")
    if res["skipped"]:
        typer.echo(f"skipped (sample not evaluated): {', '.join(res['skipped'])}")
    typer.echo(f"wrote {res['figure']}")


@study_app.command("scaling")
def scaling_cmd(
    model: Path = typer.Argument(..., help=_MODEL),
    file: Path = typer.Argument(..., help="Sample file."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory."),
    factors: str = typer.Option("0.7,0.8,0.9,1.0,1.1,1.2,1.3", "--factors", help="Pixel value scale factors."),
    plane: int = _PLANE_OPT,
    max_events: int = _MAX_OPT,
    batch: int = _BATCH_OPT,
    force: bool = _FORCE_OPT,
    device: str = _DEVICE_OPT,
) -> None:
    """Figs. 10 / 17: ICPF mean and shower / track disagreement vs a pixel value scale factor."""
    _quiet_threads()
    from larseg.eval.io import load_model_info
    from larseg.eval.scaling import parse_factors, scaling_study

    info = load_model_info(str(model), plane, device=device)
    res = scaling_study(info, file, output, parse_factors(factors), max_events=max_events,
                        batch=batch, progress=_bar("scaling"), force=force)
    typer.echo("| factor | ICPF mean | shower | track |\n|---|---|---|---|")
    for r in res["rows"]:
        typer.echo(f"| {r['factor']:g} | {_pct(r['icpf_mean'])} | {_pct(r['shower_error'])} | "
                   f"{_pct(r['track_error'])} |")
    typer.echo(f"wrote {res['figure']} and {output}/scaling.json")


def _pair(text: str, what: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise LarsegError(f"{what} {text!r}: expected low,high") from None
    return a, b


@study_app.command("peaks")
def peaks_cmd(
    file_a: Path = typer.Argument(..., help="First sample (e.g. the nominal simulation)."),
    file_b: Path = typer.Argument(..., help="Second sample (e.g. data, or a data-like simulation)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory."),
    plane: int = typer.Option(2, "--plane", min=0, max=2, help="Wire plane (default: collection)."),
    max_events: int = _MAX_OPT,
    track_only: bool = typer.Option(False, "--track-only", help="Only truth-track pixels (needs labels)."),
    value_range: str = typer.Option("0,200", "--range", help="Histogram range low,high [pixel units]."),
    bin_width: float = typer.Option(2.0, "--bin-width", min=0.01, help="Histogram bin width."),
) -> None:
    """Fig. 9: the 3-pixel peak finder's peak values for two samples and the ratio of the peak positions."""
    from larseg.eval.peaks import peaks_study

    low, high = _pair(value_range, "--range")
    res = peaks_study(file_a, file_b, output, plane=plane, max_events=max_events, track_only=track_only,
                      low=low, high=high, bin_width=bin_width)
    typer.echo(f"peak positions: {res['sample_a']} {res['peak_a']:.1f}, {res['sample_b']} {res['peak_b']:.1f}; "
               f"ratio B/A {res['ratio']:.3f}, fitted scale {res['fit_scale']:.3f}")
    typer.echo(f"wrote {res['figure']} and {output}/peaks.json")


@study_app.command("mask")
def mask_cmd(
    model: Path = typer.Argument(..., help=_MODEL),
    file: Path = typer.Argument(..., help="Sample file."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory."),
    entry: int = typer.Option(None, "--entry", "-e", min=0,
                              help="Entry (default 0; with --preset michel the first entry showing every case)."),
    rect: list[str] = typer.Option(None, "--rect", help="Keep rows r0..r1-1, columns c0..c1-1: r0,c0,r1,c1."),
    polygon: list[str] = typer.Option(None, "--polygon", help="Keep pixels inside: r,c;r,c;r,c;..."),
    instances: str = typer.Option(None, "--instances", help="Keep these particle instances: 1,2."),
    preset: str = typer.Option(None, "--preset", help="'michel': the paper's Figs. 12-15 from the truth."),
    lengths: str = typer.Option("5,10,20,40", "--lengths", help="With --preset michel: muon piece lengths [px]."),
    start_px: float = typer.Option(6.0, "--michel-start", min=1, help="First Michel pixels: distance [px]."),
    plane: int = _PLANE_OPT,
) -> None:
    """Figs. 12-15: keep only chosen pixels (all else zeroed), run the network, draw the scores."""
    _quiet_threads()
    from larseg.eval.masking import mask_study, parse_ids, parse_polygon, parse_rect

    rects = [parse_rect(r) for r in rect or []]
    polys = [parse_polygon(p) for p in polygon or []]
    ids = parse_ids(instances) if instances else None
    if preset is None and not (rects or polys or ids):
        raise LarsegError("choose pixels with --rect, --polygon or --instances, or use --preset michel")
    if preset is not None and (rects or polys or ids):
        raise LarsegError("--preset makes its own selections; do not combine it with --rect/--polygon/--instances")
    try:
        lens = [int(v) for v in lengths.split(",") if v.strip()]
    except ValueError:
        raise LarsegError(f"--lengths {lengths!r}: expected integers, e.g. 5,10,20,40") from None
    if not lens or min(lens) < 1:
        raise LarsegError(f"--lengths {lengths!r}: need positive lengths")
    res = mask_study(str(model), file, output, entry, rects=rects, polygons=polys, instances=ids, preset=preset,
                     lengths=lens, start_px=start_px, plane=plane)
    typer.echo(f"entry {res['entry']}:")
    typer.echo("| case | pixels | mean track score | mean shower score |\n|---|---|---|---|")
    for c in res["cases"]:
        t, s = c["mean_track_score"], c["mean_shower_score"]
        typer.echo(f"| {c['name']} | {c['n_pixels']} | {'-' if t is None else f'{t:.3f}'} | "
                   f"{'-' if s is None else f'{s:.3f}'} |")
    for fig in res["figures"]:
        typer.echo(f"wrote {fig}")


@study_app.command("data-sim")
def data_sim_cmd(
    model: Path = typer.Argument(..., help=_MODEL),
    file_sim: Path = typer.Argument(..., help="Nominal simulation (e.g. a michel sample)."),
    file_datalike: Path = typer.Argument(..., help="Data-like simulation (e.g. michel-datalike) or data."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory."),
    plane: int = _PLANE_OPT,
    max_events: int = _MAX_OPT,
    batch: int = _BATCH_OPT,
    force: bool = _FORCE_OPT,
    device: str = _DEVICE_OPT,
) -> None:
    """Tables II / III, Figs. 8 and 16: the network on nominal vs data-like simulation."""
    _quiet_threads()
    from larseg.eval.datasim import data_sim_study
    from larseg.eval.io import load_model_info

    info = load_model_info(str(model), plane, device=device)
    data_sim_study(info, file_sim, file_datalike, output, max_events=max_events, batch=batch,
                   progress=_bar("data-sim"), force=force)
    typer.echo((output / "datasim.md").read_text(), nl=False)
    typer.echo(f"wrote {output}/datasim.md, datasim_icpf.png, datasim_scores.png")


@study_app.command("labels")
def labels_cmd(
    file: Path = typer.Argument(..., help="Sample file made by 'larseg simulate'."),
    output: Path = typer.Option(None, "-o", "--output", help="Also write labels.md and labels.json there."),
    plane: list[int] = typer.Option([2], "--plane", min=0, max=2,
                                    help="Wire plane (0 U, 1 V, 2 Y); repeatable. Default: collection."),
    max_events: int = _MAX_OPT,
    ambiguous: float = typer.Option(0.25, "--ambiguous", min=0.0, max=0.5,
                                    help="A pixel is ambiguous when the minority class holds more than this "
                                         "share of its charge."),
) -> None:
    """Label semantics: the share of labelled pixels holding both track and shower charge.

    A pixel's label is the class of the one particle that put the most charge
    in it. Files keep only that label, so the entries are re-simulated from
    the file's stored config and seed (this needs the larseg version that made
    the file; the re-simulated labels are checked against the stored ones).

    Per plane and label: mixed (charge of both classes), ambiguous (minority
    class above --ambiguous of the charge) and label != charge majority (one
    particle outweighs a class holding more charge). See docs/labels.md.
    """
    from larseg.eval.labels import labels_study

    res = labels_study(file, output, planes=plane, max_events=max_events, ambiguous=ambiguous,
                       progress=_bar("labels"))
    typer.echo(res["markdown"], nl=False)
    if output is not None:
        typer.echo(f"wrote {output}/labels.md and {output}/labels.json")


@study_app.command("scan")
def scan_study_cmd(
    data: list[Path] = typer.Option(None, "--data", help="Labels file (larseg scan --labels) of the data, one per "
                                    "scanner; repeatable."),
    sim: list[Path] = typer.Option(None, "--sim", help="Labels file of the simulation, one per scanner; "
                                   "repeatable."),
    model: Path = typer.Option(None, "--model", "-m", help=f"{_MODEL} Without it: only the truth-vs-physicist "
                               "and scanner-vs-scanner columns, no figures."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory."),
    title: str = typer.Option("", "--title", help="Sample name for the table and figures, e.g. Michel."),
    max_events: int = typer.Option(None, "--max-events", "-n", min=1,
                                   help="Use only the first N labelled events of each labels file."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Bootstrap resamplings of the events for the "
                                  "errors (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    done_only: bool = typer.Option(False, "--done-only", help="Only events the scanner marked done."),
    plane: int = typer.Option(None, "--plane", min=0, max=2,
                              help="Wire plane (0 U, 1 V, 2 Y); default: the network's, else 2."),
    device: str = _DEVICE_OPT,
) -> None:
    """Tables II / III, Figs. 8 / 16 and 18 from hand labels: physicist vs network, truth and other scanners.

    Writes table.md, table.json and, with --model, fig8_icpf.png, fig8_scores.png and fig18_worst.png.

    Values in percent, with bootstrap errors over events; the pixels each column compares are in docs/scan.md.
    """
    _quiet_threads()
    from larseg.eval.handscan import scan_study

    res = scan_study(data or [], sim or [], output, model=model, title=title, max_events=max_events,
                     bootstrap=bootstrap, seed=seed, done_only=done_only, plane=plane, device=device,
                     progress=_bar("scan study"))
    typer.echo(res["markdown"], nl=False)
    typer.echo(f"wrote {output}/table.md, table.json" + (f" and {len(res['figures'])} figures"
                                                         if res["figures"] else " (no figures without --model)"))


@app.command("report")
def report_cmd(
    results: Path = typer.Argument(..., help="Directory with evaluation / study outputs."),
    output: Path = typer.Option(None, "-o", "--output", help="HTML file (default: RESULTS/report.html)."),
    link: bool = typer.Option(False, "--link", help="Reference the PNGs by relative path instead of embedding."),
) -> None:
    """One HTML page: Table I, every figure in the directory, and the network and larseg provenance."""
    from larseg.eval.report import build_report

    path = build_report(results, output, embed=not link)
    typer.echo(f"wrote {path}")
