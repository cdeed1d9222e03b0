"""What the masking study writes: its file names, the figures of the kept pixels and their scores,
and ``mask.json``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from larseg.eval.io import write_json

#: The ``michel`` preset's figures, in the order they are made: case kind -> (file name, title).
MICHEL_FIGURES = {"mip": ("fig12_mip.png", "Fig. 12: a piece of the minimum-ionising muon track"),
                  "bragg": ("fig13_bragg.png", "Fig. 13: the Bragg-peak end of the stopping muon"),
                  "michel": ("fig14_michel.png", "Fig. 14: the Michel electron"),
                  "bragg_michel": ("fig15_bragg_michel.png", "Fig. 15: Bragg peak + first Michel pixels")}


def selection_figure(out: Path, entry: int) -> Path:
    """The figure of a selection (no preset) of entry ``entry``."""
    return out / f"mask_entry{entry}.png"


def draw_cases(cases: Sequence[dict], path: Path, title: str, heatmap: bool = False) -> str:
    """Draw ``cases`` (each ``{"name", "image", "probs"}``) to ``path``; the path written, as text."""
    # function-level: matplotlib is slow to import (start-up time), and only drawing needs it
    from larseg.viz.eval_plots import plot_mask_cases

    return str(plot_mask_cases(cases, path, title=title, heatmap=heatmap))


def write_result(out: Path, result: dict) -> Path:
    """Write the study's ``result`` to ``out/mask.json``."""
    return write_json(out / "mask.json", result)
