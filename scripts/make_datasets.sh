#!/usr/bin/env bash
# The samples behind the numbers in docs/results.md: every file is reproducible
# from this script (same seeds -> same bytes). Sizes are scaled to a 2-core CPU;
# the paper used 100k/20k/20k training/validation/test images and 20k per benchmark.
# Usage: scripts/make_datasets.sh [OUTDIR] [SCALE]   (SCALE multiplies every count)
set -euo pipefail
out=${1:-data}
scale=${2:-1}
larseg=${LARSEG:-.venv/bin/larseg}
workers=${WORKERS:-2}
mkdir -p "$out"
make_sample() {  # name preset count seed
  local n=$(( $3 * scale ))
  if [ -f "$out/$1.h5" ]; then echo "$out/$1.h5 exists"; return; fi
  "$larseg" simulate "$2" -n "$n" --seed "$4" -o "$out/$1.h5" --workers "$workers" --resume
}
make_sample mpv-train mpv 12000 1001
make_sample mpv-val mpv 1000 1002
make_sample mpv-test mpv 1000 1003
make_sample single-train single 6000 1004
make_sample single-val single 500 1005
make_sample 1e1p 1e1p 1000 2001
make_sample 1e1p-le 1e1p-le 1000 2002
make_sample 1mu1p-le 1mu1p-le 1000 2003
make_sample nue-cc nue-cc 1000 2004
make_sample numu-cc numu-cc 1000 2005
make_sample michel michel 500 2006
make_sample ccpi0 ccpi0 500 2007
make_sample ccpi0-datalike ccpi0-datalike 500 2008
make_sample michel-datalike michel-datalike 500 2009
