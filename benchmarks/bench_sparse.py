"""Sparse vs dense U-ResNet on this machine: latency, training step and peak memory; scaling with the active pixels.

    python benchmarks/bench_sparse.py                 # every case, several minutes on 2 CPU cores
    python benchmarks/bench_sparse.py --smoke         # one repetition, small inputs: checks the script runs
    python benchmarks/bench_sparse.py --threads 1 --repeats 3

Models: the ``cpu`` preset (dense) and ``sparse-cpu`` (the same widths as a sparse
U-ResNet, :mod:`larseg.model.sparse`), random weights (timings do not depend on them);
with ``--spconv`` also ``sparse-cpu/spconv`` (the same network on spconv's kernels).

Cases (each in a fresh process, so its peak RSS is its own):

* ``crop``: real 512 x 512 crops, plane 2 of ``data/mpv-test.h5`` (threshold 10),
  batch 1, cycling through the first images; needs the data file.
* ``event``: whole simulated 3-plane ``nue-cc`` events (fixed seed; 1008 rows x
  2400 / 2400 / 3456 wires, threshold 10), the planes one at a time as ``larseg
  predict --mode full`` runs them; the training step sums the three planes' losses.
* ``active``: 512 x 512 synthetic line images with a growing number of active pixels
  (sparse only; the dense cost does not depend on it).
* ``size``: square synthetic images of growing side with the same number of active
  pixels (both models).

Inference is ``Predictor.logits`` (eval mode, no_grad, padding to the network's
multiple). A training step is forward + per-image class-weighted loss + backward +
SGD step, in training mode. Times are medians over ``--repeats`` after one warm-up;
peak memory is the process's maximum RSS (``resource.getrusage``, including Python and
torch; ``baseline_mib``: RSS before the first forward). Writes
``benchmarks/results/sparse.json`` and ``sparse.md`` and prints the Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CROP_FILE = REPO / "data" / "mpv-test.h5"
EVENT_SEED, THRESHOLD = 2019, 10.0
MODELS = ("cpu", "sparse-cpu")
#: active pixels of the "active" cases (512 x 512: 0.2% .. 6%) and the side of the "size" cases
ACTIVE_COUNTS = (500, 1000, 2000, 4000, 8000, 16000)
SIZES = (256, 512, 1024, 2048)
SIZE_ACTIVE = 2000


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line_image(side: int, n_active: int, seed: int):
    """(side, side) float32: random straight tracks (1-2 px wide, 15-120 ADC) until exactly ``n_active`` pixels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    image = np.zeros((side, side), np.float32)
    count = 0
    while count < n_active:
        r0, c0 = rng.uniform(0, side, 2)
        angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 0.5) * side
        t = np.arange(int(length))
        rr = np.clip((r0 + t * np.sin(angle)).astype(int), 0, side - 1)
        cc = np.clip((c0 + t * np.cos(angle)).astype(int), 0, side - 1)
        for dc in range(int(rng.integers(1, 3))):
            cols = np.clip(cc + dc, 0, side - 1)
            image[rr, cols] = np.maximum(image[rr, cols], rng.uniform(15, 120, len(t)))
        count = int(np.count_nonzero(image))
    extra = count - n_active
    if extra:
        rows, cols = np.nonzero(image)
        drop = rng.choice(len(rows), extra, replace=False)
        image[rows[drop], cols[drop]] = 0
    return image


