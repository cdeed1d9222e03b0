#!/usr/bin/env bash
# One slice of issue 14's training campaign (training preset `campaign`, model `sparse-cpu`).
#
#   scripts/campaign.sh            # SLICE=100m by default; WORKERS=2 for the data
#
# A slice: make the data if missing (scripts/make_datasets.sh, seeds fixed there: bit-for-bit
# the same files on any machine), restore runs/campaign from models/campaign/ if this machine
# has no run yet, train for at most SLICE (`--time-limit`: it stops at a step boundary with
# last.pt written), then store the resumable state back in models/campaign/, overwritten:
#   last.pt            weights, optimiser, scheduler, counters, RNG (resumable; ~20 MB)
#   best.pt            the best validation-ICPF weights so far, without optimiser (~10 MB)
#   val.csv, train.csv.gz, model.yaml, training.yaml   the run's logs and configs
#   slices.log         one line per slice: when, where, steps, crops/s
# Commit models/campaign/ after a slice; the next slice, on whatever machine, resumes from it.
set -euo pipefail
cd "$(dirname "$0")/.."

SLICE=${SLICE:-100m}
DATA=${DATA:-data}
RUN=${RUN:-runs/campaign}
PRE=${PRE:-runs/campaign-pretrain}
STORE=${STORE:-models/campaign}
LARSEG=${LARSEG:-.venv/bin/larseg}
PY=${PY:-.venv/bin/python}

for f in mpv-train mpv-val single-train single-val; do
    [ -f "$DATA/$f.h5" ] || { echo "campaign: $DATA/$f.h5 missing, simulating the samples"; \
                              scripts/make_datasets.sh "$DATA" 1; break; }
done

mkdir -p "$STORE"
if [ ! -f "$RUN/last.pt" ] && [ -f "$STORE/last.pt" ]; then
    echo "campaign: restoring $RUN from $STORE"
    mkdir -p "$RUN"
    cp "$STORE/last.pt" "$STORE/model.yaml" "$STORE/training.yaml" "$STORE/val.csv" "$RUN/"
    [ -f "$STORE/best.pt" ] && cp "$STORE/best.pt" "$RUN/best.pt"
    gzip -dc "$STORE/train.csv.gz" > "$RUN/train.csv"
fi

step_of() { [ -f "$1" ] && "$PY" -c "import sys; from larseg.model.io import read_checkpoint as r; \
print(r(sys.argv[1]).get('step', 0))" "$1" || echo 0; }
before=$(step_of "$RUN/last.pt")
t0=$(date +%s)
if [ -f "$RUN/last.pt" ]; then
    "$LARSEG" train "$DATA/mpv-train.h5" --val "$DATA/mpv-val.h5" -o "$RUN" --resume --device cpu \
        --time-limit "$SLICE"
else
    if [ ! -f "$PRE/best.pt" ]; then  # encoder pretraining (transfer learning), as for the shipped model
        "$LARSEG" pretrain "$DATA/single-train.h5" --val "$DATA/single-val.h5" -o "$PRE" --model sparse-cpu \
            --training cpu --device cpu --set model.norm=batch --set epochs=1 --set images_per_epoch=8000 \
            --set "lr_milestones=[]" --set val_max_images=500
    fi
    "$LARSEG" train "$DATA/mpv-train.h5" --val "$DATA/mpv-val.h5" -o "$RUN" --model sparse-cpu \
        --training campaign --init-encoder "$PRE/best.pt" --device cpu --time-limit "$SLICE"
fi
t1=$(date +%s)
after=$(step_of "$RUN/last.pt")

# store the state (each file written to a temporary name, then renamed)
for f in last.pt model.yaml training.yaml val.csv; do
    cp "$RUN/$f" "$STORE/.$f.tmp" && mv "$STORE/.$f.tmp" "$STORE/$f"
done
gzip -9nc "$RUN/train.csv" > "$STORE/.train.csv.gz.tmp" && mv "$STORE/.train.csv.gz.tmp" "$STORE/train.csv.gz"
if [ -f "$RUN/best.pt" ]; then
    "$PY" scripts/ship_model.py "$RUN/best.pt" "$STORE/.best.pt.tmp" >/dev/null && mv "$STORE/.best.pt.tmp" "$STORE/best.pt"
fi
crops=$(( (after - before) * 8 ))
secs=$(( t1 - t0 ))
line="$(date -u +%Y-%m-%dT%H:%MZ) $(hostname) $(nproc) cores: steps $before -> $after, $crops crops in ${secs} s"
line="$line ($(awk -v c=$crops -v s=$secs 'BEGIN { printf "%.1f", (s > 0 ? c / s : 0) }') crops/s with validation)"
echo "$line" >> "$STORE/slices.log"
echo "campaign: $line"
echo "campaign: state stored in $STORE; commit it (git add $STORE)"
