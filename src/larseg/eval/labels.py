"""``larseg study labels``: how many labelled pixels hold charge of both classes (docs/labels.md).

larseg labels a pixel by the single particle that put the most charge in it
(:func:`larseg.detector.simulate_planes`): shower (2) if that particle is an
e-, e+ or photon (:func:`larseg.physics.truth.is_shower_pdg`), else track (1).
Files keep only that final label, not the charge split behind it, so this
module recomputes, with the detector's own functions, the track charge and the
shower charge [electrons, before gain and noise] of every pixel:

- :func:`pixel_charges`: the split per pixel of an event's deposits (all pixels
  touched by charge), with the label the rule gives;
- :func:`labelled_charges`: the split of the labelled pixels of
  :class:`~larseg.detector.PlaneTruth` planes (after dead wires, noise and
  zero-suppression), optionally inside windows;
- :func:`label_counts`: mixed pixels (both classes present), ambiguous pixels
  (the minority class holds more than ``ambiguous`` of the charge) and pixels
  whose label differs from the class holding more charge;
- :func:`labels_study`: all that over the entries of a sample file, which is
  re-simulated from its stored config and seed (and checked against the stored
  labels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from larseg import config as cfg
from larseg import detector
from larseg.data.larcv3 import Larcv3File
from larseg.data.products import planes_from_event
from larseg.detector.config import DetectorConfig
from larseg.detector.geometry import Geometry
from larseg.detector.planes import pixel_particle_charge
from larseg.detector.response import drift_charge
from larseg.errors import DataFileError, LarsegError
from larseg.eval.io import write_json, write_text_atomic
from larseg.physics.truth import is_shower_pdg
from larseg.provenance import provenance
from larseg.simulation.config import SimulationConfig
from larseg.simulation.pipeline import _constraints, transport_entry

TRACK, SHOWER = 1, 2
CLASS_NAMES = {0: "all", TRACK: "track", SHOWER: "shower"}
PLANE_NAMES = ("U", "V", "Y")


@dataclass
class PixelCharge:
    """Track and shower charge of pixels of one plane, sorted by (row, col).

    ``label`` is the label larseg's rule gives the pixel: the class (1 track,
    2 shower) of the single particle holding the most charge in it.
    """

    plane: int
    row: np.ndarray  # int32
    col: np.ndarray  # int32
    track: np.ndarray  # float64 electrons from track particles
    shower: np.ndarray  # float64 electrons from e-, e+, photon descendants
    label: np.ndarray  # uint8
    #: a track particle and a shower particle of the same primary (ancestor) both put charge in the pixel
    one_primary: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.row)

    def select(self, mask) -> PixelCharge:
        return PixelCharge(self.plane, self.row[mask], self.col[mask], self.track[mask], self.shower[mask],
                           self.label[mask], self.one_primary[mask])

    @property
    def minority_fraction(self) -> np.ndarray:
        """Share of the pixel's charge held by the class with less charge (0 - 0.5)."""
        total = self.track + self.shower
        return np.divide(np.minimum(self.track, self.shower), total, out=np.zeros_like(total), where=total > 0)


