#!/usr/bin/env bash
# The robust recipe at CPU scale: the candidate for version 2 of the bundled U-Net, measured
# in experiments/robust_recipe.md and NOT adopted (it did not beat version 1; see there).
# Run from the repository root after
#     skinseg data get sfa fasseg hgr_subset abdomen ecu ccp negatives_indoor clinical_ft13
# About 40 minutes of training and 25 of fine-tuning and evaluation on a 2-core AMD EPYC
# shared with other work (the card gives the measured times); seconds on a GPU.
set -euo pipefail
DATA=${SKINSEG_DATA:-data}

# 0. The starting point: the first bundled U-Net (v1, trained on the healthy-skin pool and
#    abdomen's 100 by the paper's recipe), with its head in Keras's own layers.
git show fc8695f:weights/unet.keras > runs/unet_v1.keras

# 1. The robust recipe on every source but the clinical one, from v1 at learning rate 0.01
#    (weights/unet_robust_cpu.json: epochs of 960 images drawn equally from the 7 sources,
#    close-up crops, photometric jitter, synthetic lesions). The v2 run was stopped by hand
#    after epoch 5 for time; early stopping had kept epoch 4, whose weights are model.keras.
skinseg train --model unet \
    --data "$DATA/sfa,$DATA/fasseg,$DATA/hgr_subset,$DATA/ecu,$DATA/ccp,$DATA/negatives_indoor" \
    --target-train "$DATA/abdomen" --profile weights/unet_robust_cpu.json \
    --init runs/unet_v1.keras --out runs/robust-base

# 2. What fine-tuning on the 13 clinical photographs does, by 3-fold cross-validation
#    (experiments/generalization.md).
python experiments/generalization.py --skip-loso --data-root "$DATA" \
    --weights runs/robust-base/model.keras --folds 3 --out runs/generalization

# 3. The bundled network: the robust base fine-tuned on clinical_ft13 (10 to train, 3 for
#    early stopping), as a user fine-tunes (docs/finetune.md).
skinseg finetune --data "$DATA/clinical_ft13" --weights runs/robust-base/model.keras \
    --out runs/robust-clinical
python -c "import keras; keras.saving.load_model('runs/robust-clinical/model.keras', compile=False).save('weights/unet.keras')"

# 4. The model card's figures, at native resolution, on images the weights never saw.
mkdir -p weights/metrics
skinseg evaluate --data "$DATA/abdomen" --split eval --out weights/metrics/abdomen_eval.csv
skinseg evaluate --data "$DATA/abdomen" --split eval --by tone --report weights/metrics/abdomen_tone
for name in sfa fasseg hgr_subset ecu ccp negatives_indoor; do
    skinseg evaluate --data "$DATA/$name" --splits runs/robust-base/splits.json --split validation \
        --out "weights/metrics/${name}_validation.csv"
done
