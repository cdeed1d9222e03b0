"""Inference latency and peak memory on this machine: whole 3-plane events and 512x512 crops, PyTorch vs onnxruntime.

    python benchmarks/bench_inference.py                    # every case, about 4 minutes on 2 CPU cores
    python benchmarks/bench_inference.py --quick            # the cpu preset only, about 3 minutes
    python benchmarks/bench_inference.py --model models/larseg-cpu.pt --seam-events 5

Cases (each in a fresh process, so its peak RSS is its own):

* whole event: the three planes (1008 rows x 2400 / 2400 / 3456 wires) of simulated
  ``nue-cc --full-event`` events (fixed seed), through :class:`larseg.model.Predictor`
  exactly as ``larseg predict`` runs them: ``full`` (the whole image, zero-padded) and
  ``tiles`` (512 x 512 tiles overlapping by >= 128 px, empty tiles skipped), with
  the PyTorch and the onnxruntime backends. Latency is the mean wall-clock time per
  event after one warm-up event. For the paper and mcc8 presets a whole event is
  estimated from their crop latency (crop seconds x the padded event area / 512^2).
* crops: 512 x 512 images, batch 1, one at a time: crops/s.
* seam: a trained cpu model (``--model``; default models/larseg-cpu.pt, else
  runs/uresnet-cpu/best.pt) on ``--seam-events`` events, full vs tiles: the largest
  and mean absolute difference of the track/shower scores over the charged pixels
  (>= 10) and the fraction of those pixels whose label differs.

Timings use random weights (latency does not depend on them) and every core
(``torch.set_num_threads(os.cpu_count())``, the same for onnxruntime). Peak memory
is the process's maximum RSS (``resource.getrusage``), including Python, torch and
onnxruntime themselves (``baseline_mib``: RSS before the first inference). Writes
``benchmarks/results/inference.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EVENT_SEED, N_TIMED_EVENTS = 2019, 2
CROP = 512

#: (preset, kind, mode, backend, repeats)
CASES = [
    ("cpu", "event", "full", "torch", N_TIMED_EVENTS),
    ("cpu", "event", "full", "onnx", N_TIMED_EVENTS),
    ("cpu", "event", "tiles", "torch", N_TIMED_EVENTS),
    ("cpu", "event", "tiles", "onnx", N_TIMED_EVENTS),
    ("cpu", "crop", "full", "torch", 4),
    ("cpu", "crop", "full", "onnx", 4),
    ("mcc8", "crop", "full", "torch", 1),
    ("mcc8", "crop", "full", "onnx", 1),
    ("paper", "crop", "full", "torch", 1),
    ("paper", "crop", "full", "onnx", 1),
]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulate_events(path: Path, n: int) -> None:
    """Whole nue-cc events (fixed seed) as a plane<k> .npz: the benchmark's input."""
    import numpy as np

    from larseg.config import load_preset, replace
    from larseg.data.arrays import save_npz
    from larseg.simulation import simulate_entry

    config = replace(load_preset("simulation", "nue-cc"), crop=False)
    entries = [simulate_entry(config, EVENT_SEED, k) for k in range(n)]
    planes = [np.stack([e.planes[p].image for e in entries]).astype(np.float32) for p in range(3)]
    save_npz(path, planes)


def segmenter(preset: str, backend: str, model_path: str | None = None):
    import io

    from larseg.model import InputContract, Predictor, build_model
    from larseg.model.io import load_network
    from larseg.model.onnx import OnnxRunner, export_onnx

    module = load_network(model_path) if model_path else build_model(preset).eval()
    if backend == "torch":
        return Predictor.from_module(module, source=preset)
    buf = io.BytesIO()
    export_onnx(module, buf)
    return Predictor(OnnxRunner(buf.getvalue(), threads=os.cpu_count()), module.config,
                     InputContract(multiple=module.config.multiple), source=preset)


