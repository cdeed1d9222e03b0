"""The masking study itself: run the network on the whole image and on the kept pixels of each
selection (or of each case of the ``michel`` preset) and measure the scores of the kept pixels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from larseg.atomic import output_dir
from larseg.conventions import PIXEL_THRESHOLD
from larseg.errors import DataFileError, LarsegError
from larseg.eval.evaluate import sample_name
from larseg.eval.io import load_model_info
from larseg.eval.masking.loading import count_entries, file_detector_config, load_entry
from larseg.eval.masking.michel import michel_regions
from larseg.eval.masking.network import run_network
from larseg.eval.masking.output import MICHEL_FIGURES, draw_cases, selection_figure, write_result
from larseg.eval.masking.projection import decay_point, project_to_window
from larseg.eval.masking.selection import masked, selection_mask
from larseg.provenance import provenance


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


def _muon_end(f, ev, p) -> tuple[float, float]:
    """The muon's projected stopping point in the window of plane ``p`` of event ``ev`` of file ``f``."""
    return project_to_window(decay_point(ev.particle["truth"]), p.meta, file_detector_config(f))


def find_michel_entry(file, plane: int = 2, threshold: float = PIXEL_THRESHOLD, lengths=(5, 10, 20, 40),
                      start_px: float = 6.0, limit: int = 100) -> int:
    """The first entry (of at most ``limit``) where every preset case has pixels."""
    n = min(count_entries(file), limit)
    for k in range(n):
        try:
            f, ev, p, image = load_entry(file, k, plane, threshold)
            cases, _ = michel_regions(image, p.label, _muon_end(f, ev, p), lengths, start_px)
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
    if not Path(file).is_file():
        raise DataFileError(file, "no such file")
    info = load_model_info(model, plane)
    out = Path(out)
    output_dir(out)
    sample = sample_name(file)
    if preset not in (None, "michel"):
        raise LarsegError(f"--preset {preset!r}: the only preset is 'michel'")
    if preset == "michel" and entry is None:
        entry = find_michel_entry(file, info.plane, info.threshold, lengths, start_px)
    entry = 0 if entry is None else int(entry)
    f, ev, p, image = load_entry(file, entry, info.plane, info.threshold)
    head = f"{sample} entry {entry} (1 event), plane {info.plane}"
    result = {"sample": sample, "file": str(file), "entry": entry, "plane": info.plane,
              "model": {"source": info.source, "fingerprint": info.fingerprint}, "provenance": provenance(),
              "cases": [], "figures": []}
    full_probs = run_network(info, image)
    result["cases"].append(case_stats("whole image", image, full_probs))
    if preset == "michel":
        cases, facts = michel_regions(image, p.label, _muon_end(f, ev, p), lengths, start_px, bragg_px)
        result["geometry"] = facts
        for kind, (fname, title) in MICHEL_FIGURES.items():
            chosen = [c for c in cases if c[0] == kind]
            if not chosen:
                result.setdefault("skipped", []).append(kind)
                continue
            drawn = []
            for _, name, keep in chosen:
                img = masked(image, keep)
                probs = run_network(info, img)
                drawn.append({"name": name, "image": img, "probs": probs})
                result["cases"].append({"figure": kind, **case_stats(name, img, probs)})
            result["figures"].append(draw_cases(drawn, out / fname, f"{title} - {head}",
                                                heatmap=kind == "bragg_michel"))
    else:
        keep = selection_mask(image.shape, rects, polygons, instances, p.instance)
        keep &= image > 0
        if not keep.any():
            raise LarsegError("the selection keeps no non-zero pixel of this image")
        img = masked(image, keep)
        probs = run_network(info, img)
        result["cases"].append(case_stats("kept pixels", img, probs))
        result["selection"] = {"rects": [list(r) for r in rects],
                               "polygons": [np.asarray(q).tolist() for q in polygons],
                               "instances": list(instances or [])}
        # The same kept pixels seen in the whole image: their scores with all context present.
        in_context = {"name": "kept pixels, whole image as context", "image": img, "probs": full_probs}
        alone = {"name": "kept pixels alone (all else zeroed)", "image": img, "probs": probs}
        result["figures"].append(draw_cases([in_context, alone], selection_figure(out, entry),
                                            f"Masking study - {head}", heatmap=True))
    write_result(out, result)
    return result
