"""Draw docs/images/architecture.png: larseg's layers, what flows between them, and the network boundary.

    .venv/bin/python scripts/architecture_picture.py [-o docs/images/architecture.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

LAYERS = [
    ("physics", "generators,\ntransport\n-> deposits, truth", "#dbe9f6"),
    ("detector", "drift, wires,\nresponse, crops\n-> images, labels", "#dbe9f6"),
    ("data", "larcv3, LArCV\nROOT, npy/npz;\nformat sniffing", "#e4f2dc"),
    ("simulation", "preset + seed\n-> one file,\nbit for bit", "#e4f2dc"),
    ("model", "registry, skeleton,\ncontract, Predictor,\nONNX, metrics", "#fbe3c9"),
    ("train", "loss weights,\nRMSProp, DDP,\nbest val. ICPF", "#f6d9d9"),
    ("eval", "Table I, figures,\nstudies,\ndisplays", "#f6d9d9"),
    ("infer", "files ->\nlabelled files,\nexport", "#f6d9d9"),
]
BOUNDARY = [
    ("conventions", "classes 0/1/2, threshold 10"),
    ("model.registry", "config -> network"),
    ("model.backends", "dense | sparse layers"),
    ("model.uresnet", "one skeleton, one ResBlock"),
    ("model.contract", "plane, threshold, scale, pad"),
    ("model.predictor", "Predictor = load_model(path)"),
    ("model.device", "cpu | cuda | auto"),
]


def draw(out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(15, 6.2))
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 6.6)
    ax.axis("off")
    w, h, y = 1.78, 1.6, 4.3
    for i, (name, text, colour) in enumerate(LAYERS):
        x = 0.2 + i * 1.98
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=colour, ec="k", lw=1))
        ax.text(x + w / 2, y + h - 0.25, name, ha="center", va="center", fontsize=11, weight="bold")
        ax.text(x + w / 2, y + 0.62, text, ha="center", va="center", fontsize=8)
        if i:
            ax.annotate("", xy=(x - 0.02, y + h / 2), xytext=(x - 0.18, y + h / 2),
                        arrowprops={"arrowstyle": "->", "lw": 1.4})
    ax.text(8.0, 6.3, "larseg: each layer imports only the layers to its left "
                      "(tests/test_architecture.py: no import cycles)", ha="center", fontsize=10)
    # the network boundary, under "model"
    mx = 0.2 + 4 * 1.98
    bx, by, bw, bh = 4.3, 0.25, 7.4, 3.45
    ax.add_patch(FancyBboxPatch((bx, by), bw, bh, boxstyle="round,pad=0.05", fc="#fff5e8", ec="#c97a1c", lw=1.2))
    ax.annotate("", xy=(bx + bw / 2, by + bh + 0.05), xytext=(mx + w / 2, y - 0.05),
                arrowprops={"arrowstyle": "-", "lw": 1.0, "ls": "--", "color": "#c97a1c"})
    ax.text(bx + bw / 2, by + bh - 0.25, "the network boundary: every trained network runs through one Predictor",
            ha="center", fontsize=9.5, weight="bold", color="#8a4b00")
    for k, (mod, what) in enumerate(BOUNDARY):
        yy = by + bh - 0.7 - k * 0.4
        ax.text(bx + 0.25, yy, mod, fontsize=8.5, family="monospace", va="center")
        ax.text(bx + 2.7, yy, what, fontsize=8.5, va="center")
    users = "users of the Predictor:\ntraining validation\nlarseg evaluate / display\nstudies (mask, scale, ...)\n" \
            "larseg predict\nONNX parity (export)"
    ax.text(13.0, 2.0, users, fontsize=8.5, va="center", ha="left",
            bbox={"boxstyle": "round", "fc": "white", "ec": "grey"})
    ax.text(0.3, 2.0, "side layers:\nvalidate (physics vs references)\nviz (pictures)\ncli (typer, thin)\n"
                      "config (YAML presets)", fontsize=8.5, va="center",
            bbox={"boxstyle": "round", "fc": "white", "ec": "grey"})
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/architecture.png"))
    print(draw(parser.parse_args().output))


if __name__ == "__main__":
    main()
