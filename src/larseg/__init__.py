"""larseg: pixel-level track/shower labelling of liquid argon TPC images.

A Python implementation of the MicroBooNE U-ResNet system (Phys. Rev. D 99,
092001): simulation with exact pixel truth, the network, its training and its
evaluation. The pipeline is laid out as subpackages::

    physics -> detector -> data -> model -> train -> eval -> infer
"""

__version__ = "0.1.0"

__all__ = ["__version__", "load_model"]


def load_model(path, device: str = "cpu", backend: str | None = None, threshold: float = 10.0):
    """A trained network, ready for ``.predict(image)``: numpy ``(H, W)`` in, ``(3, H, W)`` scores out.

    ``path``: a checkpoint, a training run directory (its best.pt) or an exported ``.onnx``
    file. Returns a :class:`larseg.infer.Segmenter` (torch is imported on first call).
    """
    from larseg.infer import load

    return load(path, device=device, backend=backend, threshold=threshold)