def run_case(case: dict) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    preset, kind, mode, backend, repeats = (case[k] for k in ("preset", "kind", "mode", "backend", "repeats"))
    load = os.getloadavg()[0]
    net = segmenter(preset, backend)
    out = dict(case, threads=torch.get_num_threads(), load_average=load)
    if kind == "crop":
        rng = np.random.default_rng(0)
        crop = np.zeros((CROP, CROP), np.float32)
        idx = rng.integers(0, CROP, size=(2, int(0.015 * CROP * CROP)))
        crop[idx[0], idx[1]] = rng.uniform(15, 120, idx.shape[1])
        out["baseline_mib"] = rss_mib()
        net.predict(crop)  # warm-up
        t0 = time.perf_counter()
        for _ in range(repeats):
            net.predict(crop)
        dt = (time.perf_counter() - t0) / repeats
        out.update(seconds_per_crop=dt, crops_per_second=1.0 / dt, peak_memory_mib=rss_mib())
        return out
    events = np.load(case["events"])
    n = len(events["plane0"])
    planes = [[events[f"plane{p}"][k] for p in range(3)] for k in range(n)]
    out["baseline_mib"] = rss_mib()
    net.predict_batch(planes[0], mode)  # warm-up on the first event
    t0 = time.perf_counter()
    for k in range(1, 1 + repeats):
        net.predict_batch(planes[k % n], mode)
    dt = (time.perf_counter() - t0) / repeats
    out.update(seconds_per_event=dt, peak_memory_mib=rss_mib(),
               shapes=[list(p.shape) for p in planes[0]])
    return out


#: (tile, overlap) settings compared with the whole image in the seam study; the first is the default
SEAM_TILINGS = [(512, 128), (256, 64)]


def run_seam(case: dict) -> dict:
    """Full vs tiles scores of a trained model on whole events, over the charged pixels."""
    import numpy as np
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    net = segmenter("cpu", "torch", case["model"])
    events = np.load(case["events"])
    n = len(events["plane0"])
    stats = {t: {"max": 0.0, "sum": 0.0, "count": 0, "flips": 0, "seconds": 0.0} for t in SEAM_TILINGS}
    t_full, pixels = 0.0, 0
    for k in range(n):
        images = [events[f"plane{p}"][k] for p in range(3)]
        masks = [im >= 10 for im in images]
        pixels += sum(int(m.sum()) for m in masks)
        t0 = time.perf_counter()
        full = net.predict_batch(images, "full")
        t_full += time.perf_counter() - t0
        for tiling, st in stats.items():
            t0 = time.perf_counter()
            tiles = net.predict_batch(images, "tiles", tile=tiling[0], overlap=tiling[1])
            st["seconds"] += time.perf_counter() - t0
            for m, a, b in zip(masks, full, tiles):
                if not m.any():
                    continue
                d = np.abs(a[1:] - b[1:])[:, m]  # track and shower scores
                st["max"] = max(st["max"], float(d.max()))
                st["sum"] += float(d.sum())
                st["count"] += d.size
                st["flips"] += int(np.count_nonzero(a.argmax(0)[m] != b.argmax(0)[m]))
    tilings = [{"tile": t, "overlap": o, "max_abs_diff": st["max"], "mean_abs_diff": st["sum"] / max(st["count"], 1),
                "label_flips": st["flips"], "label_flip_fraction": st["flips"] / max(pixels, 1),
                "seconds_per_event": st["seconds"] / n} for (t, o), st in stats.items()]
    return {"model": case["model"], "events": n, "charged_pixels": pixels, "seconds_per_event_full": t_full / n,
            **{k: tilings[0][k] for k in ("max_abs_diff", "mean_abs_diff", "label_flips", "label_flip_fraction")},
            "tilings": tilings}


