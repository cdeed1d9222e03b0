"""Making samples: one entry from (config, seed, index); files in parallel, shards, resumable."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from larseg import detector
from larseg.config import provenance_yaml
from larseg.data.larcv3 import ImageMeta, Larcv3File, Larcv3Writer
from larseg.data.products import EntryTruth, PlaneImage, neutrino_record, to_event
from larseg.data.resume import check_same_settings, not_resumable, partial_metadata
from larseg.errors import DataFileError, LarsegError
from larseg.physics import transport
from larseg.physics.generators import Interaction, generate
from larseg.physics.truth import is_shower_pdg
from larseg.provenance import provenance
from larseg.simulation.config import SimulationConfig


def entry_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of event ``index`` of run ``seed`` (independent of shards and workers)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


def _michel_rows(particles: np.ndarray) -> np.ndarray:
    """Rows of the decay electrons of the primary muon (track 0)."""
    return np.flatnonzero((particles["process"] == b"Decay") & is_shower_pdg(particles["pdg"])
                          & (particles["parent_id"] == 0))


def _constraints(config: SimulationConfig, interaction: Interaction, particles: np.ndarray) -> np.ndarray:
    """The CRA constraint points: the vertex, or for Michel events the decay point and time."""
    if interaction.mode == "michel":
        rows = _michel_rows(particles)
        point = particles["start"][rows[0]] if len(rows) else particles["end"][0]
        return point[None, :4].copy()  # with the decay time: its charge arrives later
    return np.asarray(interaction.vertex, dtype=np.float64)[None, :]


def _plane_image(window, det) -> PlaneImage:
    """A detector window as larseg's product, with its place in the full plane in the meta."""
    r0, c0, n_rows, n_cols = window.window
    pitch = det.geometry.planes[window.plane].pitch_cm
    ro = det.readout
    row_cm = ro.ticks_per_row / ro.sampling_mhz * ro.drift_velocity_cm_per_us
    meta = ImageMeta.for_dense(window.plane, n_rows, n_cols, (pitch, row_cm), origin=(c0 * pitch, r0 * row_cm))
    return PlaneImage(meta, window.image, window.label, window.instance, window.vertex)


