"""Evaluation throughput of a dense U-ResNet on this machine (``larseg evaluate``'s inner loop).

    python benchmarks/bench_eval.py                       # cpu preset, 24 events of data/mpv-test.h5
    python benchmarks/bench_eval.py --events 48 --batch 1 --preset paper --device cuda

Runs :func:`larseg.eval.evaluate_file` (reading the entries, thresholding, the forward pass,
softmax, per-image metrics, score histograms and the per-event truth records) with a network
of the chosen preset at its initial weights (the cost does not depend on the weights) on
512x512 collection-plane crops, after one warm-up batch. Torch uses its default number of
threads unless ``--threads`` is given. Writes ``benchmarks/results/eval.json`` and prints a
Markdown table. The load average at the start is recorded: other jobs on the machine slow
the wall-clock numbers down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _sample(path: str | None, events: int) -> Path:
    if path:
        return Path(path)
    default = ROOT / "data" / "mpv-test.h5"
    if default.is_file():
        return default
    from larseg.config import load_preset
    from larseg.simulation import simulate_file

    out = Path(tempfile.mkdtemp()) / "mpv.h5"
    simulate_file(load_preset("simulation", "mpv"), events, out, seed=7)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="cpu", help="Model preset (default cpu).")
    ap.add_argument("--file", default=None, help="Sample file (default data/mpv-test.h5, else simulated).")
    ap.add_argument("--events", type=int, default=24)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default).")
    ap.add_argument("--output", default=str(HERE / "results" / "eval.json"))
    args = ap.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    import torch

    from larseg.eval.evaluate import evaluate_file
    from larseg.eval.io import load_model_info
    from larseg.model import build_model, count_parameters

    if args.threads:
        torch.set_num_threads(args.threads)
    sample = _sample(args.file, args.events)
    model = build_model(args.preset).to(args.device).eval()
    info = load_model_info(model)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        evaluate_file(info, sample, Path(tmp) / "warm", max_events=args.batch, batch=args.batch)  # warm-up
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        res = evaluate_file(info, sample, Path(tmp) / "run", max_events=args.events, batch=args.batch)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    n = res.n_events
    row = {
        "preset": args.preset, "parameters": count_parameters(model), "image": "512x512", "events": n,
        "batch": args.batch, "device": args.device, "threads": torch.get_num_threads(),
        "seconds": round(seconds, 3), "events_per_second": round(n / seconds, 3),
        "cpu_seconds_per_event": round(cpu / n, 3), "load_average_at_start": round(load, 2),
        "sample": str(sample), "torch": torch.__version__, "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"results": [row]}, indent=1) + "\n")
    print("| preset | image | events | batch | threads | events/s | CPU s/event | load at start |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {row['preset']} | {row['image']} | {n} | {args.batch} | {row['threads']} | "
          f"{row['events_per_second']:.2f} | {row['cpu_seconds_per_event']:.2f} | {row['load_average_at_start']} |")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
