"""``larseg study mask``: what the network looks at (the paper's Figs. 12-15).

Keep a chosen set of pixels of one image, zero all others, run the network and look
at the track and shower scores of the kept (non-zero) pixels.

Selections, in pixel coordinates of the plane's window (row = time, column = wire):

- rectangle ``r0,c0,r1,c1``: rows ``r0 <= r < r1`` and columns ``c0 <= c < c1`` (half
  open, as Python slices; clipped to the image);
- polygon ``r,c;r,c;r,c;...``: the pixels whose centre ``(r, c)`` lies inside the
  polygon or on its boundary;
- instances ``1,2``: the pixels of these particle instances (primary ancestor track ids).

Several selections are combined by union; only non-zero pixels are ever kept.

``--preset michel`` builds the paper's cases from the truth of a ``michel`` event: the
muon's end (the Michel electron's start) is projected into the plane, and then

- Fig. 12: a piece of the minimum-ionising part of the muon (track pixels at distance
  ``d0 <= d < d0 + L`` from the muon's end, ``d0`` well away from the Bragg peak) for
  increasing lengths ``L``;
- Fig. 13: the Bragg-peak end of the muon (track pixels with ``d < L``);
- Fig. 14: (a) the whole Michel electron (the connected shower pixels at the muon's end),
  (b) the Michel electron without its first pixels (``d < start``), (c) those first pixels only;
- Fig. 15: the last pixels of the muon with the first pixels of the Michel electron, with a
  heat map of the score of the predicted class.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from larseg.errors import LarsegError

# --- selections


def rect_mask(shape: tuple[int, int], r0: int, c0: int, r1: int, c1: int) -> np.ndarray:
    """Rows ``[r0, r1)`` x columns ``[c0, c1)`` of an image of ``shape`` (clipped to it)."""
    if r1 <= r0 or c1 <= c0:
        raise LarsegError(f"rectangle {r0},{c0},{r1},{c1}: need r1 > r0 and c1 > c0")
    m = np.zeros(shape, dtype=bool)
    m[max(r0, 0):max(min(r1, shape[0]), 0), max(c0, 0):max(min(c1, shape[1]), 0)] = True
    return m


def points_in_polygon(points: np.ndarray, vertices: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Whether each point ``(n, 2)`` lies inside the polygon ``(k, 2)`` or on its boundary (even-odd rule)."""
    p = np.asarray(points, dtype=float)
    v = np.asarray(vertices, dtype=float)
    x, y = p[:, 0][:, None], p[:, 1][:, None]
    a = v[None, :, :]
    b = np.roll(v, -1, axis=0)[None, :, :]
    ax_, ay = a[..., 0], a[..., 1]
    bx, by = b[..., 0], b[..., 1]
    # crossing number: edges straddling the horizontal line through the point, crossing to its right
    straddle = (ay > y) != (by > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = ax_ + (y - ay) * (bx - ax_) / (by - ay)
    inside = (straddle & (x < x_cross)).sum(axis=1) % 2 == 1
    # on an edge: collinear and between the end points
    ex, ey = bx - ax_, by - ay
    cross = ex * (y - ay) - ey * (x - ax_)
    dot = (x - ax_) * ex + (y - ay) * ey
    length2 = ex * ex + ey * ey
    on_edge = (np.abs(cross) <= tol * np.maximum(np.sqrt(length2), 1.0)) & (dot >= -tol) & (dot <= length2 + tol)
    return inside | on_edge.any(axis=1)


def polygon_mask(shape: tuple[int, int], vertices) -> np.ndarray:
    """Pixels of an image of ``shape`` whose centre ``(row, col)`` is inside the polygon or on its boundary."""
    v = np.asarray(vertices, dtype=float)
    if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3:
        raise LarsegError("a polygon needs at least 3 (row, col) vertices")
    r_lo, c_lo = np.floor(v.min(axis=0)).astype(int)
    r_hi, c_hi = np.ceil(v.max(axis=0)).astype(int)
    r_lo, c_lo = max(r_lo, 0), max(c_lo, 0)
    r_hi, c_hi = min(r_hi, shape[0] - 1), min(c_hi, shape[1] - 1)
    m = np.zeros(shape, dtype=bool)
    if r_hi < r_lo or c_hi < c_lo:
        return m
    rr, cc = np.mgrid[r_lo:r_hi + 1, c_lo:c_hi + 1]
    pts = np.stack([rr.ravel(), cc.ravel()], axis=1)
    m[rr.ravel(), cc.ravel()] = points_in_polygon(pts, v)
    return m


def instance_mask(instance: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """Pixels belonging to any of the instance ids."""
    return np.isin(np.asarray(instance), np.asarray(list(ids), dtype=np.int64))


def parse_rect(text: str) -> tuple[int, int, int, int]:
    try:
        vals = [int(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4:
        raise LarsegError(f"--rect {text!r}: expected r0,c0,r1,c1 (integers)")
    return vals[0], vals[1], vals[2], vals[3]


def parse_polygon(text: str) -> np.ndarray:
    try:
        pts = [[float(x) for x in p.split(",")] for p in text.split(";") if p.strip()]
    except ValueError:
        pts = []
    if len(pts) < 3 or any(len(p) != 2 for p in pts):
        raise LarsegError(f"--polygon {text!r}: expected at least three points r,c;r,c;r,c")
    return np.array(pts)


def parse_ids(text: str) -> list[int]:
    try:
        ids = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        ids = []
    if not ids:
        raise LarsegError(f"--instances {text!r}: expected comma-separated instance ids, e.g. 0,1")
    return ids


def selection_mask(shape, rects=(), polygons=(), instances: Sequence[int] | None = None,
                   instance_image: np.ndarray | None = None) -> np.ndarray:
    """Union of rectangles, polygons and instance ids."""
    m = np.zeros(shape, dtype=bool)
    for r in rects:
        m |= rect_mask(shape, *r)
    for p in polygons:
        m |= polygon_mask(shape, p)
    if instances:
        if instance_image is None:
            raise LarsegError("instance selection needs the file's instance product")
        m |= instance_mask(instance_image, instances)
    return m


def masked(image: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``image`` with every pixel outside ``keep`` set to 0."""
    return np.where(keep, image, 0).astype(np.float32)


def run_network(model, image: np.ndarray) -> np.ndarray:
    """Softmax scores (3, H, W) of one image."""
    from larseg.model import predict_probabilities

    return predict_probabilities(model, image[None, None])[0].cpu().numpy()


def case_stats(name: str, image: np.ndarray, probs: np.ndarray) -> dict:
    """Pixel count, mean scores and predicted-class fractions of the non-zero pixels."""
    keep = image > 0
    n = int(keep.sum())
    pred = probs.argmax(axis=0)[keep]
    return {"name": name, "n_pixels": n,
            "mean_track_score": float(probs[1][keep].mean()) if n else None,
            "mean_shower_score": float(probs[2][keep].mean()) if n else None,
            "fraction_track": float((pred == 1).mean()) if n else None,
            "fraction_shower": float((pred == 2).mean()) if n else None}


# --- the Michel preset


def _window_offset(meta) -> tuple[float, float]:
    """(row, col) of the window's first pixel in the full plane, from the meta's origin."""
    pitch = meta.size[0] / meta.shape[0]
    row_cm = meta.size[1] / meta.shape[1]
    return meta.origin[1] / row_cm, meta.origin[0] / pitch


def decay_point(particles: np.ndarray) -> np.ndarray:
    """(x, y, z, t) where the primary muon stops: its decay electron's start, else the muon's end."""
    from larseg.data.larcv3 import INVALID_U4

    mu = particles[(np.abs(particles["pdg"]) == 13) & (particles["parent_trackid"] == INVALID_U4)]
    if not len(mu):
        raise LarsegError("no primary muon in the event's truth: not a michel event")
    mu = mu[0]
    michel = particles[(np.abs(particles["pdg"]) == 11) & (particles["parent_trackid"] == mu["trackid"])
                       & (particles["process"] == b"Decay")]
    src = michel[0]["vtx"] if len(michel) else mu["end_pt"]
    return np.array([src["x"], src["y"], src["z"], src["t"]], dtype=float)


def project_to_window(point: np.ndarray, meta, detector_config=None) -> tuple[float, float]:
    """Continuous (row, col) of a 3D point (x, y, z, t ns) in a plane window."""
    from larseg.detector import DetectorConfig, Geometry

    geo = Geometry(detector_config or DetectorConfig())
    row, col = geo.project(point[None])[meta.projection_id][0]
    r0, c0 = _window_offset(meta)
    return float(row - r0), float(col - c0)


def michel_regions(image: np.ndarray, label: np.ndarray, end_rc: tuple[float, float],
                   lengths: Sequence[int] = (5, 10, 20, 40), start_px: float = 6.0, bragg_px: float = 10.0,
                   max_snap_px: float = 10.0) -> tuple[list[tuple[str, str, np.ndarray]], dict]:
    """The preset's keep-masks: ``[(figure, case name, mask)]`` and facts about the geometry.

    ``end_rc`` is the projected stopping point of the muon. The muon's end pixel is the
    track pixel nearest to it; the Michel electron is the connected group of shower pixels
    (8-connected, bridging one-pixel gaps) that holds the shower pixel nearest to that end.
    """
    from scipy import ndimage

    nonzero = image > 0
    track = nonzero & (label == 1)
    shower = nonzero & (label == 2)
    tr, tc = np.nonzero(track)
    if not len(tr):
        raise LarsegError("the image holds no track pixels (no visible muon)")
    d_end = np.hypot(tr - end_rc[0], tc - end_rc[1])
    k = int(np.argmin(d_end))
    end = (int(tr[k]), int(tc[k]))
    facts = {"projected_end": [float(end_rc[0]), float(end_rc[1])], "muon_end_pixel": list(end),
             "snap_distance_px": float(d_end[k])}
    if d_end[k] > max_snap_px:
        raise LarsegError(f"no track pixel within {max_snap_px:g} pixels of the muon's projected end "
                          f"(nearest {d_end[k]:.1f}); try another entry")
    rr, cc = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    dist = np.hypot(rr - end[0], cc - end[1])
    cases = []
    d_track = np.where(track, dist, np.inf)
    visible = float(d_track[track].max())
    facts["visible_muon_px"] = visible
    longest = max(lengths)
    d0 = max(30.0, (visible - longest) / 2.0)
    facts["mip_start_px"] = d0
    for L in lengths:
        if d0 + L <= visible:
            cases.append(("mip", f"MIP muon, {L} px", track & (d_track >= d0) & (d_track < d0 + L)))
    for L in lengths:
        cases.append(("bragg", f"Bragg end, {L} px", track & (d_track < L)))
    if shower.any():
        grown = ndimage.binary_dilation(shower, structure=np.ones((3, 3), bool))
        comp, _ = ndimage.label(grown, structure=np.ones((3, 3), bool))
        sr, sc = np.nonzero(shower)
        ds = np.hypot(sr - end[0], sc - end[1])
        j = int(np.argmin(ds))
        facts["michel_start_distance_px"] = float(ds[j])
        if ds[j] <= max_snap_px:
            michel = shower & (comp == comp[sr[j], sc[j]])
            first = michel & (dist < start_px)
            facts["michel_pixels"] = int(michel.sum())
            cases.append(("michel", "(a) whole Michel electron", michel))
            if first.any() and (michel & ~first).any():
                cases.append(("michel", f"(b) Michel without first {start_px:g} px", michel & ~first))
                cases.append(("michel", f"(c) first {start_px:g} px of the Michel", first))
                cases.append(("bragg_michel", f"Bragg end {bragg_px:g} px + first {start_px:g} px of the Michel",
                              (track & (d_track < bragg_px)) | first))
    return [c for c in cases if c[2].any()], facts


# --- the study


def _plane(planes, plane: int, path):
    for p in planes:
        if p.meta.projection_id == plane:
            return p
    raise LarsegError(f"{path}: no plane {plane} in this entry")


def _load_entry(file, entry: int, plane: int, threshold: float):
    from larseg.data.larcv3 import Larcv3File
    from larseg.data.products import planes_from_event

    f = Larcv3File(file)
    ev = f.read(entry)
    p = _plane(planes_from_event(ev), plane, file)
    image = np.where(p.image >= threshold, p.image, 0).astype(np.float32)
    return f, ev, p, image


def _detector_config(f):
    from larseg import config as cfg
    from larseg.simulation.config import SimulationConfig

    text = f.metadata.get("larseg_config")
    if not text:
        return None
    try:
        return cfg.from_yaml(SimulationConfig, text, f"{f.path} (config)").detector
    except Exception:  # a config this larseg cannot read: fall back to the default detector
        return None


def find_michel_entry(file, plane: int = 2, threshold: float = 10.0, lengths=(5, 10, 20, 40), start_px: float = 6.0,
                      limit: int = 100) -> int:
    """The first entry (of at most ``limit``) where every preset case has pixels."""
    from larseg.data.larcv3 import Larcv3File

    n = min(Larcv3File(file).n_entries, limit)
    for k in range(n):
        try:
            f, ev, p, image = _load_entry(file, k, plane, threshold)
            end = project_to_window(decay_point(ev.particle["truth"]), p.meta, _detector_config(f))
            cases, _ = michel_regions(image, p.label, end, lengths, start_px)
        except LarsegError:
            continue
        kinds = [c[0] for c in cases]
        if kinds.count("mip") == len(lengths) and kinds.count("michel") == 3:
            return k
    raise LarsegError(f"{file}: none of the first {n} entries shows the whole Michel topology on plane {plane}")


def mask_study(model, file: str | Path, out: str | Path, entry: int | None = 0, *, rects=(), polygons=(),
               instances: Sequence[int] | None = None, preset: str | None = None,
               lengths: Sequence[int] = (5, 10, 20, 40), start_px: float = 6.0, bragg_px: float = 10.0,
               plane: int | None = None) -> dict:
    """Run the masking study; write the figures and ``mask.json`` (per case: pixels, mean scores, fractions).

    Without ``preset`` the union of ``rects``, ``polygons`` and ``instances`` is kept and
    ``mask_entry<K>.png`` shows the whole image and the kept pixels side by side.
    With ``preset="michel"`` the paper's cases are made from the truth (``entry=None``: the
    first entry where they all exist).
    """
    from larseg.eval.evaluate import sample_name
    from larseg.eval.io import load_model_info, write_json
    from larseg.provenance import provenance
    from larseg.viz.eval_plots import plot_mask_cases

    if not Path(file).is_file():
        from larseg.errors import DataFileError

        raise DataFileError(file, "no such file")
    info = load_model_info(model, plane)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sample = sample_name(file)
    if preset not in (None, "michel"):
        raise LarsegError(f"--preset {preset!r}: the only preset is 'michel'")
    if preset == "michel" and entry is None:
        entry = find_michel_entry(file, info.plane, info.threshold, lengths, start_px)
    entry = 0 if entry is None else int(entry)
    f, ev, p, image = _load_entry(file, entry, info.plane, info.threshold)
    head = f"{sample} entry {entry} (1 event), plane {info.plane}"
    result = {"sample": sample, "file": str(file), "entry": entry, "plane": info.plane,
              "model": {"source": info.source, "fingerprint": info.fingerprint}, "provenance": provenance(),
              "cases": [], "figures": []}
    full_probs = run_network(info.model, image)
    result["cases"].append(case_stats("whole image", image, full_probs))
    if preset == "michel":
        end = project_to_window(decay_point(ev.particle["truth"]), p.meta, _detector_config(f))
        cases, facts = michel_regions(image, p.label, end, lengths, start_px, bragg_px)
        result["geometry"] = facts
        groups = {"mip": ("fig12_mip.png", "Fig. 12: a piece of the minimum-ionising muon track"),
                  "bragg": ("fig13_bragg.png", "Fig. 13: the Bragg-peak end of the stopping muon"),
                  "michel": ("fig14_michel.png", "Fig. 14: the Michel electron"),
                  "bragg_michel": ("fig15_bragg_michel.png", "Fig. 15: Bragg peak + first Michel pixels")}
        for kind, (fname, title) in groups.items():
            chosen = [c for c in cases if c[0] == kind]
            if not chosen:
                result.setdefault("skipped", []).append(kind)
                continue
            drawn = []
            for _, name, keep in chosen:
                img = masked(image, keep)
                probs = run_network(info.model, img)
                drawn.append({"name": name, "image": img, "probs": probs})
                result["cases"].append({"figure": kind, **case_stats(name, img, probs)})
            result["figures"].append(str(plot_mask_cases(drawn, out / fname, title=f"{title} - {head}",
                                                         heatmap=kind == "bragg_michel")))
    else:
        keep = selection_mask(image.shape, rects, polygons, instances, p.instance)
        keep &= image > 0
        if not keep.any():
            raise LarsegError("the selection keeps no non-zero pixel of this image")
        img = masked(image, keep)
        probs = run_network(info.model, img)
        result["cases"].append(case_stats("kept pixels", img, probs))
        result["selection"] = {"rects": [list(r) for r in rects],
                               "polygons": [np.asarray(q).tolist() for q in polygons],
                               "instances": list(instances or [])}
        # The same kept pixels seen in the whole image: their scores with all context present.
        in_context = {"name": "kept pixels, whole image as context", "image": img, "probs": full_probs}
        alone = {"name": "kept pixels alone (all else zeroed)", "image": img, "probs": probs}
        result["figures"].append(str(plot_mask_cases([in_context, alone], out / f"mask_entry{entry}.png",
                                                     title=f"Masking study - {head}", heatmap=True)))
    write_json(out / "mask.json", result)
    return result
