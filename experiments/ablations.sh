#!/usr/bin/env bash
# # The robust recipe, one switch at a time (issue 9)
#
# **What it measures.** The bundled network grew from one run of the robust recipe:
# `weights/unet_fixed_cpu.json`, warm-started from v1's weights (experiments/robust_recipe.md).
# Each variant here repeats that run with one switch changed, and nothing else:
#
# - the same start (v1's weights, copied into the variant's network by `--warm-start`);
# - the same images: the six training folders and abdomen's 100, with the validation
#   images of that run kept in validation (`--validation-from weights/unet_splits.json`);
# - the same seed and the same number of SGD steps (EPOCHS epochs of 60 steps; patience
#   EPOCHS, so that no variant stops early);
# - the same evaluation sets, scored at native resolution (`skin_segmentation.comparison`):
#   abdomen's 300, the 13 clinical close-ups (never trained on), and the validation images
#   of ecu (people in the wild) and negatives_indoor (rooms with nobody in them).
#
# The variants are experiments/profiles/ablation_<variant>.json: `full` is the run's
# profile, each other file changes one switch of it (`no_closeup`, `no_photometric`,
# `half_photometric` (the jitter on 40% of the images instead of 80%),
# `no_lesions`, `no_balance`, the input size in `size192` and `size256`, and the optional
# `per_image` standardization); `no_negatives` keeps full's profile and leaves the
# negatives_indoor folder out of training. The table, RESULTS/ablations.md (and .csv),
# puts every variant beside `full`, with the start and the colour rules for scale
# (`skin_segmentation.ablations`).
#
# **How to run it.** From the repository root, as the only training on the machine (the
# times are results too), after `skinseg data get sfa fasseg hgr_subset abdomen ecu ccp
# negatives_indoor clinical_ft13` (or with DATA pointing at them):
#
#     bash experiments/ablations.sh > runs/ablations-e4.log 2>&1   # every variant, EPOCHS=4
#     VARIANTS="full no_lesions" bash experiments/ablations.sh      # some of them
#     EPOCHS=9 bash experiments/ablations.sh                        # the v2 run's whole budget
#
# Interrupted? Run the same command again: a variant whose scores are written is skipped,
# a variant in training resumes from its last finished epoch (`skinseg train --resume`
# refuses a folder whose run has another profile, start or data, naming the difference).
#
# **Time.** A 128-px U-Net step (batch 16) takes about 5 s on the idle 2-core AMD EPYC (AVX2)
# and 6-7 s under load; an epoch here is 60 steps plus the validation of 490 images, 333-400 s
# in the v2 run. With EPOCHS=4 (240 steps): 20-28 min of training and about 3 min of
# scoring for each 128-px variant; a step costs about its pixels, so size192 takes 2.25
# times as long (45-63 min) and size256 4 times (80-112 min). All nine: about 5-6.5 h
# (estimated, experiments/robust_recipe.md, "Ablations"). On a 2-core AMD EPYC with
# AVX-512, alone, a 128-px variant took 9 min of training (2.1 s a step) and 31 s of
# scoring. On a GPU, e.g. `TRAIN_FLAGS="--precision auto"`; keep one table on one machine
# and one precision.
set -euo pipefail

# ## Settings (each may be set in the environment)

DATA=${DATA:-../shared/data}
EPOCHS=${EPOCHS:-4}
OUT=${OUT:-runs/ablations-e$EPOCHS}
# v1's weights: made from git below unless START names another network.
START=${START:-}
SPLITS=${SPLITS:-weights/unet_splits.json}
PROFILES=${PROFILES:-experiments/profiles}
VARIANTS=${VARIANTS:-full no_closeup no_photometric half_photometric no_lesions no_balance no_negatives size192 size256}
TRAIN_FLAGS=${TRAIN_FLAGS:-}
POOL=$DATA/sfa,$DATA/fasseg,$DATA/hgr_subset
WILD=$DATA/ecu,$DATA/ccp
NEGATIVES=$DATA/negatives_indoor
TARGET=$DATA/abdomen
# The last commit whose weights/unet.keras is v1 (experiments/bundled_weights.sh, step 3).
V1_COMMIT=3eb29a5
export TF_CPP_MIN_LOG_LEVEL=2
export TIMEFORMAT="wall time: %0R s"

skinseg() { python -m skin_segmentation.cli "$@"; }

training_folders() {  # VARIANT: the --data folders; no_negatives leaves the empty rooms out
    if [ "$1" = no_negatives ]; then echo "$POOL,$WILD"; else echo "$POOL,$WILD,$NEGATIVES"; fi
}

for variant in $VARIANTS; do
    if [ ! -f "$PROFILES/ablation_$variant.json" ]; then
        echo "ablations.sh: no profile $PROFILES/ablation_$variant.json for variant '$variant'" >&2
        exit 2
    fi
done
lscpu | grep -E "Model name|^CPU\(s\)" || true
mkdir -p "$OUT/profiles" "$OUT/start"

# ## The start: v1's weights
#
# The v2 run started from v1 (`weights/unet.keras` before v2 replaced it); git still has it.

if [ -z "$START" ]; then
    START=runs/unet_v1.keras
    if [ ! -f "$START" ]; then
        mkdir -p "$(dirname "$START")"
        git show "$V1_COMMIT:weights/unet.keras" > "$START.partial"
        mv "$START.partial" "$START"
    fi
fi

# ## The start and the colour rules, scored once, for scale

if [ ! -f "$OUT/start/compare.csv" ]; then
    echo "== scoring the start and the colour rules"
    time python experiments/compare_models.py --data-root "$DATA" --splits "$SPLITS" \
        --out "$OUT/start/compare.csv" "start=$START"
fi

# ## Each variant: train from the start, then score
#
# The profile each run trains with is written beside it: the variant's file with this
# budget. A run folder holding a finished run returns at once; one holding part of a run
# resumes it.

for variant in $VARIANTS; do
    run=$OUT/$variant
    if [ -f "$run/compare.csv" ]; then
        echo "== $variant: done ($run/compare.csv)"
        continue
    fi
    echo "== $variant: training ($(uptime | sed 's/.*load/load/'))"
    profile=$(cd "$PROFILES" && pwd)/ablation_$variant.json
    printf '{"base": "%s", "epochs": %d, "patience": %d}\n' "$profile" "$EPOCHS" "$EPOCHS" \
        > "$OUT/profiles/$variant.json"
    # TRAIN_FLAGS is a list of flags: split on purpose.
    # shellcheck disable=SC2086
    time skinseg train --model unet --data "$(training_folders "$variant")" \
        --target-train "$TARGET" --profile "$OUT/profiles/$variant.json" \
        --warm-start "$START" --validation-from "$SPLITS" --out "$run" --resume $TRAIN_FLAGS
    echo "== $variant: scoring"
    time python experiments/compare_models.py --data-root "$DATA" --splits "$SPLITS" \
        --baselines "" --out "$run/compare.csv" "$variant=$run/model.keras"
done

# ## The table: every variant beside `full`

python - "$OUT" $VARIANTS <<'PY'
import sys

from skin_segmentation.ablations import ablation_markdown, write_ablation_table

table = write_ablation_table(sys.argv[1], sys.argv[2:])
print(ablation_markdown(table))
print(f"Written: {sys.argv[1]}/ablations.md and ablations.csv")
PY
