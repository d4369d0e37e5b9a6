#!/usr/bin/env bash
# How weights/unet.keras (version 6) was made; its model card is weights/README.md.
# Run from the repository root after
#     skinseg data get sfa fasseg hgr_subset abdomen ecu ccp negatives_indoor clinical_ft13
# (or with SKINSEG_DATA pointing at them). Times on a 2-core AMD EPYC (AVX2): steps 1-3
# (version 1) about 1.3 h of training, step 4 56 min, step 5 22 min (version 2), step 5b
# 92 min, step 5c 16 min (version 3), step 5d 80 min, step 5e 15 min (version 4); on a
# 2-core AMD EPYC with AVX-512, steps 5f 22 min and 5g 7 min (version 5), steps 5h 13 min
# and 5i 6 min (version 6); the metrics 5 min.
set -euo pipefail
DATA=${SKINSEG_DATA:-data}
POOL="$DATA/sfa,$DATA/fasseg,$DATA/hgr_subset"
WILD="$DATA/ecu,$DATA/ccp,$DATA/negatives_indoor"
TARGET="$DATA/abdomen"

# 1-2. Version 1: the paper's recipe (per-image standardization) from random initialization
#      on the healthy-skin pool and abdomen's 100, in two stages of the same split.
skinseg train --model unet --data "$POOL" --target-train "$TARGET" \
    --profile weights/unet_profile.json --out runs/bundled-unet
skinseg train --model unet --data "$POOL" --target-train "$TARGET" \
    --profile weights/unet_profile_continue.json --init runs/bundled-unet/model.keras \
    --out runs/bundled-unet-continue
# 3. Its weights in a float32 network with v1's linear transposed convolutions (training
#    computed in bfloat16), without optimizer state.
python - <<'PY'
import keras
from skin_segmentation.models import build_model

trained = keras.models.load_model("runs/bundled-unet-continue/model.keras", compile=False)
model = build_model("unet", input_shape=(128, 128, 3), upsample_activation=None)
model.set_weights(trained.get_weights())
model.save("runs/unet_v1.keras")
PY
# (The same file: `git show 3eb29a5:weights/unet.keras > runs/unet_v1.keras`.)

# 4. The robust recipe with fixed standardization (the network scales raw pixels itself),
#    warm-started from v1's weights, on every source but clinical_ft13: 9 epochs of 960
#    images at learning rate 0.01 (experiments/robust_recipe.md).
skinseg train --model unet --data "$POOL,$WILD" --target-train "$TARGET" \
    --profile weights/unet_fixed_cpu.json --warm-start runs/unet_v1.keras --out runs/fixed-base
# 5. The same, continued with clinical_ft13 as an eighth source at learning rate 0.001,
#    keeping step 4's validation images unseen (--validation-from). Steps 5-5g each continue
#    a network on every source in this way: every_source PROFILE INIT OUT.
every_source() {
    skinseg train --model unet --data "$POOL,$WILD,$DATA/clinical_ft13" --target-train "$TARGET" \
        --profile "$1" --init "$2" --validation-from runs/fixed-base/splits.json --out "$3"
}
every_source weights/unet_fixed_cpu_all.json runs/fixed-base/model.keras runs/fixed-all
# (runs/fixed-all/model.keras was version 2.)
# 5b. Version 3: version 2 continued with the same sources at learning rate 0.01 for at most
#     16 more epochs of 960 images (it ran all 16; the best was epoch 15).
every_source weights/unet_fixed_cpu_more.json runs/fixed-all/model.keras runs/fixed-more
# 5c. Step 5's recipe again on it: learning rate 0.001, 3 epochs.
every_source weights/unet_fixed_cpu_all.json runs/fixed-more/model.keras runs/fixed-more-all
# (runs/fixed-more-all/model.keras was version 3.)
# 5d. Version 4: steps 5b and 5c again, from version 3 (5b's run stopped early this time,
#     at epoch 13 with its best at 8).
every_source weights/unet_fixed_cpu_more.json runs/fixed-more-all/model.keras runs/fixed-more-2
# 5e. Step 5c again on it: learning rate 0.001, 3 epochs.
every_source weights/unet_fixed_cpu_all.json runs/fixed-more-2/model.keras runs/fixed-more-2-all
# (runs/fixed-more-2-all/model.keras was version 4.)
# 5f. Version 5: steps 5d and 5e once more, from version 4 (early stopping ended 5f at
#     epoch 10, its best at 5).
every_source weights/unet_fixed_cpu_more.json runs/fixed-more-2-all/model.keras runs/fixed-more-3
# 5g. Step 5e again on it: learning rate 0.001, 3 epochs.
every_source weights/unet_fixed_cpu_all.json runs/fixed-more-3/model.keras runs/fixed-more-3-all
# (runs/fixed-more-3-all/model.keras was version 5.)
# 5h. Version 6: version 5 continued at learning rate 0.01 for 6 epochs with the photometric
#     jitter on half as many images (weights/unet_fixed_cpu_half_jitter.json; close-ups and
#     lesions kept): more scenes in their cameras' own colours
#     (experiments/robust_recipe.md, "Version 6").
every_source weights/unet_fixed_cpu_half_jitter.json runs/fixed-more-3-all/model.keras runs/fixed-half
# 5i. Step 5g again on it (learning rate 0.001, 3 epochs, the full jitter back).
every_source weights/unet_fixed_cpu_all.json runs/fixed-half/model.keras runs/fixed-half-all
python -c "import keras; keras.saving.load_model('runs/fixed-half-all/model.keras', compile=False).save('weights/unet.keras')"
cp runs/fixed-half-all/splits.json weights/unet_splits.json

# 6. The model card's metrics, at native resolution, on images the weights never saw: the
#    network's own masks (--fill-holes 0); the card gives the default post-processing's
#    figures beside them (experiments/robust_recipe.md, "Post-processing").
mkdir -p weights/metrics
skinseg evaluate --data "$TARGET" --split eval --fill-holes 0 --out weights/metrics/abdomen_eval.csv
skinseg evaluate --data "$TARGET" --split eval --fill-holes 0 --by tone \
    --report weights/metrics/abdomen_eval_by_tone
for name in sfa fasseg hgr_subset ecu ccp negatives_indoor; do
    skinseg evaluate --data "$DATA/$name" --splits weights/unet_splits.json --split held_out \
        --fill-holes 0 --out "weights/metrics/${name}_held_out.csv"
done
# Clinical close-ups, cross-validated from step 4's network (which never saw them).
python experiments/generalization.py --skip-loso --data-root "$DATA" \
    --weights runs/fixed-base/model.keras --folds 3 --out experiments/results/generalization
# 7. The clean clinical measure of the later stages (stages 1, 5b and 5c run again without
#    clinical_ft13, scored and k-fold fine-tuned on it): experiments/clinical_holdout.sh.
