"""larseg: pixel-level track/shower labelling of liquid argon TPC images.

A Python implementation of the MicroBooNE U-ResNet system (Phys. Rev. D 99,
092001): simulation with exact pixel truth, the network, its training and its
evaluation. The pipeline is laid out as subpackages::

    physics -> detector -> data -> simulation -> model -> train -> eval -> infer
"""

from larseg._version import __version__

__all__ = ["__version__", "load_model"]


def load_model(path, device: str = "cpu", backend: str | None = None, threshold: float | None = None,
               plane: int | None = None):
    """A trained network, ready for ``.predict(image)``: numpy ``(H, W)`` in, ``(3, H, W)`` scores out.

    ``path``: a checkpoint, a training run directory (its best.pt) or an exported ``.onnx``
    file. Returns a :class:`larseg.model.Predictor`; ``threshold`` and ``plane`` default to
    the network's own input contract.
    """
    # imported here so that ``import larseg`` stays light (no torch) for the command line's start-up
    from larseg.model.predictor import load_model as _load

    return _load(path, device=device, backend=backend, threshold=threshold, plane=plane)
