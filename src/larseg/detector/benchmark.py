"""Time the detector stages on transported events of a simulation preset.

``python -m larseg.detector.benchmark --preset mpv --events 30`` prints the
median and 90th percentile of: ``simulate_planes`` (all three planes, whole
event), ``crop_box``, ``render`` of the three 512x512 crops and ``render`` of
the three whole planes, per event, in one process.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> None:
    from larseg.config import load_preset
    from larseg.detector import crop_box, render, simulate_planes
    from larseg.physics.generators import generate
    from larseg.physics.transport import transport

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mpv")
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = load_preset("simulation", args.preset)
    det, g = config.detector, config.detector.geometry
    active = (g.x_min_cm, g.x_max_cm, g.y_min_cm, g.y_max_cm, g.z_min_cm, g.z_max_cm)
    stages = {"simulate_planes": [], "crop_box": [], "render crops": [], "render full": []}
    n_deposits = []
    for i in range(args.events):
        rng = np.random.default_rng([args.seed, i])
        interaction = generate(config.generator, active, rng)
        event = transport(interaction.as_array(), rng, config.physics)
        n_deposits.append(len(event.deposits))
        t0 = time.perf_counter()
        planes = simulate_planes(event.deposits, event.particles, interaction.vertex, det, rng)
        t1 = time.perf_counter()
        box = crop_box(planes, [interaction.vertex], det)
        t2 = time.perf_counter()
        render(planes, box.windows)
        t3 = time.perf_counter()
        render(planes)
        t4 = time.perf_counter()
        for name, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            stages[name].append(dt * 1e3)
    print(f"{args.events} '{args.preset}' events, deposits per event: median {np.median(n_deposits):.0f}, "
          f"max {max(n_deposits)}")
    for name, ms in stages.items():
        print(f"{name:16s} median {np.median(ms):7.1f} ms   p90 {np.percentile(ms, 90):7.1f} ms")


if __name__ == "__main__":
    main()
