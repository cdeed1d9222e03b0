"""Training-data loading: items per second of the training dataset, with and without the reader's index cache.

    python benchmarks/bench_loading.py [--file data/mpv-train.h5] [--items 400] [--repeats 3]

One training item is what the training loop's data loader makes for one crop:
the collection-plane image, its labels, instances and vertex read from a larcv3
file, thresholded, cropped to 256x256 around the active pixels and flipped
(:class:`larseg.train.data.SegmentationData`, the ``sparse-cpu`` recipe). The
same items are read with the reader's in-memory index tables on and off
(``Larcv3File.cache_tables``), alternating, in one process, so the ratio is
measured under the same conditions. Without ``--file`` a small ``mpv`` sample is
simulated first. Writes ``benchmarks/results/loading.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _dataset(path: Path, cache: bool):
    from larseg.config import resolve
    from larseg.train.data import SegmentationData

    tcfg = resolve("training", "sparse-cpu")
    ds = SegmentationData([path], tcfg.plane, tcfg.threshold, tcfg.augment, seed=0, multiple=32)
    for f in ds.base.files:
        f.cache_tables = cache
    return ds


def _rate(path: Path, cache: bool, items: int) -> float:
    ds = _dataset(path, cache)
    n = min(items, len(ds))
    t0 = time.perf_counter()
    for k in range(n):
        item = ds[(k * 7919) % len(ds), 0]
        if "error" in item:
            raise SystemExit(item["error"])
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--items", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--output", default=str(HERE / "results" / "loading.json"))
    a = ap.parse_args()
    path = a.file
    tmp = None
    if path is None:
        from larseg.config import resolve
        from larseg.simulation import simulate_file

        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "mpv.h5"
        simulate_file(resolve("simulation", "mpv"), 120, path, seed=1)
    rates: dict[str, list[float]] = {"reader caches off": [], "reader caches on": []}
    for _ in range(a.repeats):
        for cache, key in ((False, "reader caches off"), (True, "reader caches on")):
            rates[key].append(_rate(path, cache, a.items))
    best = {k: max(v) for k, v in rates.items()}
    result = {"file": str(path), "items": a.items, "repeats": a.repeats, "rates_items_per_s": rates,
              "best_items_per_s": best, "speed_up": best["reader caches on"] / best["reader caches off"],
              "load_average": os.getloadavg()[0], "machine": platform.processor() or platform.machine(),
              "cpus": os.cpu_count()}
    out = Path(a.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"| reader | training items/s (best of {a.repeats}) |\n|---|---|")
    for k, v in best.items():
        print(f"| {k} | {v:.1f} |")
    print(f"\nspeed-up {result['speed_up']:.2f}x; wrote {out}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
