"""larseg: pixel-level track/shower labelling of liquid argon TPC images.

A Python implementation of the MicroBooNE U-ResNet system (Phys. Rev. D 99,
092001): simulation with exact pixel truth, the network, its training and its
evaluation. The pipeline is laid out as subpackages::

    physics -> detector -> data -> model -> train -> eval -> infer
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
