"""Reading a sample file for the study: an entry's plane (its image thresholded as the network was
trained) and the detector the file was simulated with."""

from __future__ import annotations

import numpy as np

from larseg import config as cfg
from larseg.conventions import apply_threshold
from larseg.data.larcv3 import Larcv3File
from larseg.data.products import planes_from_event
from larseg.errors import LarsegError
from larseg.simulation.config import SimulationConfig


def _plane(planes, plane: int, path):
    for p in planes:
        if p.meta.projection_id == plane:
            return p
    raise LarsegError(f"{path}: no plane {plane} in this entry")


def count_entries(file) -> int:
    """How many entries ``file`` holds."""
    return Larcv3File(file).n_entries


def load_entry(file, entry: int, plane: int, threshold: float):
    """``(file, event, plane, image)`` of one entry: the image is the plane's, pixels below ``threshold`` zeroed."""
    f = Larcv3File(file)
    ev = f.read(entry)
    p = _plane(planes_from_event(ev), plane, file)
    image = apply_threshold(p.image.astype(np.float32), threshold)
    return f, ev, p, image


def file_detector_config(f):
    """The detector config of an open file's ``larseg_config`` metadata; ``None`` (the default detector)
    where there is none or it cannot be read."""
    text = f.metadata.get("larseg_config")
    if not text:
        return None
    try:
        return cfg.from_yaml(SimulationConfig, text, f"{f.path} (config)").detector
    except Exception:  # a config this larseg cannot read: fall back to the default detector
        return None
