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

One module a job: :mod:`~larseg.eval.masking.parsing` (the command line's selections),
:mod:`~larseg.eval.masking.selection` (the pixels a selection keeps),
:mod:`~larseg.eval.masking.projection` (where the muon stops, in window pixels),
:mod:`~larseg.eval.masking.michel` (the preset's cases), :mod:`~larseg.eval.masking.loading`
(reading an entry), :mod:`~larseg.eval.masking.network` (running the network),
:mod:`~larseg.eval.masking.study` (the study) and :mod:`~larseg.eval.masking.output` (what it writes).
"""

from larseg.eval.masking.michel import michel_regions
from larseg.eval.masking.network import run_network
from larseg.eval.masking.parsing import parse_ids, parse_polygon, parse_rect
from larseg.eval.masking.projection import decay_point, project_to_window
from larseg.eval.masking.selection import (
    instance_mask,
    masked,
    points_in_polygon,
    polygon_mask,
    rect_mask,
    selection_mask,
)
from larseg.eval.masking.study import case_stats, find_michel_entry, mask_study

__all__ = [
    "case_stats",
    "decay_point",
    "find_michel_entry",
    "instance_mask",
    "mask_study",
    "masked",
    "michel_regions",
    "parse_ids",
    "parse_polygon",
    "parse_rect",
    "points_in_polygon",
    "polygon_mask",
    "project_to_window",
    "rect_mask",
    "run_network",
    "selection_mask",
]