def in_subprocess(payload: dict) -> dict:
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    env.pop("OMP_NUM_THREADS", None)
    proc = subprocess.run([sys.executable, __file__, "--case", json.dumps(payload)], capture_output=True, text=True,
                          env=env, timeout=1200)
    if proc.returncode != 0:
        return dict(payload, error=(proc.stderr.strip().splitlines() or ["failed"])[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def padded_area(shapes, m: int = 32) -> int:
    return sum((-(-h // m) * m) * (-(-w // m) * m) for h, w in shapes)


def table(results: list[dict], seam: dict | None) -> str:
    lines = ["| preset | input | mode | backend | latency | throughput | peak memory |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['preset']} | {r['kind']} | {r['mode']} | {r['backend']} | error: {r['error']} | | |")
            continue
        if r["kind"] == "event":
            lines.append(f"| {r['preset']} | 3-plane event | {r['mode']} | {r['backend']} | "
                         f"{r['seconds_per_event']:.2f} s/event | {1 / r['seconds_per_event']:.2f} events/s | "
                         f"{r['peak_memory_mib'] / 1024:.2f} GiB |")
        elif r["kind"] == "estimate":
            lines.append(f"| {r['preset']} | 3-plane event | full | {r['backend']} | ~{r['seconds_per_event']:.0f} "
                         f"s/event (estimated) | | not measured |")
        else:
            lines.append(f"| {r['preset']} | 512x512 crop | full | {r['backend']} | {r['seconds_per_crop']:.3f} s | "
                         f"{r['crops_per_second']:.2f} crops/s | {r['peak_memory_mib'] / 1024:.2f} GiB |")
    text = "\n".join(lines)
    if seam and "tilings" in seam:
        text += (f"\n\nfull vs tiles, trained model {seam['model']}, {seam['events']} events, "
                 f"{seam['charged_pixels']} charged pixels (full: {seam['seconds_per_event_full']:.2f} s/event):\n\n"
                 "| tile / overlap | max abs diff | mean abs diff | labels differing | tiles s/event |\n"
                 "|---|---|---|---|---|")
        for t in seam["tilings"]:
            text += (f"\n| {t['tile']} / {t['overlap']} | {t['max_abs_diff']:.2e} | {t['mean_abs_diff']:.2e} | "
                     f"{t['label_flips']} ({100 * t['label_flip_fraction']:.3f}%) | {t['seconds_per_event']:.2f} |")
    elif seam:
        text += f"\n\nseam study failed: {seam.get('error')}"
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="The cpu preset only.")
    ap.add_argument("--model", help="Trained cpu model for the full-vs-tiles difference.")
    ap.add_argument("--seam-events", type=int, default=3, help="Events for the full-vs-tiles difference (0: skip).")
    ap.add_argument("--output", type=Path, default=HERE / "results" / "inference.json")
    args = ap.parse_args()
    if args.case:
        case = json.loads(args.case)
        print(json.dumps(run_seam(case) if case.get("kind") == "seam" else run_case(case)))
        return
    t_start = time.perf_counter()
    model = args.model or next((str(p) for p in (REPO / "models" / "larseg-cpu.pt",
                                                 REPO / "runs" / "uresnet-cpu" / "best.pt") if p.is_file()), None)
    results = []
    seam = None
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.npz"
        simulate_events(events, max(N_TIMED_EVENTS, args.seam_events, 1))
        for preset, kind, mode, backend, repeats in CASES:
            if args.quick and preset != "cpu":
                continue
            payload = {"preset": preset, "kind": kind, "mode": mode, "backend": backend, "repeats": repeats,
                       "events": str(events)}
            r = in_subprocess(payload)
            print(json.dumps({k: v for k, v in r.items() if k != "events"}), file=sys.stderr, flush=True)
            results.append(r)
        shapes = next((r["shapes"] for r in results if r.get("kind") == "event" and "shapes" in r), None)
        if shapes:
            for r in list(results):
                if r.get("kind") == "crop" and r["preset"] != "cpu" and "seconds_per_crop" in r:
                    results.append({"preset": r["preset"], "kind": "estimate", "mode": "full",
                                    "backend": r["backend"],
                                    "seconds_per_event": r["seconds_per_crop"] * padded_area(shapes) / CROP ** 2})
        if model and args.seam_events > 0:
            seam = in_subprocess({"kind": "seam", "model": model, "events": str(events)})
            print(json.dumps(seam), file=sys.stderr, flush=True)
    for r in results:
        r.pop("events", None)
    meta = {"machine": platform.machine(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "seconds_total": time.perf_counter() - t_start,
            "event_sample": f"nue-cc --full-event, seed {EVENT_SEED}"}
    try:
        import onnxruntime
        import torch

        meta.update(torch=torch.__version__, onnxruntime=onnxruntime.__version__)
    except ImportError:
        pass
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "results": results, "seam": seam}, indent=2) + "\n")
    print(table(results, seam))
    print(f"\nwrote {args.output} ({meta['seconds_total']:.0f} s)")


if __name__ == "__main__":
    main()
