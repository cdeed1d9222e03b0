"""Write the model card (models/README.md) of a shipped model from what the run recorded.

    .venv/bin/python scripts/model_card.py models/larseg-sparse-cpu.pt --run runs/uresnet-sparse \
        --pretrain runs/pretrain-sparse --evaluation results/table1-cpu --hardware "2-core AMD EPYC (AVX2), no GPU" \
        --command-file runs/final-sparse.sh -o models/README.md

Everything in the card is read from files: the checkpoint (configs, provenance, epoch,
best validation ICPF), the run's logs (steps, images/s, wall time, per-epoch validation),
the evaluation directory written by ``larseg evaluate`` (Table I) and the shell script
that ran the training. Nothing is typed in by hand except the hardware description.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from pathlib import Path

from larseg.atomic import atomic_open
from larseg.config import to_yaml
from larseg.model import build_model, count_flops, count_parameters
from larseg.model.io import checkpoint_model_config, read_checkpoint


def _csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _pct(v) -> str:
    return f"{100 * float(v):.2f}%"


def _run_summary(run: Path) -> tuple[str, list[str]]:
    """One line of totals and the per-epoch validation table of a training run directory."""
    train = _csv(run / "train.csv")
    val = _csv(run / "val.csv")
    lines = []
    if train:
        rates = sorted(float(r["images_per_s"]) for r in train if r.get("images_per_s"))
        median = rates[len(rates) // 2] if rates else float("nan")
        total = f"{train[-1]['step']} steps, median {median:.2f} images/s"
    else:
        total = "no training log"
    if val:
        lines += ["| epoch | step | validation loss | ICPF mean | ICPF 90% | shower error | track error | images |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in val:
            lines.append(f"| {float(r['epoch']):g} | {r['step']} | {float(r['loss']):.3f} | {_pct(r['icpf_mean'])} | "
                         f"{_pct(r['icpf_q90'])} | {_pct(r['shower_error'])} | {_pct(r['track_error'])} | "
                         f"{r['n_images']} |")
    return total, lines


def _wall_time(log: Path | None) -> str:
    """Total time of the progress bars of a training log (each bar's last 'elapsed', summed)."""
    if not log or not log.exists():
        return "not recorded"
    last: dict[str, int] = {}
    for line in log.read_text().splitlines():
        if "elapsed" not in line or ":" not in line:
            continue
        bar = line.split(":", 1)[0]
        h, m, sec = (int(v) for v in line.split("elapsed", 1)[1].split()[0].split(":"))
        last[bar] = 3600 * h + 60 * m + sec
    if not last:
        return "not recorded"
    total = sum(last.values())
    return f"{total // 3600} h {total % 3600 // 60:02d} min (sum of {len(last)} progress bars)"


def card(model_path: Path, run: Path, pretrain: Path | None, evaluation: Path | None, hardware: str,
         command_file: Path | None, train_log: Path | None, pretrain_log: Path | None,
         validation: Path | None = None) -> str:
    ckpt = read_checkpoint(model_path)
    mcfg = checkpoint_model_config(ckpt, model_path)
    net = build_model(mcfg)
    params = count_parameters(net)
    cost = ("sparse: computed on the non-zero pixels only, so its cost grows with them (docs/results.md)"
            if mcfg.sparse else f"{count_flops(net, (1, 1, 512, 512)) / 1e9:.1f} GFLOP per 512x512 image")
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:16]
    prov = ckpt.get("provenance", {})
    total, val_lines = _run_summary(run)
    out = [f"# Model card: `{model_path.name}`", "",
           f"U-ResNet track/shower pixel labeller, `{mcfg.name}` preset: {params / 1e6:.2f} M parameters, "
           f"{cost}. Classes: background, track, shower.", "",
           "```python", "from larseg import load_model", f"model = load_model('models/{model_path.name}')",
           "scores = model.predict(image)   # (H, W) -> (3, H, W) softmax: background, track, shower", "```", "",
           "## Provenance", "",
           f"- file: `{model_path.name}`, {model_path.stat().st_size / 1e6:.1f} MB, sha256 {digest}...",
           f"- larseg {prov.get('larseg_version', '?')}, commit {prov.get('git_commit', '?')}",
           f"- checkpoint of epoch {ckpt.get('epoch')}, step {ckpt.get('step')}; the run's best validation "
           f"{ckpt.get('metric', 'ICPF')} with running statistics: "
           f"{_pct(ckpt['best_metric']) if 'best_metric' in ckpt else '?'}",
           *([f"- BatchNorm statistics recalibrated (larseg recalibrate): {ckpt['bn_recalibrated']['batches']} "
              f"batches of {ckpt['bn_recalibrated']['batch_size']} whole images of "
              f"{', '.join(Path(f).name for f in ckpt['bn_recalibrated']['files'])}"]
             if "bn_recalibrated" in ckpt else []),
           f"- hardware: {hardware}",
           f"- U-ResNet training: {total}; wall time {_wall_time(train_log)}",
           f"- encoder pretraining (transfer learning): run `{pretrain}`, wall time {_wall_time(pretrain_log)}"
           if pretrain else "- no encoder pretraining", ""]
    out += ["## Data", "",
            "Simulated with larseg (`scripts/make_datasets.sh data 1`, seeds in the script): "
            "training `mpv-train` (12 000 MPV/MPR-like 512x512 collection-plane crops, seed 1001), validation "
            "`mpv-val` (1000, seed 1002), pretraining `single-train` / `single-val` (seeds 1004 / 1005). "
            "Test samples are disjoint (other seeds).", ""]
    if command_file and command_file.exists():
        out += ["## Commands", "", "```sh", command_file.read_text().strip(), "```", ""]
    if val_lines:
        out += ["## Validation after every epoch", ""] + val_lines + [""]
    if validation and (validation / "table1.json").exists():
        row = json.loads((validation / "table1.json").read_text())[0]
        out[out.index("## Data") - 1:out.index("## Data") - 1] = [
            f"- **validation ICPF of this file**: {row['icpf_mean']:.1f}% mean, {row['icpf_q90']:.1f}% 90% quantile "
            f"(shower {row['shower_error']:.1f}%, track {row['track_error']:.1f}%; `larseg evaluate` on "
            f"{row['events']} validation images)"]
    if evaluation and (evaluation / "table1.md").exists():
        out += ["## Table I (`larseg evaluate`)", "", f"`scripts/paper_results.sh {model_path}`, benchmark samples "
                "of `scripts/make_datasets.sh` (first N events of each):", "",
                (evaluation / "table1.md").read_text().strip(), ""]
        ev = evaluation / "evaluation.json"
        if ev.exists():
            info = json.loads(ev.read_text())
            cmd = info.get("command")
            if cmd:
                out += [f"Command: `{cmd}`", ""]
    out += ["## Configs", "", "Model:", "", "```yaml", to_yaml(mcfg).strip(), "```", ""]
    tcfg = ckpt.get("training_config")
    if tcfg is not None:
        out += ["Training:", "", "```yaml", tcfg.strip(), "```", ""]
    out += ["## Limits", "",
            "- Trained on simulation only (larseg's own simulator, not MicroBooNE's), collection plane (Y), "
            "512x512 and 256x256 crops; other planes and whole events are run fully convolutionally.",
            "- A CPU-budget model: its ICPF is well above the paper's GPU-trained network; see Table I.", ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--pretrain", type=Path)
    ap.add_argument("--evaluation", type=Path, help="'larseg evaluate' directory of the benchmark samples.")
    ap.add_argument("--validation", type=Path, help="'larseg evaluate' directory of this file on validation data.")
    ap.add_argument("--hardware", required=True)
    ap.add_argument("--command-file", type=Path)
    ap.add_argument("--train-log", type=Path)
    ap.add_argument("--pretrain-log", type=Path)
    ap.add_argument("-o", "--output", type=Path, default=Path("models/README.md"))
    a = ap.parse_args()
    text = card(a.model, a.run, a.pretrain, a.evaluation, a.hardware, a.command_file, a.train_log, a.pretrain_log,
                a.validation)
    with atomic_open(a.output, "w") as f:
        f.write(text + "\n")
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
