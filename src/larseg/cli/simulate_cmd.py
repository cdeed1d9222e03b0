"""``larseg simulate``, ``larseg merge`` and ``larseg display``: make samples and look at them."""

from __future__ import annotations

from pathlib import Path

import typer

from larseg.cli.app import app
from larseg.config.base import SEED_LIMIT, cap_workers, check_option, parse_value
from larseg.errors import LarsegError

#: Most events of one sample (all shards): 10**9 is centuries of CPU time; it catches typos like 1e12.
MAX_EVENTS = 10**9


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return 0, 1
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise LarsegError(f"--shard {text!r}: expected i/n, e.g. 0/4") from None
    if not (n >= 1 and 0 <= i < n):
        raise LarsegError(f"--shard {text!r}: need 0 <= i < n")
    return i, n


def parse_settings(pairs: list[str] | None) -> dict:
    """``key.sub=value`` pairs (values parsed as YAML) for config overrides."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise LarsegError(f"--set {pair!r}: expected key=value, e.g. detector.response.gain_scale=0.8")
        out[key.strip()] = parse_value(value, f"--set {key.strip()}")
    return out


def _events_option(value: int) -> int:
    return check_option(value, "-n/--events", 1, MAX_EVENTS)


def _seed_option(value: int) -> int:
    return check_option(value, "--seed", 0, SEED_LIMIT, high_open=True,
                        why="seeds are stored as signed 64-bit integers")


def _workers_option(value: int) -> int:
    return check_option(value, "--workers", 1, MAX_EVENTS)


@app.command("simulate")
def simulate_cmd(
    sample: str = typer.Argument(..., help="Simulation preset (see 'larseg config list simulation') or a YAML file."),
    n: int = typer.Option(..., "-n", "--events", callback=_events_option,
                          help=f"Number of events in the whole sample (all shards), 1 to {MAX_EVENTS}."),
    output: Path = typer.Option(..., "-o", "--output", help="Output HDF5 file (larcv3 layout)."),
    seed: int = typer.Option(0, "--seed", callback=_seed_option,
                             help="Run seed in [0, 2**63); event k uses the seed sequence (seed, k)."),
    workers: int = typer.Option(1, "--workers", "-j", callback=_workers_option,
                                help="Parallel worker processes (at most one per event of the shard and per CPU "
                                     "core: more are lowered, with a note)."),
    shard: str = typer.Option(None, "--shard", help="i/n: write only the i-th of n equal blocks of events."),
    full_event: bool = typer.Option(False, "--full-event", help="Whole events instead of 512x512 crops."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from OUTPUT.partial."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
    settings: list[str] = typer.Option(None, "--set", help="Override a setting: key=value (repeatable)."),
) -> None:
    """Simulate a sample: generator, transport in argon, wire-plane response, crop; write a larcv3 file."""
    from larseg import config as cfg
    from larseg.progress import progress_bar
    from larseg.simulation import simulate_file
    from larseg.simulation.pipeline import shard_range

    config = cfg.resolve("simulation", sample)
    overrides = parse_settings(settings)
    if full_event:
        overrides["crop"] = False
    if overrides:
        config = cfg.replace(config, **overrides)
    shard_i, shard_n = parse_shard(shard)
    workers = cap_workers(workers, len(shard_range(n, (shard_i, shard_n))), "--workers", unit="events")
    result = simulate_file(
        config, n, output, seed=seed, workers=workers, shard=(shard_i, shard_n), resume=resume,
        overwrite=overwrite, progress_factory=lambda total, done: progress_bar(
            total, f"simulate {config.name}", unit="ev", completed=done),
    )
    typer.echo(f"wrote {result.n_entries} events to {result.path} ({result.seconds:.1f} s, "
               f"{result.rate:.2f} events/s)")


@app.command("merge")
def merge_cmd(
    output: Path = typer.Option(..., "-o", "--output", help="Merged file."),
    inputs: list[Path] = typer.Argument(..., help="Shard files, in shard order."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUTPUT if it exists."),
) -> None:
    """Concatenate the shards of a sample into one file (identical to a single-machine run)."""
    from larseg.simulation import merge_files

    n = merge_files(inputs, output, overwrite=overwrite)
    typer.echo(f"wrote {n} events to {output}")


@app.command("display")
def display_cmd(
    file: Path = typer.Argument(..., help="An event file: larseg/larcv3 HDF5, LArCV1/LArCV2 ROOT, .npy or .npz."),
    entry: list[int] = typer.Option(None, "--entry", "-e", help="Entry to draw (repeatable; default 0)."),
    output: Path = typer.Option(None, "-o", "--output",
                                help="PNG (or .pdf/.svg) file, or a directory (several entries, or any name "
                                     "without a picture suffix)."),
    zoom: bool = typer.Option(True, "--zoom/--no-zoom", help="Zoom each plane to its non-zero pixels."),
    model: Path = typer.Option(None, "--model", "-m",
                               help="Checkpoint or run directory: draw input | truth | prediction | shower score."),
    plane: list[int] = typer.Option(None, "--plane", "-p",
                                    help="With --model: plane(s) to predict (repeatable; default the model's)."),
    worst: int = typer.Option(0, "--worst", min=0,
                              help="With --model: draw the N entries with the highest ICPF (Fig. 18)."),
    max_events: int = typer.Option(None, "--max-events", min=1, help="With --worst: rank only the first N entries."),
    batch: int = typer.Option(4, "--batch", min=1, help="With --worst: images per forward pass."),
) -> None:
    """Draw entries: image, truth labels (track yellow, shower cyan) and instances, every plane.

    Any input format of 'larseg predict'; a file without truth labels is drawn as images only.
    With --model: input | truth | network prediction | shower-score heat map on the model's
    plane; --worst N shows the N entries the network gets most wrong (highest ICPF; needs labels).
    """
    from larseg.data.sources import open_input
    from larseg.viz.event_display import draw_planes, save

    f = open_input(file)
    sample = f.metadata.get("larseg_sample", file.stem)
    if (worst or plane) and model is None:
        raise LarsegError("--worst and --plane need --model")
    if worst and entry:
        raise LarsegError("give either --entry or --worst, not both")
    entry = list(entry) if entry else [0]
    if model is not None:
        _display_predictions(f, file, sample, model, entry, output, zoom, plane, worst, max_events, batch)
        return
    for k, path in zip(entry, _entry_pictures(output, file, entry, "entry", "display")):
        ev = f.read(k)
        save(draw_planes(ev.planes, title=_entry_title(sample, k, ev), zoom=zoom, truth=ev.has_labels), path)
        typer.echo(f"wrote {path}")


#: Suffixes matplotlib writes; any other --output of a one-picture display is a directory.
PICTURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def _picture_path(output: Path | None, name: str) -> Path:
    """``output`` if it names a picture file, else ``output/name`` (the directory is created)."""
    if output is None:
        return Path(name)
    if output.suffix.lower() in PICTURE_SUFFIXES:
        return output
    output.mkdir(parents=True, exist_ok=True)
    return output / name


def _entry_pictures(output: Path | None, file: Path, entries: list[int], tag: str, folder: str) -> list[Path]:
    """The picture of each entry: one file for one entry, else ``FILE-TAGk.png`` files in a directory
    (``output``, default ``FILE-FOLDER``)."""
    names = [f"{file.stem}-{tag}{k}.png" for k in entries]
    if len(entries) == 1:
        return [_picture_path(output, names[0])]
    directory = output or Path(f"{file.stem}-{folder}")
    directory.mkdir(parents=True, exist_ok=True)
    return [directory / n for n in names]


def _entry_title(sample: str, k: int, ev, extra: str = "") -> str:
    """Title of one entry's picture: sample, entry, run/event ids, and its primary particles."""
    from larseg.data.products import TRUTH
    from larseg.viz.event_display import particle_summary

    title = f"{sample}  entry {k}  (run {ev.run}, event {ev.event}){extra}"
    if TRUTH in ev.particle:
        title += "\n" + particle_summary(ev.particle[TRUTH])
    return title


