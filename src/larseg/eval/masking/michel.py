"""The ``michel`` preset's cases: keep-masks of the muon's minimum-ionising part, its Bragg-peak end and
the Michel electron, measured from the muon's end in an image and its truth labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from larseg.errors import LarsegError


def michel_regions(image: np.ndarray, label: np.ndarray, end_rc: tuple[float, float],
                   lengths: Sequence[int] = (5, 10, 20, 40), start_px: float = 6.0, bragg_px: float = 10.0,
                   max_snap_px: float = 10.0) -> tuple[list[tuple[str, str, np.ndarray]], dict]:
    """The preset's keep-masks: ``[(figure, case name, mask)]`` and facts about the geometry.

    ``end_rc`` is the projected stopping point of the muon. The muon's end pixel is the
    track pixel nearest to it; the Michel electron is the connected group of shower pixels
    (8-connected, bridging one-pixel gaps) that holds the shower pixel nearest to that end.
    """
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