def pixel_charges(deposits, particles: np.ndarray, config=None, planes: Sequence[int] = (0, 1, 2)
                  ) -> list[PixelCharge]:
    """The track / shower charge split of every pixel touched by charge, per plane of ``planes``.

    The same drift, spread and (pixel, particle) sums as
    :func:`larseg.detector.simulate_planes` (no noise: the split is of the true
    charge), so ``label`` equals the label the detector simulation gives the pixel.
    """
    config = config or DetectorConfig()
    geometry = Geometry(config)
    clouds = drift_charge(deposits, config, geometry)
    tracks, particle = np.unique(deposits.track[clouds.deposit], return_inverse=True)
    shower = is_shower_pdg(particles["pdg"][tracks])
    ancestors, ancestor = np.unique(particles["ancestor_id"][tracks], return_inverse=True)
    row_weights: dict = {}
    out = []
    for plane in planes:
        n_wires = geometry.planes[plane].n_wires
        if not len(clouds):
            i32, f64 = np.zeros(0, np.int32), np.zeros(0)
            out.append(PixelCharge(plane, i32, i32, f64, f64, np.zeros(0, np.uint8), np.zeros(0, bool)))
            continue
        pix, part, q = pixel_particle_charge(clouds, particle, len(tracks), plane, geometry, config, row_weights)
        start = np.flatnonzero(np.r_[True, pix[1:] != pix[:-1]])
        is_sh = shower[part]
        q_shower = np.add.reduceat(np.where(is_sh, q, 0.0), start)
        q_track = np.add.reduceat(np.where(is_sh, 0.0, q), start)
        # the dominant particle, as simulate_planes picks it (ties: the lower index)
        best = np.maximum.reduceat(q, start)
        segment = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(pix)]))
        is_best = np.flatnonzero(q == best[segment])
        first_best = is_best[np.r_[True, segment[is_best][1:] != segment[is_best][:-1]]]
        label = np.where(is_sh[first_best], SHOWER, TRACK).astype(np.uint8)
        # (pixel, primary) groups holding charge of both classes
        charged = q > 0
        key = pix[charged] * len(ancestors) + ancestor[part[charged]]
        keys, inverse = np.unique(key, return_inverse=True)
        n_shower = np.bincount(inverse, weights=is_sh[charged], minlength=len(keys))
        n_all = np.bincount(inverse, minlength=len(keys))
        both = keys[(n_shower > 0) & (n_shower < n_all)] // len(ancestors)
        row, col = np.divmod(pix[start], n_wires)
        out.append(PixelCharge(plane, row.astype(np.int32), col.astype(np.int32), q_track, q_shower, label,
                               np.isin(pix[start], both)))
    return out


def labelled_charges(truth, charges: Sequence[PixelCharge], windows=None) -> list[PixelCharge]:
    """The split of the labelled pixels of ``truth`` (``PlaneTruth`` list, indexed by plane number).

    ``charges`` from :func:`pixel_charges` of the same event; ``windows`` (by
    plane number, as ``(row0, col0, n_rows, n_cols)``) keeps only the pixels
    inside them, as :func:`larseg.detector.render` shows them. Raises
    ``RuntimeError`` if a labelled pixel has no charge or another label (a bug).
    """
    out = []
    for ch in charges:
        t = truth[ch.plane]
        keep = np.ones(len(t), bool)
        if windows is not None:
            r0, c0, nr, nc = (int(v) for v in windows[ch.plane])
            keep = (t.row >= r0) & (t.row < r0 + nr) & (t.col >= c0) & (t.col < c0 + nc)
        n_wires = t.shape[1]
        key = t.row[keep].astype(np.int64) * n_wires + t.col[keep]
        have = ch.row.astype(np.int64) * n_wires + ch.col
        at = np.searchsorted(have, key)
        found = at < len(have)
        found[found] = have[at[found]] == key[found]
        if not found.all():
            raise RuntimeError(f"plane {ch.plane}: {int((~found).sum())} labelled pixels hold no charge")
        sel = ch.select(at)
        if not np.array_equal(sel.label, t.label[keep]):
            raise RuntimeError(f"plane {ch.plane}: recomputed labels differ from the detector simulation's")
        out.append(sel)
    return out


#: The counters :func:`label_counts` returns, per class.
COUNT_KEYS = ("pixels", "mixed", "one_primary", "ambiguous", "flipped")


def label_counts(ch: PixelCharge, ambiguous: float = 0.25) -> dict[str, dict[str, int]]:
    """Counts of labelled pixels, per label class (``all``, ``track``, ``shower``).

    ``mixed``: both track and shower charge present; ``one_primary``: mixed pixels
    where a track and a shower particle of the same primary meet (a muon and its
    delta ray or Michel electron); the other mixed pixels are overlaps of
    different primaries only; ``ambiguous``: the minority
    class holds more than ``ambiguous`` of the pixel's charge; ``flipped``: the
    label differs from the class holding more charge (the rule picks the single
    largest particle, so several track particles can lose to one shower particle
    and vice versa).
    """
    mixed = (ch.track > 0) & (ch.shower > 0)
    amb = mixed & (ch.minority_fraction > ambiguous)
    majority = np.where(ch.shower > ch.track, SHOWER, TRACK)
    flipped = mixed & (majority != ch.label)
    out = {}
    for cls, name in CLASS_NAMES.items():
        sel = np.ones(len(ch), bool) if cls == 0 else ch.label == cls
        out[name] = {"pixels": int(sel.sum()), "mixed": int((mixed & sel).sum()),
                     "one_primary": int((mixed & ch.one_primary & sel).sum()),
                     "ambiguous": int((amb & sel).sum()), "flipped": int((flipped & sel).sum())}
    return out


