"""Training throughput and peak memory of the model presets on this machine.

    python benchmarks/bench_training.py            # all cases, ~3-5 minutes on 2 CPU cores
    python benchmarks/bench_training.py --quick    # fewer steps
    python benchmarks/bench_training.py --device cuda

Every case runs in a fresh process (so its peak RSS is its own): build the preset,
run warm-up + timed training steps (forward, PL weight maps, loss, backward, RMSProp
step) on synthetic sparse images (about 1.5% non-zero pixels along lines, like the
simulated crops). Writes ``benchmarks/results/training.json`` and prints a Markdown table.
Peak memory is the process's maximum resident set size (``resource.getrusage``) on
the CPU, ``torch.cuda.max_memory_allocated`` on a GPU. The load average at the start of
each case is recorded: on a shared machine other jobs slow the wall-clock numbers down;
the process CPU time per step (all threads) is much less sensitive to them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: preset, image side, batch, mode (fp32 | bf16 | cl = channels-last), timed steps
CASES = [
    ("paper", 512, 1, "fp32", 2),
    ("mcc8", 512, 1, "fp32", 2),
    ("cpu", 512, 1, "fp32", 3),
    ("cpu", 256, 8, "fp32", 3),
    ("cpu", 256, 8, "cl", 2),
    ("cpu", 256, 8, "bf16", 1),
]


def synthetic_batch(batch: int, size: int, seed: int = 0):
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    image = np.zeros((batch, 1, size, size), np.float32)
    label = np.zeros((batch, size, size), np.int64)
    inst = np.full((batch, size, size), -1, np.int64)
    vertex = np.zeros((batch, 2), np.float32)
    n_lines = max(1, int(0.015 * size * size / (0.4 * size)))
    for b in range(batch):
        r0, c0 = rng.integers(size // 4, 3 * size // 4, 2)
        vertex[b] = (r0, c0)
        for k in range(n_lines):
            angle = rng.uniform(0, 2 * np.pi)
            t = np.arange(int(0.4 * size))
            rr = np.clip((r0 + t * np.sin(angle)).astype(int), 0, size - 1)
            cc = np.clip((c0 + t * np.cos(angle)).astype(int), 0, size - 1)
            image[b, 0, rr, cc] = rng.uniform(15, 120, len(t))
            label[b, rr, cc] = 1 + k % 2
            inst[b, rr, cc] = k
    return (torch.from_numpy(image), torch.from_numpy(label), torch.from_numpy(inst), torch.from_numpy(vertex))


def run_one(preset: str, size: int, batch: int, mode: str, steps: int, device_name: str) -> dict:
    import torch

    from larseg.model import build_model, count_parameters
    from larseg.train.loss import per_image_loss, weight_maps

    device = torch.device(device_name)
    load = os.getloadavg()[0]
    model = build_model(preset).to(device)
    x, label, inst, vertex = (t.to(device) for t in synthetic_batch(batch, size))
    if mode == "cl":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.RMSprop(model.parameters(), lr=3e-4)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mode == "bf16"):
            logits = model(x)
        w = weight_maps("pixel", x, label, inst, vertex)
        loss = per_image_loss(logits, label, w).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up
    times, cpu = [], []
    for _ in range(steps):
        t, c = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    sec = min(times)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"preset": preset, "size": size, "batch": batch, "mode": mode, "steps": steps,
            "parameters": count_parameters(model), "seconds_per_step": sec,
            "cpu_seconds_per_step": min(cpu), "seconds_per_image": sec / batch,
            "images_per_second": batch / sec, "peak_memory_mib": peak, "rss_before_training_mib": rss_before,
            "load_average": load, "threads": torch.get_num_threads(), "device": str(device),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true", help="one timed step per case")
    p.add_argument("--one", nargs=5, metavar=("PRESET", "SIZE", "BATCH", "MODE", "STEPS"), help=argparse.SUPPRESS)
    p.add_argument("--output", default=str(HERE / "results" / "training.json"))
    args = p.parse_args()
    if args.one:
        preset, size, batch, mode, steps = args.one
        print(json.dumps(run_one(preset, int(size), int(batch), mode, int(steps), args.device)))
        return
    results = []
    t0 = time.perf_counter()
    for preset, size, batch, mode, steps in CASES:
        if args.device.startswith("cuda"):
            batch = batch * 8 if size == 512 else batch * 4
            mode = "bf16" if mode == "fp32" else mode
        steps = 1 if args.quick else steps
        cmd = [sys.executable, __file__, "--device", args.device, "--one", preset, str(size), str(batch), mode,
               str(steps)]
        env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            print(f"{preset} {size} {mode}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"  {preset:6s} {size}x{size} batch {batch} {mode:4s}: {r['seconds_per_step']:.2f} s/step", flush=True)
    import torch

    meta = {"machine": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "python": platform.python_version(), "seconds_total": time.perf_counter() - t0}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print()
    print("| preset | input | batch | mode | params | s/step | images/s | s/image | CPU s/step | peak RSS (MiB) "
          "| load avg |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['preset']} | {r['size']}x{r['size']} | {r['batch']} | {r['mode']} | "
              f"{r['parameters'] / 1e6:.2f} M | {r['seconds_per_step']:.2f} | {r['images_per_second']:.2f} | "
              f"{r['seconds_per_image']:.3f} | {r['cpu_seconds_per_step']:.2f} | {r['peak_memory_mib']:.0f} | "
              f"{r['load_average']:.1f} |")
    print(f"\nwrote {args.output} ({meta['seconds_total']:.0f} s)")


if __name__ == "__main__":
    main()
