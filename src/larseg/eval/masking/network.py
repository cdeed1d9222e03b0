"""Running the trained network on one image of the study: its softmax scores."""

from __future__ import annotations

import numpy as np

from larseg.model.predictor import Predictor


def run_network(model, image: np.ndarray) -> np.ndarray:
    """Softmax scores (3, H, W) of one image, through the network's Predictor.

    ``model``: a :class:`Predictor` (its input contract applies), or an in-memory network
    (run on the image as given: threshold 0).
    """
    predictor = model if isinstance(model, Predictor) else Predictor.from_module(model, threshold=0.0)
    return predictor.probabilities(image[None, None])[0].cpu().numpy()
