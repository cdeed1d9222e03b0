#!/usr/bin/env bash
# Every table and figure of the paper for one trained model, from the samples of
# scripts/make_datasets.sh. Each step is resumable (rerun the script after a kill).
#   scripts/paper_results.sh MODEL [OUT] [N]      N: events per benchmark sample (default 300)
# Writes OUT/ (default results/paper-MODELNAME): evaluation/ (Table I, Figs. 6 and 8),
# kinematics (Fig. 7), scaling (Figs. 10/17), peaks (Fig. 9), mask (Figs. 12-15),
# data-sim (Tables II/III, Figs. 8/16), displays (Figs. 18-21) and report.html.
set -euo pipefail
model=${1:?usage: scripts/paper_results.sh MODEL [OUT] [N]}
name=$(basename "$model" .pt)
out=${2:-results/paper-$name}
n=${3:-300}
data=${DATA:-data}
larseg=${LARSEG:-.venv/bin/larseg}
ev="$out/evaluation"
mkdir -p "$out"

echo "== Table I, Figs. 6 and 8 ($n events per sample)"
"$larseg" evaluate "$model" "$data"/mpv-test.h5 "$data"/nue-cc.h5 "$data"/numu-cc.h5 "$data"/1e1p.h5 \
    "$data"/1mu1p-le.h5 "$data"/1e1p-le.h5 -n "$n" -o "$ev"
cat "$ev/table1.md"

echo "== Fig. 7: ICPF vs kinematics"
"$larseg" study kinematics "$ev"

echo "== Figs. 10 and 17: pixel-value scaling"
"$larseg" study scaling "$model" "$data"/1e1p.h5 -n "$((n / 2))" -o "$ev/scaling"

echo "== Fig. 9: peak finder, nominal vs data-like gain"
"$larseg" study peaks "$data"/ccpi0.h5 "$data"/ccpi0-datalike.h5 -o "$ev/peaks" -n "$n"

echo "== Tables II/III, Figs. 8/16: nominal vs data-like simulation"
"$larseg" study data-sim "$model" "$data"/ccpi0.h5 "$data"/ccpi0-datalike.h5 -n "$n" -o "$ev/data-sim"

echo "== Figs. 12-15: masking on a Michel event"
"$larseg" study mask "$model" "$data"/michel.h5 --preset michel -o "$ev/mask"

echo "== Figs. 18-21: event displays (the worst events and the first few)"
"$larseg" display "$data"/mpv-test.h5 --model "$model" --worst 4 --max-events "$n" -o "$ev/displays-worst"
"$larseg" display "$data"/nue-cc.h5 --model "$model" --entry 0 --entry 1 --entry 2 -o "$ev/displays"

echo "== HTML report"
"$larseg" report "$ev"
echo "results in $ev/"
