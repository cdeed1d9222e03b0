"""Simulation throughput: events per second per core, crops and full events, with a stage profile.

    .venv/bin/python benchmarks/bench_simulation.py [--events 60] [--full-events 10]

One process (= one core). Writes benchmarks/results/simulation.json and prints
a Markdown table. The goal (issue 3): >= 5 events/s/core for mpv 512x512 crops
of all three planes, including writing the file.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import warnings
from pathlib import Path

from larseg.config import load_preset, replace
from larseg.data.larcv3 import Larcv3Writer
from larseg.data.products import to_event
from larseg.simulation.pipeline import StageTimer, simulate_entry

OUT = Path(__file__).resolve().parent / "results"


def run(sample: str, n: int, crop: bool, seed: int = 2024) -> dict:
    config = load_preset("simulation", sample)
    if not crop:
        config = replace(config, crop=False)
    simulate_entry(config, seed, 10_000)  # warm-up: builds the range tables once
    timer = StageTimer()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with Larcv3Writer(Path(tmp) / "bench.h5") as w:
            for k in range(n):
                entry = simulate_entry(config, seed, k, timer)
                timer.restart()
                w.write(to_event(entry))
                timer.lap("write")
        total = time.perf_counter() - start
    return {"sample": sample, "mode": "crop 512x512 x3" if crop else "full event x3", "events": n,
            "seconds": round(total, 3), "events_per_s_per_core": round(n / total, 2),
            "stage_ms_per_event": {k: round(1000 * v / n, 1) for k, v in timer.seconds.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=60)
    ap.add_argument("--full-events", type=int, default=10)
    args = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    rows = [run("mpv", args.events, True), run("1e1p", args.events // 2, True),
            run("mpv", args.full_events, False), run("nue-cc", args.full_events, False)]
    result = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
              "results": rows}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "simulation.json").write_text(json.dumps(result, indent=1))
    stages = ["generate", "transport", "detector", "crop", "render", "write"]
    print("| sample | mode | events | events/s/core | " + " | ".join(f"{s} ms" for s in stages) + " |")
    print("|---|---|---|---|" + "---|" * len(stages))
    for r in rows:
        ms = " | ".join(str(r["stage_ms_per_event"].get(s, 0.0)) for s in stages)
        print(f"| {r['sample']} | {r['mode']} | {r['events']} | {r['events_per_s_per_core']} | {ms} |")


if __name__ == "__main__":
    main()