def _display_predictions(f, file: Path, sample: str, model: Path, entries: list[int], output: Path | None,
                         zoom: bool, planes: list[int] | None, worst: int, max_events: int | None,
                         batch: int) -> None:
    from larseg.eval.display import prediction_rows, rank_by_icpf
    from larseg.eval.io import load_model_info
    from larseg.progress import progress_bar
    from larseg.viz.event_display import save
    from larseg.viz.prediction_display import draw_predictions

    info = load_model_info(model, planes[0] if planes else None)
    if worst:
        n = f.n_entries if max_events is None else min(f.n_entries, max_events)
        with progress_bar(n, f"rank {sample} by ICPF", unit="ev") as advance:
            ranked = rank_by_icpf(info, file, max_events, batch, advance)
        if not ranked:
            raise LarsegError(f"{file}: no entry with labelled pixels on plane {info.plane}")
        rows = []
        for k, _ in ranked[:worst]:
            rows += prediction_rows(info, file, k, planes)[0]
        path = _picture_path(output, f"{file.stem}-worst{worst}.png")
        title = (f"{sample}: the {len(ranked[:worst])} entries with the highest ICPF of {len(ranked)} events "
                 f"(model {model})")
        save(draw_predictions(rows, title=title, zoom=zoom), path)
        typer.echo(f"wrote {path}: entries " + ", ".join(f"{k} (ICPF {v:.3f})" for k, v in ranked[:worst]))
        return
    for k, path in zip(entries, _entry_pictures(output, file, entries, "predict-entry", "predict")):
        rows, ev = prediction_rows(info, file, k, planes)
        save(draw_predictions(rows, title=_entry_title(sample, k, ev, f", model {model}"), zoom=zoom), path)
        typer.echo(f"wrote {path}")
