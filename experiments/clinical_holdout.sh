#!/usr/bin/env bash
# # The bundled recipe without clinical_ft13: a clean clinical measure (issue 9)
#
# The bundled weights trained on all 13 clinical_ft13 close-ups, so their clinical figures
# in the model card are figures on training images. This script runs the bundled chain's
# stages again with clinical_ft13 left out, and scores the network they make on those 13
# photographs, which it never saw, beside abdomen's 300 and the pool's validation images:
#
# 1. `weights/unet_fixed_cpu.json` warm-started from version 1 (bundled_weights.sh step 4);
# 2. `weights/unet_fixed_cpu_more.json` from it, learning rate 0.01 (as steps 5b, 5d, 5f);
# 3. `weights/unet_fixed_cpu_all.json` from that, learning rate 0.001 (as steps 5c, 5e, 5g).
#
# That is version 3's chain (steps 4, 5b, 5c) less clinical_ft13 and less step 5's three
# epochs at 0.001; the bundled weights ran stages 2-3 twice more. Then version 6's two
# stages on stage 3's network, and their control:
#
# 4. `weights/unet_fixed_cpu_half_jitter.json` (0.01, 6 epochs, photometric jitter on 0.4
#    of the images), then `weights/unet_fixed_cpu_all.json` (0.001, jitter on 0.8);
# 5. the same with the first of them given no jitter
#    (`experiments/profiles/holdout_no_jitter.json`) and the full jitter
#    (`experiments/profiles/holdout_jitter_control.json`).
#
# Every stage keeps the bundled split's validation images unseen (--validation-from
# weights/unet_splits.json). Then the generalization report's k-fold fine-tuning on
# clinical_ft13 from the network of stage 3 (experiments/generalization.md's command,
# which started from stage 1's): the same 13 photographs directly and fine-tuned as a user
# would (`skinseg finetune`).
#
# Run from the repository root, as the only training on the machine, after
# `skinseg data get sfa fasseg hgr_subset abdomen ecu ccp negatives_indoor clinical_ft13`
# (or with DATA pointing at them); PRECISION=mixed_bfloat16 where bfloat16 is the faster
# (experiments/benchmarks.md). An interrupted run resumes where it stopped (--resume).
#
#     bash experiments/clinical_holdout.sh > runs/clinical-holdout.log 2>&1
set -euo pipefail

DATA=${DATA:-../shared/data}
OUT=${OUT:-runs/clinical-holdout}
PRECISION=${PRECISION:-float32}
SPLITS=weights/unet_splits.json
SOURCES=$DATA/sfa,$DATA/fasseg,$DATA/hgr_subset,$DATA/ecu,$DATA/ccp,$DATA/negatives_indoor
V1=runs/unet_v1.keras
export TIMEFORMAT="wall time: %0R s"

lscpu | grep -E "Model name|^CPU\(s\)" || true
if [ ! -f "$V1" ]; then
    mkdir -p "$(dirname "$V1")"
    git show 3eb29a5:weights/unet.keras > "$V1.partial" && mv "$V1.partial" "$V1"
fi

stage() {  # PROFILE START_FLAG START OUT
    echo "== $4 ($(uptime | sed 's/.*load/load/'))"
    time skinseg train --model unet --data "$SOURCES" --target-train "$DATA/abdomen" \
        --profile "$1" "$2" "$3" --validation-from "$SPLITS" --precision "$PRECISION" \
        --out "$4" --resume
}
stage weights/unet_fixed_cpu.json --warm-start "$V1" "$OUT/base"
stage weights/unet_fixed_cpu_more.json --init "$OUT/base/model.keras" "$OUT/more"
stage weights/unet_fixed_cpu_all.json --init "$OUT/more/model.keras" "$OUT/all"
for variant in weights/unet_fixed_cpu_half_jitter experiments/profiles/holdout_no_jitter \
        experiments/profiles/holdout_jitter_control; do
    name=$(basename "$variant")
    stage "$variant.json" --init "$OUT/all/model.keras" "$OUT/$name"
    stage weights/unet_fixed_cpu_all.json --init "$OUT/$name/model.keras" "$OUT/$name-all"
done

echo "== scoring, at native resolution, the network's own masks"
time python experiments/compare_models.py --data-root "$DATA" --splits "$SPLITS" \
    --out "$OUT/compare.csv" "base=$OUT/base/model.keras" "holdout=$OUT/all/model.keras" \
    "half_jitter=$OUT/unet_fixed_cpu_half_jitter-all/model.keras" \
    "no_jitter=$OUT/holdout_no_jitter-all/model.keras" "jitter=$OUT/holdout_jitter_control-all/model.keras" \
    "bundled=weights/unet.keras"
echo "== k-fold fine-tuning on clinical_ft13 from stage 3's network"
time python experiments/generalization.py --skip-loso --data-root "$DATA" \
    --weights "$OUT/all/model.keras" --folds 3 --out "$OUT/generalization"
