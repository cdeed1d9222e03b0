"""Simulated samples: generator -> transport -> detector -> crop -> file.

:func:`simulate_entry` makes one entry from ``(config, seed, index)`` alone, so
any event of any run can be regenerated; :func:`simulate_file` writes a sample
(in parallel, in shards, resumable).
"""

from larseg.simulation.config import SimulationConfig
from larseg.simulation.pipeline import merge_files, simulate_entry, simulate_file

__all__ = ["SimulationConfig", "merge_files", "simulate_entry", "simulate_file"]
