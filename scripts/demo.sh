#!/usr/bin/env bash
# The main job of `make demo`: simulate a small benchmark sample with a fixed seed
# and draw it. (Prediction with the shipped model, evaluation and the report join
# here as those parts land.)
set -euo pipefail
out=${1:-demo-output}
larseg=${LARSEG:-.venv/bin/larseg}
mkdir -p "$out"
"$larseg" simulate 1e1p -n 8 --seed 2019 -o "$out/1e1p.h5" --overwrite
"$larseg" info "$out/1e1p.h5"
"$larseg" display "$out/1e1p.h5" --entry 0 --entry 1 --entry 2 -o "$out/displays"
echo "demo output in $out/"
