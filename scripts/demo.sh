#!/usr/bin/env bash
# The main job of `make demo` (a few minutes on 2 CPU cores once the venv is set up):
#   1. simulate small benchmark samples with a fixed seed (512x512 crops and whole events), and draw them;
#   2. with the shipped model (models/larseg-sparse-cpu.pt, see models/README.md): label every pixel of the whole
#      events (larseg predict), print the paper's Table I rows (larseg evaluate), draw the network's
#      predictions and write the HTML report (larseg report).
# Everything goes to OUT (default demo-output/). LARSEG_MODEL picks another model.
set -euo pipefail
out=${1:-demo-output}
larseg=${LARSEG:-.venv/bin/larseg}
model=${LARSEG_MODEL:-models/larseg-sparse-cpu.pt}
seed=2019
mkdir -p "$out"

echo "== samples (seed $seed)"
"$larseg" simulate 1e1p -n 40 --seed "$seed" -o "$out/1e1p.h5" --overwrite
"$larseg" simulate 1mu1p-le -n 40 --seed "$seed" -o "$out/1mu1p-le.h5" --overwrite
"$larseg" simulate nue-cc -n 2 --seed "$seed" --full-event -o "$out/nue-cc-full.h5" --overwrite
"$larseg" info "$out/1e1p.h5"
"$larseg" display "$out/1e1p.h5" --entry 0 --entry 1 --entry 2 -o "$out/displays"

if [[ ! -f "$model" ]]; then
    echo "== no trained model at $model: skipping prediction, Table I, prediction displays and the report"
    echo "   (the trained model ships as models/larseg-sparse-cpu.pt with models/README.md; or set LARSEG_MODEL=PATH)"
    echo "demo output in $out/"
    exit 0
fi

echo "== whole events with $model"
"$larseg" predict "$model" "$out/nue-cc-full.h5" -o "$out/nue-cc-full-predicted.h5" --overwrite
"$larseg" info "$out/nue-cc-full-predicted.h5"

echo "== Table I rows"
"$larseg" evaluate "$model" "$out/1e1p.h5" "$out/1mu1p-le.h5" -o "$out/evaluation" --force

echo "== event displays of the network's labels"
"$larseg" display "$out/1e1p.h5" --model "$model" --entry 0 --entry 1 --entry 2 -o "$out/predictions"
"$larseg" display "$out/1e1p.h5" --model "$model" --worst 3 -o "$out/worst"

echo "== HTML report"
"$larseg" report "$out/evaluation"
echo "demo output in $out/"
