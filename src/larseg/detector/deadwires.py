"""The map of unresponsive wires: fixed by a seed, identical in every event.

About 10% of MicroBooNE's channels are unresponsive, mostly in contiguous groups
(a few dead or shorted regions, whole front-end boards), with induction planes
worse than the collection plane. Per plane, the map places contiguous groups of
geometrically distributed length (mean ``mean_group_wires``) at random
positions until ``(1 - isolated_fraction)`` of the target count is dead, then
kills isolated live wires up to exactly ``round(fraction * n_wires)``.
"""

from __future__ import annotations

import functools

import numpy as np

from larseg.detector.config import DeadWireConfig, DetectorConfig


@functools.lru_cache(maxsize=64)
def _plane_map(n_wires: int, fraction: float, seed: int, plane: int, mean_group: float, isolated: float) -> np.ndarray:
    rng = np.random.default_rng([seed, plane])
    dead = np.zeros(n_wires, dtype=bool)
    target = round(fraction * n_wires)
    grouped = target - round(isolated * target)
    count = 0
    while count < grouped:
        length = min(int(rng.geometric(1.0 / mean_group)), grouped - count)
        start = int(rng.integers(0, n_wires - length + 1))
        dead[start : start + length] = True
        count = int(dead.sum())
    live = np.flatnonzero(~dead)
    dead[rng.choice(live, size=target - count, replace=False)] = True
    dead.setflags(write=False)
    return dead


def dead_wire_map(config: DetectorConfig | None = None) -> list[np.ndarray]:
    """One read-only boolean array per plane (U, V, Y): True for an unresponsive wire."""
    config = config or DetectorConfig()
    d: DeadWireConfig = config.dead_wires
    return [
        _plane_map(p.n_wires, float(f), d.seed, i, d.mean_group_wires, d.isolated_fraction)
        for i, (p, f) in enumerate(zip(config.geometry.planes, d.fraction))
    ]
