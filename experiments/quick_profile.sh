#!/usr/bin/env bash
# Issue 17, item 2: the quick profile's budget in SGD steps, measured.
#
# Run from the repository root on an otherwise idle machine (the times are results too):
#
#   bash experiments/quick_profile.sh          # the U-Net's direct-training cell with the first,
#                                              # second and third (per-image) quick profile and
#                                              # the current one (fixed standardization, the
#                                              # rate warmed up over 100 steps, at most 15
#                                              # epochs, the faster precision); 68 s,
#                                              # 140 s and 603 s for the first three on the
#                                              # 2-core AMD EPYC with AVX2
#   bash experiments/quick_profile.sh table    # the whole quick Table I (experiments/table1.md
#                                              # has its time on the 2-core AMD EPYC), in the
#                                              # precision a probe measures faster here
#   PRECISION=float32 bash experiments/quick_profile.sh table
#                                              # the same in float32 whatever the probe says
#                                              # (experiments/benchmarks.md, "Mixed precision")
#
# Both cells use the same 80 + 20 training images and the same 300 evaluation images of
# abdomen (the target split does not depend on the pool), so their Jaccards and the
# all-skin baseline printed beside them compare directly. Interrupted? Run the same
# command again: finished cells are kept, a cell in training resumes from its last epoch.
# Copy the printed lines into experiments/table1.md ("The quick profile's budget").
set -euo pipefail

DATA=${DATA:-../shared/data}
POOL=$DATA/sfa,$DATA/fasseg,$DATA/hgr_subset
TARGET=$DATA/abdomen
OUT=${OUT:-results}
export TF_CPP_MIN_LOG_LEVEL=2
export TIMEFORMAT="wall time: %0R s"

skinseg() { python -m skin_segmentation.cli "$@"; }

unet_direct_training() {  # PROFILE OUT_FOLDER
    time skinseg replicate --profile "$1" --out "$2" --models unet --scenarios direct_training \
        --pretrain "$POOL" --target "$TARGET"
}

summary() {  # OUT_FOLDER: the cells' pooled and per-image scores, then the baselines'
    cut -d, -f1-7,9-11 "$1/runs.csv"
    cut -d, -f1-5 "$1/baselines.csv"
}

lscpu | grep -E "Model name|^CPU\(s\)" || true
case "${1:-cell}" in
    cell)
        unet_direct_training experiments/profiles/quick_v1.json "$OUT/quick_v1_unet_direct_training"
        unet_direct_training experiments/profiles/quick_v2.json "$OUT/quick_v2_unet_direct_training"
        unet_direct_training experiments/profiles/quick_v3.json "$OUT/quick_v3_unet_direct_training"
        unet_direct_training quick "$OUT/quick_unet_direct_training"
        echo "== first: at most 15 epochs of 5 steps, patience 4"
        summary "$OUT/quick_v1_unet_direct_training"
        echo "== second: epochs of 20 steps, at most 8, patience 3"
        summary "$OUT/quick_v2_unet_direct_training"
        echo "== third: epochs of 20 steps, at most 20, patience 3 watched from epoch 9"
        summary "$OUT/quick_v3_unet_direct_training"
        echo "== now: the third with fixed standardization, watched from epoch 5, the rate warmed up, at most 15"
        summary "$OUT/quick_unet_direct_training"
        ;;
    table)
        time skinseg replicate --profile quick --out "$OUT/quick" --pretrain "$POOL" --target "$TARGET" \
            ${PRECISION:+--precision "$PRECISION"}
        summary "$OUT/quick"
        ;;
    *)
        echo "usage: bash experiments/quick_profile.sh [cell|table]" >&2
        exit 2
        ;;
esac
