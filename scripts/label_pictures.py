"""The pictures of docs/labels.md: one label case per picture, from constructed events.

    .venv/bin/python scripts/label_pictures.py [-o docs/images]

Each case is an event of known primaries, transported by larseg.physics.transport
and simulated by larseg.detector.simulate_planes (default detector, collection
plane Y). A picture shows, zoomed to the case: the image, the truth label
(track yellow, shower cyan) and the mixed pixels (pixels holding charge of both
classes, coloured by the minority class's share of the charge; pure pixels grey).
The same seeds give the same pictures. Prints, per case, the pixel counts in
the zoomed window.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from larseg.detector import DetectorConfig, Geometry, render, simulate_planes  # noqa: E402
from larseg.eval.labels import label_counts, labelled_charges, pixel_charges  # noqa: E402
from larseg.physics import transport  # noqa: E402
from larseg.physics.truth import is_shower_pdg  # noqa: E402
from larseg.viz.event_display import LABEL_COLOURS, save  # noqa: E402

PLANE = 2  # collection
CONFIG = DetectorConfig()
GEOMETRY = Geometry(CONFIG)


def _momentum(p: float, theta_deg: float, tilt_deg: float = 5.0) -> tuple[float, float, float]:
    """(px, py, pz) of momentum ``p`` at ``theta`` from z in the x-z plane, tilted by ``tilt`` towards y."""
    a, t = np.radians(theta_deg), np.radians(tilt_deg)
    return p * np.sin(a) * np.cos(t), p * np.sin(t), p * np.cos(a) * np.cos(t)


def _primary(pdg: int, p: float, theta: float, vertex=(120.0, 0.0, 400.0), tilt: float = 5.0):
    return (pdg, *vertex, 0.0, *_momentum(p, theta, tilt))


def simulate(primaries, seed: int):
    event = transport(primaries, np.random.default_rng(seed))
    truth = simulate_planes(event.deposits, event.particles, event.vertex, CONFIG, np.random.default_rng(seed))
    split = labelled_charges(truth, pixel_charges(event.deposits, event.particles, CONFIG, planes=(PLANE,)))[0]
    return event, truth, split


def pixel_of(point) -> tuple[float, float]:
    """Continuous (row, col) of a 3D point (x, y, z[, t]) on the collection plane."""
    rc = GEOMETRY.project(np.asarray(point, dtype=np.float64))[PLANE]
    return float(rc[0]), float(rc[1])


def draw(name: str, title: str, event, truth, split, centre, half: int, out: Path, marks=()) -> dict:
    """Image | label | mixed pixels in a ``(2 half + 1)``-pixel square around ``centre`` (row, col)."""
    r0, c0 = int(round(centre[0])) - half, int(round(centre[1])) - half
    n = 2 * half + 1
    window = render([truth[PLANE]], [(r0, c0, n, n)])[0]
    minority = np.full((n, n), np.nan)
    pure = np.zeros((n, n), bool)
    r, c = split.row - r0, split.col - c0
    inside = (r >= 0) & (r < n) & (c >= 0) & (c < n)
    frac = split.minority_fraction
    mixed = (split.track > 0) & (split.shower > 0)
    minority[r[inside & mixed], c[inside & mixed]] = frac[inside & mixed]
    pure[r[inside & ~mixed], c[inside & ~mixed]] = True
    counts = label_counts(split.select(inside))["all"]

    extent = (c0 - 0.5, c0 + n - 0.5, r0 + n - 0.5, r0 - 0.5)
    fig, axes = plt.subplots(1, 3, figsize=(11.4, 4.0))
    cmap = plt.get_cmap("jet").with_extremes(bad="white")
    im = axes[0].imshow(np.ma.masked_where(window.image <= 0, window.image), cmap=cmap, vmin=0, vmax=150,
                        extent=extent, interpolation="nearest")
    fig.colorbar(im, ax=axes[0], fraction=0.046, pad=0.02)
    axes[0].set_title("image (pixel value)", fontsize=9)
    axes[1].imshow(window.label, cmap=LABEL_COLOURS, vmin=0, vmax=2, extent=extent, interpolation="nearest")
    axes[1].set_title("label: track yellow, shower cyan", fontsize=9)
    axes[2].imshow(np.where(pure, 0.35, 0.0), cmap="gray", vmin=0, vmax=1, extent=extent, interpolation="nearest")
    im = axes[2].imshow(np.ma.masked_invalid(minority), cmap="plasma", vmin=0, vmax=0.5, extent=extent,
                        interpolation="nearest")
    fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.02)
    axes[2].set_title("mixed pixels: minority class share (pure: grey)", fontsize=9)
    for ax in axes:
        for (mr, mc), style in marks:
            ax.plot(mc, mr, **style)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel("wire (Y plane)")
    axes[0].set_ylabel("time row (6 ticks)")
    share = counts["mixed"] / counts["pixels"] if counts["pixels"] else 0.0
    fig.suptitle(f"{title}\n{counts['pixels']} labelled pixels, {counts['mixed']} mixed ({100 * share:.0f}%), "
                 f"{counts['ambiguous']} with minority > 25%, {counts['flipped']} labelled against the class "
                 "majority", fontsize=9.5)
    fig.tight_layout()
    path = save(fig, out / f"labels-{name}.png")
    print(f"{path}: {counts}")
    return counts


def _rows(event, sel) -> np.ndarray:
    return np.flatnonzero(sel(event.particles))


def case_shared(out: Path):
    """An electron and a proton from one vertex, 12 degrees apart: their pixels overlap near the vertex."""
    prim = [_primary(11, 250.0, 60.0), _primary(2212, 600.0, 72.0)]
    event, truth, split = simulate(prim, seed=11)
    v = pixel_of(event.vertex)
    return draw("shared", "track and shower in the same pixels: e- 250 MeV/c and p 600 MeV/c from one vertex",
                event, truth, split, (v[0] + 10, v[1] + 5), 20, out,
                marks=[(v, dict(marker="+", color="red", ms=9, mew=1.3))])


def case_delta(out: Path):
    """A 1 GeV/c muon; the window is centred on its most energetic delta ray."""
    event, truth, split = simulate([_primary(13, 1000.0, 70.0)], seed=4)
    pt = event.particles
    deltas = _rows(event, lambda p: (p["process"] == b"muIoni") & (p["parent_id"] == 0))
    best = deltas[np.argmax(pt["kinetic"][deltas])]
    start = pixel_of(pt["start"][best])
    print(f"delta ray: {pt['kinetic'][best]:.1f} MeV, {pt['length'][best]:.1f} cm")
    return draw("delta", f"delta ray ({pt['kinetic'][best]:.0f} MeV e-) on a 1 GeV/c muon: shower, as in the paper",
                event, truth, split, start, 24, out)


def case_michel(out: Path):
    """A stopping mu+ (no capture): its decay electron starts where the Bragg peak ends."""
    event, truth, split = simulate([_primary(-13, 180.0, 55.0)], seed=5)
    pt = event.particles
    michel = _rows(event, lambda p: (p["process"] == b"Decay") & is_shower_pdg(p["pdg"]) & (p["parent_id"] == 0))
    end = pixel_of(pt["end"][0])
    print(f"Michel electron: {pt['kinetic'][michel[0]]:.1f} MeV" if len(michel) else "no Michel electron")
    title = (f"Michel electron ({pt['kinetic'][michel[0]]:.0f} MeV) from a stopping mu+: shower"
             if len(michel) else "stopping mu+")
    return draw("michel", title, event, truth, split, end, 40, out,
                marks=[(end, dict(marker="x", color="red", ms=8, mew=1.3))])


def case_compton(out: Path):
    """A 300 MeV/c muon and a 4 MeV photon from one vertex: the photon's Compton electrons are isolated blips."""
    prim = [_primary(13, 300.0, 80.0), _primary(22, 4.0, 20.0)]
    event, truth, split = simulate(prim, seed=7)
    pt = event.particles
    compton = _rows(event, lambda p: p["process"] == b"compt")
    ends = np.array([pixel_of(pt["start"][k]) for k in compton]) if len(compton) else np.zeros((0, 2))
    v = pixel_of(event.vertex)
    pts = np.vstack([ends, [v]])
    centre = 0.5 * (pts.min(axis=0) + pts.max(axis=0))
    half = int(np.clip(0.5 * (pts.max(axis=0) - pts.min(axis=0)).max() + 15, 30, 120))
    print(f"Compton electrons: {len(compton)}, kinetic {np.round(pt['kinetic'][compton], 2)} MeV")
    return draw("compton", "Compton blips of a 4 MeV photon, far from the muon track: shower",
                event, truth, split, centre, half, out, marks=[(v, dict(marker="+", color="red", ms=9, mew=1.3))])