def inputs(case: dict) -> list[tuple]:
    """(image (H, W), label (H, W)) pairs of a case; the label is the truth where known, else 1 at active pixels."""
    import numpy as np

    kind = case["kind"]
    if kind == "crop":
        from larseg.data.dataset import PlaneDataset

        ds = PlaneDataset([str(CROP_FILE)], plane=2, threshold=THRESHOLD)
        items = [ds[i] for i in range(case["images"])]
        return [(it["image"][0].numpy(), it["label"].numpy()) for it in items]
    if kind == "event":
        data = np.load(case["events"])
        return [(data[f"image{k}"], data[f"label{k}"]) for k in range(len(data.files) // 2)]
    side, n = (512, case["active"]) if kind == "active" else (case["side"], SIZE_ACTIVE)
    image = line_image(side, n, seed=side + n)
    return [(image, (image > 0).astype(np.int64))]


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_case(case: dict) -> dict:
    import numpy as np
    import torch

    from larseg.config import replace, resolve
    from larseg.model import Predictor, build_model, pad_to_multiple
    from larseg.train.loss import per_image_loss, weight_maps

    torch.set_num_threads(case["threads"])
    torch.manual_seed(0)
    pairs = inputs(case)
    if case["kind"] == "event":  # whole events: one timed unit is one event of three planes
        units = [pairs[k:k + 3] for k in range(0, len(pairs), 3)]
    else:
        units = [[p] for p in pairs]
    preset, _, backend = case["model"].partition("/")
    model = build_model(replace(resolve("model", preset), sparse_backend=backend) if backend else preset)
    m = model.config.multiple
    out = dict(case, load_average=os.getloadavg()[0],
               active_pixels=float(np.mean([sum(int(np.count_nonzero(im)) for im, _ in u) for u in units])),
               shapes=[list(im.shape) for im, _ in units[0]], baseline_mib=rss_mib())
    cursor = {"k": 0}

    def next_unit():
        cursor["k"] = (cursor["k"] + 1) % len(units)
        return units[cursor["k"]]

    if case["mode"] == "infer":
        model.eval()
        predictor = Predictor.from_module(model, amp=False, threshold=0.0)

        def step():
            for image, _ in next_unit():
                predictor.logits(image)
    else:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        batches = []
        for unit in units:
            planes = []
            for image, label in unit:
                x, _ = pad_to_multiple(torch.from_numpy(image)[None, None], m)
                y, _ = pad_to_multiple(torch.from_numpy(label)[None], m)
                planes.append((x, y, weight_maps("class", x, y)))
            batches.append(planes)

        def step():
            cursor["k"] = (cursor["k"] + 1) % len(batches)
            opt.zero_grad(set_to_none=True)
            loss = sum(per_image_loss(model(x), y, w).mean() for x, y, w in batches[cursor["k"]])
            loss.backward()
            opt.step()

    out["seconds"] = timed(step, case["repeats"])
    out["peak_memory_mib"] = rss_mib()
    return out


def in_subprocess(payload: dict) -> dict:
    env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    proc = subprocess.run([sys.executable, __file__, "--case", json.dumps(payload)], capture_output=True, text=True,
                          env=env, timeout=3600)
    if proc.returncode != 0:
        return dict(payload, error=(proc.stderr.strip().splitlines() or ["failed"])[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def simulate_events(path: Path, n: int, wires: int | None) -> None:
    """``n`` whole nue-cc events (fixed seed), thresholded, as image<k>/label<k> arrays (3 planes per event).

    ``wires`` keeps only that many wires of each plane, where the event is (for ``--smoke``).
    """
    import numpy as np

    from larseg.config import load_preset, replace
    from larseg.simulation import simulate_entry

    config = replace(load_preset("simulation", "nue-cc"), crop=False)
    arrays = {}
    for e in range(n):
        for p, plane in enumerate(simulate_entry(config, EVENT_SEED, e).planes):
            image = np.where(plane.image >= THRESHOLD, plane.image, 0).astype(np.float32)
            label = np.where(image > 0, plane.label, 0).astype(np.int64)
            if wires:  # the window of ``wires`` wires holding the most active pixels
                per_wire = np.count_nonzero(image, axis=0)
                start = int(np.argmax(np.convolve(per_wire, np.ones(wires), "valid")))
                image, label = image[:, start:start + wires], label[:, start:start + wires]
            arrays[f"image{3 * e + p}"], arrays[f"label{3 * e + p}"] = image, label
    np.savez(path, **arrays)


def cases(args, events: Path) -> list[dict]:
    base = {"threads": args.threads, "repeats": args.repeats}
    out = []
    for mode in ("infer", "train"):
        for model in MODELS + (("sparse-cpu/spconv",) if args.spconv else ()):
            if CROP_FILE.is_file():
                out.append(dict(base, kind="crop", model=model, mode=mode, images=2 if args.smoke else 8))
            out.append(dict(base, kind="event", model=model, mode=mode, events=str(events)))
    for mode in ("infer", "train"):
        for n in ACTIVE_COUNTS[:2] if args.smoke else ACTIVE_COUNTS:
            out.append(dict(base, kind="active", model="sparse-cpu", mode=mode, active=n))
        for side in SIZES[:2] if args.smoke else SIZES:
            for model in MODELS:
                out.append(dict(base, kind="size", model=model, mode=mode, side=side))
    return out


def _row(r: dict, label: str) -> str:
    if "error" in r:
        return f"| {label} | {r['model']} | {r['mode']} | error: {r['error']} | | |"
    return (f"| {label} | {r['model']} | {r['mode']} | {r['seconds']:.3f} s | {r['active_pixels']:.0f} | "
            f"{r['peak_memory_mib'] / 1024:.2f} GiB |")


def tables(results: list[dict]) -> str:
    head = ["| input | model | mode | time | active pixels | peak memory |", "|---|---|---|---|---|---|"]
    main = [_row(r, "512x512 crop" if r["kind"] == "crop" else
                 "3-plane event " + "/".join(f"{h}x{w}" for h, w in r.get("shapes", [])))
            for kind in ("crop", "event") for mode in ("infer", "train") for r in results
            if (r["kind"], r["mode"]) == (kind, mode)]
    text = "\n".join(head + main)
    speed = []
    for kind in ("crop", "event"):
        for mode in ("infer", "train"):
            pair = {r["model"]: r for r in results if r["kind"] == kind and r["mode"] == mode and "seconds" in r}
            if "cpu" in pair and "sparse-cpu" in pair:
                dense, sparse = pair["cpu"], pair["sparse-cpu"]
                grown = [max(r["peak_memory_mib"] - r["baseline_mib"], 1.0) for r in (dense, sparse)]
                speed.append(f"{kind} {mode}: sparse is {dense['seconds'] / sparse['seconds']:.1f}x "
                             f"faster, {dense['peak_memory_mib'] / sparse['peak_memory_mib']:.1f}x "
                             f"less peak memory ({grown[0] / grown[1]:.1f}x less above the "
                             f"{sparse['baseline_mib']:.0f} MiB the process holds before the first image)")
    if speed:
        text += "\n\n" + "\n".join(f"- {s}" for s in speed)
    active = [r for r in results if r["kind"] == "active"]
    if active:
        text += ("\n\nsparse-cpu, 512x512 synthetic lines, time vs active pixels:\n\n"
                 "| active pixels | fraction | infer | train step |\n|---|---|---|---|")
        for n in sorted({r["active"] for r in active}):
            got = {r["mode"]: r for r in active if r["active"] == n}
            cell = {k: f"{got[k]['seconds']:.3f} s" if "seconds" in got.get(k, {}) else "-" for k in ("infer", "train")}
            text += f"\n| {n} | {100 * n / 512 ** 2:.2f}% | {cell['infer']} | {cell['train']} |"
    size = [r for r in results if r["kind"] == "size"]
    if size:
        text += (f"\n\ntime vs image side, {SIZE_ACTIVE} active pixels:\n\n"
                 "| side | cpu infer | sparse-cpu infer | cpu train | sparse-cpu train |\n|---|---|---|---|---|")
        for side in sorted({r["side"] for r in size}):
            got = {(r["model"], r["mode"]): r for r in size if r["side"] == side}
            cells = [f"{got[k]['seconds']:.3f} s" if "seconds" in got.get(k, {}) else "-"
                     for k in (("cpu", "infer"), ("sparse-cpu", "infer"), ("cpu", "train"), ("sparse-cpu", "train"))]
            text += f"\n| {side} | " + " | ".join(cells) + " |"
    return text


def plot(results: list[dict], path: Path) -> Path:
    """Time against active pixels (sparse) and against image side (both models), log-log."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, marker in (("infer", "o"), ("train", "s")):
        pts = sorted((r["active"], r["seconds"]) for r in results
                     if r["kind"] == "active" and r["mode"] == mode and "seconds" in r)
        if pts:
            a.plot(*zip(*pts), marker=marker, label=f"sparse-cpu {'inference' if mode == 'infer' else 'train step'}")
        for model, style in (("cpu", "--"), ("sparse-cpu", "-")):
            pts = sorted((r["side"], r["seconds"]) for r in results
                         if r["kind"] == "size" and r["model"] == model and r["mode"] == mode and "seconds" in r)
            if pts:
                b.plot(*zip(*pts), style, marker=marker,
                       label=f"{model} {'inference' if mode == 'infer' else 'train step'}")
    a.set(xscale="log", yscale="log", xlabel="active (non-zero) pixels in a 512x512 image",
          ylabel="time per image [s]", title="time vs active pixels (sparse-cpu)")
    b.set(xscale="log", yscale="log", xlabel="image side [pixels]", ylabel="time per image [s]",
          title=f"time vs image size, {SIZE_ACTIVE} active pixels")
    b.set_xticks(SIZES, [str(v) for v in SIZES])
    b.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    for ax in (a, b):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true",
                    help="One repetition, 2 crops, one event cut to 512 wires per plane, two points per scan.")
    ap.add_argument("--repeats", type=int, default=5, help="Timed repetitions per case (median; default 5).")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="Torch threads (default: every core).")
    ap.add_argument("--spconv", action="store_true",
                    help="Also time sparse-cpu on the spconv backend (sparse-cpu/spconv) on crops and events.")
    ap.add_argument("--events", type=int, default=2, help="Simulated whole events cycled through (default 2).")
    ap.add_argument("--output", type=Path, default=HERE / "results" / "sparse.json")
    ap.add_argument("--plot-only", action="store_true", help="Redraw the tables and the plot from OUTPUT.")
    args = ap.parse_args()
    if args.plot_only:
        results = json.loads(args.output.read_text())["results"]
        args.output.with_suffix(".md").write_text(tables(results) + "\n")
        print(tables(results))
        print(f"wrote {plot(results, args.output.with_suffix('.png'))}")
        return
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return
    if args.smoke:
        args.repeats, args.events = 1, 1
    t_start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.npz"
        simulate_events(events, args.events, 512 if args.smoke else None)
        for case in cases(args, events):
            r = in_subprocess(case)
            r.pop("events", None)
            print(json.dumps(r), file=sys.stderr, flush=True)
            results.append(r)
    meta = {"machine": platform.machine(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "threads": args.threads, "repeats": args.repeats,
            "smoke": args.smoke, "seconds_total": time.perf_counter() - t_start,
            "event_sample": f"nue-cc full events, seed {EVENT_SEED}, threshold {THRESHOLD}"}
    import torch

    meta["torch"] = torch.__version__
    text = tables(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(text + "\n")
    plot(results, args.output.with_suffix(".png"))
    print(text)
    print(f"\nwrote {args.output}, {args.output.with_suffix('.md').name} and {args.output.with_suffix('.png').name} "
          f"({meta['seconds_total']:.0f} s)")


if __name__ == "__main__":
    main()