class StageTimer:
    """Seconds spent per stage, summed over calls (for benchmarks and profiling)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._t
        self._t = now

    def restart(self) -> None:
        self._t = time.perf_counter()


def transport_entry(config: SimulationConfig, seed: int, index: int, timer: StageTimer | None = None):
    """Generate and transport event ``index`` of run ``seed``: ``(interaction, SimEvent, rng)``.

    The first stage of :func:`simulate_entry`, for studies of the particle
    truth alone; ``rng`` is the event's random stream, positioned where the
    detector simulation continues it.
    """
    timer = timer or StageTimer()
    rng = entry_rng(seed, index)
    g = config.detector.geometry
    active = (g.x_min_cm, g.x_max_cm, g.y_min_cm, g.y_max_cm, g.z_min_cm, g.z_max_cm)
    tries = config.generator.michel.max_tries if config.generator.kind == "michel" else 1
    for _ in range(tries):
        interaction = generate(config.generator, active, rng)
        timer.lap("generate")
        event = transport(interaction.as_array(), rng, config.physics)
        timer.lap("transport")
        if config.generator.kind != "michel" or not config.generator.michel.require_michel \
                or len(_michel_rows(event.particles)):
            return interaction, event, rng
    raise RuntimeError(f"no decaying muon in {tries} tries (event {index}, seed {seed})")


def simulate_entry(config: SimulationConfig, seed: int, index: int, timer: StageTimer | None = None) -> EntryTruth:
    """Simulate event ``index`` of run ``seed``: the same inputs always give the same bytes.

    ``timer`` (optional) accumulates the seconds of each stage: generate,
    transport, detector, crop, render.
    """
    timer = timer or StageTimer()
    timer.restart()
    interaction, event, rng = transport_entry(config, seed, index, timer)
    constraints = _constraints(config, interaction, event.particles)
    planes = detector.simulate_planes(event.deposits, event.particles, interaction.vertex, config.detector, rng)
    timer.lap("detector")
    windows = detector.crop_box(planes, constraints, config.detector).windows if config.crop else None
    timer.lap("crop")
    planes = [_plane_image(w, config.detector) for w in detector.render(planes, windows)
              if w.plane in config.planes]
    timer.lap("render")
    neutrino = None
    if interaction.nu_pdg:
        neutrino = neutrino_record(interaction.nu_pdg, interaction.nu_energy, interaction.mode, interaction.vertex)
    return EntryTruth(planes=planes, particles=event.particles, neutrino=neutrino, ids=(int(seed), 0, int(index)))


# --- files


@dataclass
class SimulationResult:
    path: Path
    n_entries: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.n_entries / self.seconds if self.seconds > 0 else float("nan")


def shard_range(n_events: int, shard: tuple[int, int]) -> range:
    """Event indices of shard ``i`` of ``n``: contiguous blocks, so shards concatenate in order."""
    i, n = shard
    return range(i * n_events // n, (i + 1) * n_events // n)


def file_metadata(config: SimulationConfig, seed: int, n_events: int, shard: tuple[int, int]) -> dict[str, str]:
    meta = {"larseg_config": provenance_yaml(config), "larseg_sample": config.name, "seed": str(seed),
            "n_events_total": str(n_events), "shard": f"{shard[0]}/{shard[1]}"}
    meta.update(provenance())
    return meta


def resume_settings(metadata: dict[str, str]) -> dict:
    """What a resumed run must share with its partial file, from a file's :func:`file_metadata`.

    The seed, preset, crop/full-event mode, shard, larseg version and the whole
    resolved config (generator, physics, detector: after ``--set``) decide the bytes
    of every event. The event count only decides which events a shard holds:
    event ``k`` depends on ``(config, seed, k)`` alone, so an unsharded run may be
    resumed with another ``-n`` (its first events are the same), a sharded one not.
    The config's description and the git commit are not compared.
    """
    config = yaml.safe_load(metadata["larseg_config"]) or {}
    config.pop("description", None)
    shard = metadata.get("shard", "0/1")
    settings = {"seed": int(metadata["seed"]), "preset": metadata.get("larseg_sample"),
                "mode": "crop" if config.get("crop", True) else "full-event", "shard": shard}
    if shard != "0/1":
        settings["events"] = int(metadata["n_events_total"])
    settings["larseg_version"] = metadata.get("larseg_version")
    return {**settings, **{k: v for k, v in config.items() if k not in settings}}


def check_resumable(partial: Path, metadata: dict[str, str], n_wanted: int) -> None:
    """Refuse to continue ``partial`` unless it was written with the same settings (see :func:`resume_settings`)
    and holds at most ``n_wanted`` events. Only reads the file."""
    before, done = partial_metadata(partial)
    try:
        recorded = resume_settings(before)
    except (KeyError, ValueError, AttributeError, yaml.YAMLError):  # not the metadata of file_metadata()
        raise not_resumable(partial, "simulate") from None
    check_same_settings(partial, recorded, resume_settings(metadata))
    if done > n_wanted:
        raise DataFileError(partial, f"holds {done} events, more than the {n_wanted} asked for")


def _worker(args) -> EntryTruth:
    config, seed, index = args
    return simulate_entry(config, seed, index)


def simulate_file(config: SimulationConfig, n_events: int, path: str | Path, *, seed: int = 0, workers: int = 1,
                  shard: tuple[int, int] = (0, 1), resume: bool = False, overwrite: bool = False,
                  progress_factory: Callable | None = None) -> SimulationResult:
    """Write events ``shard_range(n_events, shard)`` of run ``seed`` to ``path``.

    ``progress_factory(total, done)`` is a context manager yielding ``advance(n)``
    (the CLI passes a progress bar). With ``resume`` an interrupted run's
    ``.partial`` file is continued from its last complete event.
    """
    path = Path(path)
    _check_suffix(path)
    if path.exists() and not overwrite:
        raise DataFileError(path, "exists already (use --overwrite to replace it)")
    indices = shard_range(n_events, shard)
    metadata = file_metadata(config, seed, n_events, shard)
    partial = path.with_name(path.name + ".partial")
    if resume and partial.exists():
        check_resumable(partial, metadata, len(indices))
    writer = Larcv3Writer(path, metadata, resume=resume, overwrite=True)
    done = writer.n_entries
    todo = [(config, seed, k) for k in indices[done:]]
    start = time.perf_counter()
    bar = progress_factory(len(indices), done) if progress_factory else nullcontext(lambda n=1: None)
    pool = None
    try:
        with bar as advance:
            if workers > 1 and len(todo) > 1:
                pool = mp.get_context("fork").Pool(workers)
                entries: Iterable[EntryTruth] = pool.imap(_worker, todo, chunksize=1)
            else:
                entries = map(_worker, todo)
            for entry in entries:
                writer.write(to_event(entry))
                advance(1)
    except BaseException:
        writer.abort()
        raise
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    writer.close()
    return SimulationResult(path, len(indices), time.perf_counter() - start)


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in (".h5", ".hdf5"):
        raise DataFileError(path, "output must be an HDF5 file (.h5)")


def merge_files(inputs: Sequence[str | Path], output: str | Path, overwrite: bool = False) -> int:
    """Concatenate shard files (in the order given) into ``output``; they must share a config and seed."""
    output = Path(output)
    _check_suffix(output)
    if any(Path(p).resolve() == output.resolve() for p in inputs):
        raise DataFileError(output, "is also an input: choose another output file (the inputs are kept as they are)")
    if output.exists() and not overwrite:
        raise DataFileError(output, "exists already (use --overwrite to replace it)")
    files = [Larcv3File(p) for p in inputs]
    if not files:
        raise LarsegError("merge: no input files")
    first = files[0].metadata
    for f in files[1:]:
        meta = f.metadata
        for key in ("larseg_config", "seed"):
            if meta.get(key) != first.get(key):
                raise DataFileError(f.path, f"cannot merge: its {key} differs from {files[0].path}'s")
    metadata = {**first, "shard": "0/1"}
    n = 0
    with Larcv3Writer(output, metadata, overwrite=True) as w:
        for f in files:
            for event in f:
                w.write(event)
                n += 1
    return n