def case_trunk(out: Path):
    """A 300 MeV/c electron: the straight, MIP-like trunk before the first branch is shower too."""
    event, truth, split = simulate([_primary(11, 300.0, 75.0)], seed=10)
    pt = event.particles
    v = pixel_of(event.vertex)
    # the first branch: the earliest point of the electron's path (deposits in path order) that a
    # descendant's charge comes within 0.5 cm of
    dep = event.deposits
    xyz = np.stack([dep.x, dep.y, dep.z], axis=1)
    own, other = dep.track == 0, dep.track != 0
    d = np.linalg.norm(xyz[other][:, None, :] - xyz[own][None, :, :], axis=2)  # (descendant, primary) deposits
    near = d.min(axis=1) < 0.5
    first = None
    if near.any():
        step = d[near].argmin(axis=1).min()  # the earliest primary deposit touched
        first = int(dep.track[other][near][np.argmin(d[near].argmin(axis=1))])
        branch_point = xyz[own][step]
    marks = [(v, dict(marker="+", color="red", ms=9, mew=1.3))]
    if first is not None:
        b = pixel_of(branch_point)
        marks.append((b, dict(marker="o", mfc="none", color="red", ms=10, mew=1.2)))
        print(f"first branch: {pt['process'][first].decode()} pdg {pt['pdg'][first]}, "
              f"{np.linalg.norm(branch_point - event.vertex):.1f} cm from the vertex")
    direction = np.asarray(_momentum(1.0, 75.0))
    centre = pixel_of(event.vertex + 11.0 * direction)
    return draw("trunk", "electron trunk (300 MeV/c e-) before its first branch (circle): shower",
                event, truth, split, centre, 40, out, marks=marks)


CASES = {"shared": case_shared, "delta": case_delta, "michel": case_michel, "compton": case_compton,
         "trunk": case_trunk}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="docs/images", help="Directory of the PNGs.")
    ap.add_argument("cases", nargs="*", help=f"Cases (default: all): {', '.join(CASES)}.")
    args = ap.parse_args()
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown cases {unknown}; choose from {', '.join(CASES)}")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.cases or CASES:
        CASES[name](out)


if __name__ == "__main__":
    main()
