#!/usr/bin/env bash
# How weights/unet.keras was made (see weights/README.md, its model card).
# Run from the repository root after `skinseg data get sfa fasseg hgr_subset abdomen` (or with SKINSEG_DATA pointing at them); about 1 h 25 min of
# training on a 2-core CPU, then about 10 minutes of evaluation.
set -euo pipefail
POOL=${SKINSEG_DATA:-data}/sfa,${SKINSEG_DATA:-data}/fasseg,${SKINSEG_DATA:-data}/hgr_subset
TARGET=${SKINSEG_DATA:-data}/abdomen

# 1. From random initialization at learning rate 0.01 (24 epochs at most).
skinseg train --model unet --data "$POOL" --target-train "$TARGET" \
    --profile weights/unet_profile.json --out runs/bundled-unet
# 2. From stage 1's best weights, still at 0.01 (it was still improving), 12 epochs at most.
#    Same profile seed, so the same training / validation / held-out split.
skinseg train --model unet --data "$POOL" --target-train "$TARGET" \
    --profile weights/unet_profile_continue.json --init runs/bundled-unet/model.keras \
    --out runs/bundled-unet-continue
# 3. The same weights in a float32 network (training computed in bfloat16), without
#    optimizer state: 31 MB, and fast on machines without native bfloat16. Since version
#    0.2 its head is Keras's own tanh + Rescaling (the same function as the old custom
#    layer), so the file loads in any Keras 3 without this package.
python - <<'PY'
import keras
import skin_segmentation
from skin_segmentation.models import build_model

trained = keras.models.load_model("runs/bundled-unet-continue/model.keras", compile=False)
# upsample_activation=None: the network as trained, before the presets added ReLU after
# the transposed convolutions (docs/architecture.md).
model = build_model("unet", input_shape=(128, 128, 3), upsample_activation=None)
model.set_weights(trained.get_weights())
model.save("weights/unet.keras")
PY
# 4. The model card's metrics, at native resolution, on images the weights never saw.
cp runs/bundled-unet-continue/splits.json weights/unet_splits.json
mkdir -p weights/metrics
skinseg evaluate --data "$TARGET" --split eval --out weights/metrics/abdomen_eval.csv
for name in sfa fasseg hgr_subset; do
    skinseg evaluate --data "${SKINSEG_DATA:-data}/$name" --split held_out \
        --splits weights/unet_splits.json \
        --out "weights/metrics/${name}_held_out.csv"
done