def _add(total: dict, counts: dict) -> None:
    for name, c in counts.items():
        t = total.setdefault(name, dict.fromkeys(COUNT_KEYS, 0))
        for k in COUNT_KEYS:
            t[k] += c[k]


def _shares(counts: dict) -> dict:
    n = counts["pixels"]
    shares = {f"{k}_share": (counts[k] / n if n else None) for k in ("mixed", "ambiguous", "flipped")}
    # of the mixed pixels, those where one primary's track and shower particles meet
    shares["one_primary_of_mixed"] = counts["one_primary"] / counts["mixed"] if counts["mixed"] else None
    return {**counts, **shares}


# --- files


def _file_config(f):
    """The ``SimulationConfig`` and seed a larseg file was made with (DataFileError if it holds none)."""
    meta = f.metadata
    text = meta.get("larseg_config")
    if not text:
        raise DataFileError(f.path, "holds no larseg config (not made by 'larseg simulate'): cannot re-simulate it")
    try:
        config = cfg.from_yaml(SimulationConfig, text, f"{f.path} (config)")
    except LarsegError as exc:
        raise DataFileError(f.path, f"its stored config cannot be read by this larseg ({exc})") from None
    try:
        seed = int(meta.get("seed", ""))
    except ValueError:
        raise DataFileError(f.path, "holds no seed: cannot re-simulate it") from None
    return config, seed


def resimulate_labels(config, seed: int, index: int, planes: Sequence[int] = (2,)):
    """Event ``index`` of run ``seed`` as :func:`~larseg.simulation.pipeline.simulate_entry` makes it.

    Returns ``(rendered windows by plane number, labelled charges by plane number)``
    for ``planes``: the dense :class:`~larseg.detector.PlaneWindow` (as written to
    the file) and the :class:`PixelCharge` of its labelled pixels.
    """
    interaction, event, rng = transport_entry(config, seed, index)
    constraints = _constraints(config, interaction, event.particles)
    truth = detector.simulate_planes(event.deposits, event.particles, interaction.vertex, config.detector, rng)
    windows = detector.crop_box(truth, constraints, config.detector).windows if config.crop \
        else [p.full_window() for p in truth]
    rendered = {w.plane: w for w in detector.render(truth, windows) if w.plane in planes}
    charges = pixel_charges(event.deposits, event.particles, config.detector, planes)
    split = {c.plane: c for c in labelled_charges(truth, charges, windows)}
    return rendered, split


