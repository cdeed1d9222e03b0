"""``larseg study kinematics``: ICPF against truth kinematics (the paper's Fig. 7).

Reads the per-event records of ``larseg evaluate`` and draws the mean ICPF per bin of
a truth variable with its standard error (``std / sqrt(n)``, ``ddof = 1``; none for a
bin of one event). The paper's three panels are the default:

- (a) ``1e1p``: the opening angle between the two primaries [deg];
- (b) ``1e1p-le``: the electron's kinetic energy [MeV];
- (c) ``1e1p-le``: the proton's kinetic energy [MeV].

Other panels: ``SAMPLE:VARIABLE`` with VARIABLE ``opening_angle``, ``ke:PDG`` (kinetic
energy of the first primary with ``|pdg| = PDG``), ``nu_energy`` or ``n_pixels``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from larseg.atomic import output_dir
from larseg.errors import LarsegError
from larseg.eval.evaluate import load_sample_results
from larseg.eval.io import nan_if_none, write_json, write_text_atomic
from larseg.eval.tables import rows_csv
from larseg.eval.truth import primary_ke

DEFAULT_PANELS = ("1e1p:opening_angle", "1e1p-le:ke:11", "1e1p-le:ke:2212")
_NAMES = {11: "electron", 13: "muon", 22: "photon", 111: "pi0", 211: "charged pion", 2212: "proton"}


def binned_mean(x, y, edges) -> dict:
    """Mean and standard error of ``y`` in bins of ``x`` (``np.histogram`` bins: the last one closed).

    Pairs with a non-finite ``x`` or ``y`` and values outside the edges are left out.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    edges = np.asarray(edges, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x >= edges[0]) & (x <= edges[-1])
    x, y = x[ok], y[ok]
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    nb = len(edges) - 1
    counts = np.bincount(idx, minlength=nb)
    sums = np.bincount(idx, weights=y, minlength=nb)
    sq = np.bincount(idx, weights=y * y, minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        var = np.where(counts > 1, (sq - counts * mean ** 2) / np.maximum(counts - 1, 1), np.nan)
        err = np.sqrt(np.maximum(var, 0.0)) / np.sqrt(np.maximum(counts, 1))
    err = np.where(counts > 1, err, np.nan)
    return {"edges": edges, "centers": 0.5 * (edges[:-1] + edges[1:]), "mean": mean, "err": err, "counts": counts}


def auto_edges(x, n_bins: int = 8, step: float = 5.0) -> np.ndarray:
    """``n_bins`` equal bins over the range of the finite ``x``, widened to multiples of ``step``."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.linspace(0.0, 1.0, n_bins + 1)
    lo = math.floor(x.min() / step) * step
    hi = math.ceil(x.max() / step) * step
    if hi <= lo:
        hi = lo + step
    return np.linspace(lo, hi, n_bins + 1)


def variable(records: Sequence[dict], name: str) -> tuple[np.ndarray, str, np.ndarray | None]:
    """Values of a truth variable per record, its axis label, and fixed bin edges (or None)."""
    if name == "opening_angle":
        return (np.array([nan_if_none(r.get("opening_angle_deg")) for r in records]),
                "opening angle between the two primaries [deg]", np.linspace(0, 180, 13))
    if name.startswith("ke:"):
        try:
            pdg = abs(int(name[3:]))
        except ValueError:
            raise LarsegError(f"variable {name!r}: expected ke:PDG, e.g. ke:2212") from None
        vals = np.array([primary_ke(r, (pdg, -pdg)) for r in records])
        return vals, f"{_NAMES.get(pdg, f'pdg {pdg}')} kinetic energy [MeV]", None
    if name == "nu_energy":
        return np.array([nan_if_none(r.get("nu_energy_mev")) for r in records]), "neutrino energy [MeV]", None
    if name == "n_pixels":
        return np.array([float(r.get("n_pixels", np.nan)) for r in records]), "labelled pixels per image", None
    raise LarsegError(f"unknown variable {name!r} (known: opening_angle, ke:PDG, nu_energy, n_pixels)")


def parse_panel(text: str) -> tuple[str, str]:
    sample, sep, var = text.partition(":")
    if not sep or not sample or not var:
        raise LarsegError(f"panel {text!r}: expected SAMPLE:VARIABLE, e.g. 1e1p:opening_angle")
    return sample, var


def kinematics_study(results_dir: str | Path, out: str | Path | None = None,
                     panels: Sequence[str] = DEFAULT_PANELS, n_bins: int = 8) -> dict:
    """Draw ``fig7_kinematics.png`` and write ``kinematics.json`` / ``.csv`` (into ``out``, default the
    results directory). Panels whose sample was not evaluated are skipped (listed in ``skipped``)."""
    # lazy: larseg.viz.eval_plots loads matplotlib (and selects its Agg backend); only the figure needs it
    from larseg.viz.eval_plots import plot_binned

    results = {r.sample: r for r in load_sample_results(results_dir)}
    results.update({r.key: r for r in results.values()})
    out = Path(out) if out else Path(results_dir)
    output_dir(out)
    drawn, skipped, rows = [], [], []
    letters = "abcdefghijklmnopqrstuvwxyz"
    for text in panels:
        sample, var = parse_panel(text)
        r = results.get(sample)
        if r is None:
            skipped.append(text)
            continue
        x, xlabel, edges = variable(r.records, var)
        y = r.icpf()
        if edges is None:
            edges = auto_edges(x, n_bins)
        b = binned_mean(x, y, edges)
        n_used = int(b["counts"].sum())
        panel = {**b, "xlabel": xlabel, "sample": r.sample, "n_events": n_used, "variable": var,
                 "title": f"({letters[len(drawn)]}) {r.sample}: ICPF vs {xlabel.split(' [')[0]}"}
        drawn.append(panel)
        for i in range(len(b["counts"])):
            rows.append({"sample": r.sample, "variable": var, "bin_low": b["edges"][i], "bin_high": b["edges"][i + 1],
                         "events": int(b["counts"][i]), "icpf_mean": b["mean"][i], "icpf_err": b["err"][i]})
    if not drawn:
        raise LarsegError(f"{results_dir}: none of the samples {', '.join(parse_panel(p)[0] for p in panels)} "
                          "was evaluated (run 'larseg evaluate' on them first)")
    figure = plot_binned(drawn, out / "fig7_kinematics.png", title="ICPF vs truth kinematics (Fig. 7)")
    write_json(out / "kinematics.json", {"panels": [{k: v for k, v in p.items()} for p in drawn],
                                         "skipped": skipped})
    write_text_atomic(out / "kinematics.csv", rows_csv([{k: (None if isinstance(v, float) and not math.isfinite(v)
                                                             else v) for k, v in row.items()} for row in rows]))
    return {"figure": figure, "panels": drawn, "skipped": skipped}
