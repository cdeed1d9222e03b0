#!/usr/bin/env bash
# Issue 7's accuracy comparison: the dense `cpu` and the sparse `sparse-cpu` U-ResNets
# (same widths and depth) trained on the same crops with the same recipe and the same
# number of images, then evaluated on the same test sample. Resumable (rerun after a kill).
#   scripts/compare_sparse_dense.sh [IMAGES] [OUT]
# IMAGES: training crops per model (default 16000: ~9 min sparse, ~55 min dense on 2 cores).
set -euo pipefail
images=${1:-16000}
out=${2:-runs/compare}
data=${DATA:-data}
larseg=${LARSEG:-.venv/bin/larseg}
n_test=${N_TEST:-500}
for model in sparse-cpu cpu; do
  run="$out/$model"
  resume=()
  [[ -f "$run/last.pt" ]] && resume=(--resume)
  if [[ ! -f "$run/best.pt" || ${#resume[@]} -gt 0 ]]; then
    "$larseg" train "$data"/mpv-train.h5 --val "$data"/mpv-val.h5 -o "$run" --model "$model" --training cpu \
        --device cpu --set epochs=2 --set "images_per_epoch=$((images / 2))" --set "lr_milestones=[]" \
        --set channels_last=false "${resume[@]}"
  fi
  "$larseg" evaluate "$run/best.pt" "$data"/mpv-test.h5 -n "$n_test" -o "$out/eval-$model"
done
cat "$out"/eval-*/table1.md
