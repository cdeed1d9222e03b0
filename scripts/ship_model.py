"""Make the shipped model: a training checkpoint without its optimiser and resume state.

    .venv/bin/python scripts/ship_model.py runs/uresnet-sparse/best.pt models/larseg-sparse-cpu.pt

Keeps what inference and provenance need (weights, model and training configs,
larseg version and commit, epoch, step, best validation metric) and drops the
optimiser, scheduler, RNG and data-order state (about half the size).
"""

from __future__ import annotations

import sys

from larseg.model.io import read_checkpoint, save_atomic

KEEP = ("format", "task", "kind", "model", "epoch", "step", "best_metric", "metric", "model_config",
        "training_config", "provenance", "world_size", "bn_recalibrated", "input_contract")


def main(src: str, dst: str) -> None:
    ckpt = read_checkpoint(src)
    save_atomic({k: ckpt[k] for k in KEEP if k in ckpt}, dst)
    print(f"wrote {dst} (epoch {ckpt.get('epoch')}, step {ckpt.get('step')}, "
          f"best {ckpt.get('metric')} {ckpt.get('best_metric')})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