def labels_study(file: str | Path, out: str | Path | None = None, *, planes: Sequence[int] = (2,),
                 max_events: int | None = None, ambiguous: float = 0.25,
                 progress: Callable | None = None) -> dict:
    """Mixed-pixel shares of a larseg sample file, per plane and label class.

    The file holds only the final labels, so each entry is re-simulated from the
    file's stored config and its event id (seed, index); the re-simulated labels
    must equal the stored ones (else a :class:`DataFileError`: the file was made
    by another larseg version). With ``out`` writes ``labels.md`` and
    ``labels.json`` there. ``progress(total)`` is a context manager yielding
    ``advance(n)``.
    """
    if not 0 < ambiguous < 0.5:
        raise LarsegError(f"--ambiguous {ambiguous}: must be between 0 and 0.5")
    planes = tuple(sorted(set(int(p) for p in planes)))
    if not planes or any(p not in (0, 1, 2) for p in planes):
        raise LarsegError(f"--plane {planes}: planes are 0 (U), 1 (V), 2 (Y)")
    path = Path(file)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    f = Larcv3File(path)
    config, seed = _file_config(f)
    missing = [p for p in planes if p not in config.planes]
    if missing:
        raise DataFileError(path, f"holds planes {list(config.planes)}, not {missing}")
    n = len(f) if max_events is None else min(len(f), int(max_events))
    if n == 0:
        raise DataFileError(path, "holds no entries")

    totals: dict[int, dict] = {p: {} for p in planes}
    events = []
    bar = progress(n) if progress else nullcontext(lambda k=1: None)
    with bar as advance:
        for entry in range(n):
            run, _, index = f.event_id(entry)
            if run != seed:
                raise DataFileError(path, f"entry {entry}: event id run {run} is not the file's seed {seed}")
            rendered, split = resimulate_labels(config, seed, index, planes)
            stored = {p.meta.projection_id: p for p in planes_from_event(f.read(entry))}
            record = {"entry": entry, "index": index}
            for p in planes:
                s, w = stored.get(p), rendered[p]
                if s is None or s.label.shape != w.label.shape or not np.array_equal(s.label, w.label):
                    raise DataFileError(path, f"entry {entry}: re-simulating it from the file's config and seed "
                                              "does not give its stored labels (made by another larseg version?)")
                counts = label_counts(split[p], ambiguous)
                _add(totals[p], counts)
                record[PLANE_NAMES[p]] = counts["all"]
            events.append(record)
            advance(1)

    rows = []
    for p in planes:
        for name in CLASS_NAMES.values():
            rows.append({"plane": p, "plane_name": PLANE_NAMES[p], "class": name, **_shares(totals[p][name])})
    result = {"file": str(path), "sample": f.metadata.get("larseg_sample", ""), "seed": seed, "n_events": n,
              "planes": list(planes), "ambiguous_threshold": ambiguous, "rows": rows,
              "per_event": {PLANE_NAMES[p]: per_event_shares(events, PLANE_NAMES[p]) for p in planes},
              "method": "re-simulated from the file's stored config and seed; labels checked against the file",
              "events": events, "provenance": provenance()}
    result["markdown"] = markdown_table(result)
    if out is not None:
        out = Path(out)
        write_text_atomic(out / "labels.md", result["markdown"])
        write_json(out / "labels.json", result)
    return result


def per_event_shares(events: Sequence[dict], plane_name: str) -> dict:
    """Mean and 90% quantile over the events (with labelled pixels) of their mixed / ambiguous shares,
    the way the paper averages its ICPF over images."""
    ev = [e[plane_name] for e in events if e[plane_name]["pixels"] > 0]
    out: dict = {"n_events": len(ev)}
    for k in ("mixed", "ambiguous"):
        share = np.array([e[k] / e["pixels"] for e in ev])
        out[f"{k}_mean"] = float(share.mean()) if len(ev) else None
        out[f"{k}_q90"] = float(np.quantile(share, 0.9)) if len(ev) else None
    return out


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def markdown_table(result: dict) -> str:
    """The study's table: one row per plane and label class (all / track / shower)."""
    amb = result["ambiguous_threshold"]
    lines = [f"{result['sample'] or Path(result['file']).stem}: {result['n_events']} events "
             f"(seed {result['seed']}), re-simulated", "",
             f"| plane | label | pixels | mixed | of which within one primary | minority > {100 * amb:g}% "
             "| label != charge majority |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['plane_name']} | {r['class']} | {r['pixels']} | {_pct(r['mixed_share'])} | "
                     f"{_pct(r['one_primary_of_mixed'])} | {_pct(r['ambiguous_share'])} | {_pct(r['flipped_share'])} |")
    lines.append("")
    for name, e in result.get("per_event", {}).items():
        lines.append(f"- {name}, per event ({e['n_events']} with labelled pixels): mixed mean "
                     f"{_pct(e['mixed_mean'])} (90% quantile {_pct(e['mixed_q90'])}), minority > {100 * amb:g}% "
                     f"mean {_pct(e['ambiguous_mean'])} (90% quantile {_pct(e['ambiguous_q90'])})")
    return "\n".join(lines) + "\n"
