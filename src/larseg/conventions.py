"""The conventions every layer shares, defined once: pixel classes, the pixel threshold, particle classes.

* Pixel classes of the U-ResNet (PRD 99 092001, Sec. III): 0 background, 1 track,
  2 shower, in the network's output order. Simulation truth, data files,
  training, evaluation and inference all use these codes.
* The pixel threshold: pixels below 10 are set to zero before anything sees
  them, as in the paper (Sec. II). It is the detector's zero-suppression
  default, the training default and the default of the network's input contract
  (:class:`larseg.model.contract.InputContract`), which records the value a
  network was trained with in its checkpoint.
* Particle classes of the encoder classifier used for transfer learning
  (Sec. IV A): the primary particle of a single-particle image.
"""

from __future__ import annotations

import numpy as np

BACKGROUND, TRACK, SHOWER = 0, 1, 2
#: Names of the pixel classes, indexed by code.
CLASSES = ("background", "track", "shower")
NUM_CLASSES = len(CLASSES)

#: Pixels below this value are set to 0 (the paper: 10).
PIXEL_THRESHOLD = 10.0

#: The largest image larseg reads or runs a network on: sides up to 32768 and 2**26 pixels (268 MB as
#: float32). MicroBooNE's widest plane has 3456 wires and a readout 9600 ticks (33 M pixels).
MAX_IMAGE_SIDE, MAX_IMAGE_PIXELS = 1 << 15, 1 << 26

#: Classes of the pretraining classifier, in output order, and the primary pdg of each.
PARTICLE_CLASSES = ("e-", "gamma", "mu-", "pi-", "p")
PARTICLE_PDGS = (11, 22, 13, -211, 2212)


def apply_threshold(image: np.ndarray, threshold: float = PIXEL_THRESHOLD) -> np.ndarray:
    """Pixels below ``threshold`` set to 0, in place (``threshold`` <= 0 keeps every pixel); returns ``image``."""
    if threshold > 0:
        image[image < threshold] = 0
    return image


def pdg_to_class(pdg) -> np.ndarray:
    """Classifier class index of primary pdg codes (-1 for other particles)."""
    pdg = np.asarray(pdg)
    out = np.full(pdg.shape, -1, dtype=np.int64)
    for k, code in enumerate(PARTICLE_PDGS):
        out[pdg == code] = k
    return out


__all__ = ["BACKGROUND", "CLASSES", "MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE", "NUM_CLASSES", "PARTICLE_CLASSES",
           "PARTICLE_PDGS", "PIXEL_THRESHOLD", "SHOWER", "TRACK", "apply_threshold", "pdg_to_class"]
