"""End-to-end training throughput of the sparse-cpu recipe (data loader, weight maps, network, validation).

    python benchmarks/bench_train_loop.py [--steps 120] [--train data/mpv-train.h5] [--val data/mpv-val.h5]

Runs :func:`larseg.train.train` for ``--steps`` steps of 8 crops (``num_workers`` as the
preset: 1), validation on 16 images, and prints crops/s including start-up. Compare
two versions by running it alternately with ``PYTHONPATH=<other checkout>/src``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

from larseg.train.loop import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--train", default="data/mpv-train.h5")
    ap.add_argument("--val", default="data/mpv-val.h5")
    a = ap.parse_args()
    settings = {"max_steps": a.steps, "val_max_images": 16, "checkpoint_every": 100000,
                "images_per_epoch": 8 * a.steps, "epochs": 1, "lr_milestones": [], "bn_recalibration": 0}
    run = tempfile.mkdtemp(prefix="bench-train-")
    try:
        t0 = time.perf_counter()
        train([a.train], [a.val], run, model="sparse-cpu", training="sparse-cpu", settings=settings, device="cpu",
              progress=False)
        dt = time.perf_counter() - t0
    finally:
        shutil.rmtree(run, ignore_errors=True)
    print(f"{a.steps} steps of 8 crops in {dt:.1f} s = {8 * a.steps / dt:.1f} crops/s")


if __name__ == "__main__":
    main()
