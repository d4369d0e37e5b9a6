"""Candidate networks and the colour baselines, side by side, on every shared set.

The sets a bundled-weights candidate is judged on, each at native resolution
and on images the candidates never trained on:

- abdomen's 300 evaluation photographs (the paper's target, light and dark skin);
- clinical_ft13, all 13 (only for candidates that never saw it);
- the validation split of each pool source in a training run's `splits.json`
  (ecu and ccp are people in the wild; negatives_indoor has no skin at all).

Usage (from the repository root):

    python experiments/compare_models.py --data-root ../shared/data \
        --splits runs/fixed-base/splits.json --out experiments/results/compare.csv \
        v1=weights/unet.keras fixed=runs/fixed-base/model.keras

It prints one line per model and set and writes the per-set scores as CSV
(`evaluation.set_scores`: pooled and per-image two-class mIoU, Jaccard, pixel
F1, precision, recall), and the per-image rows beside it.
"""

import argparse
from pathlib import Path

import pandas as pd

from skin_segmentation.data.readers import read_dataset
from skin_segmentation.evaluation import evaluate_models, select_split, set_scores
from skin_segmentation.inference import load_detector

POOL_SOURCES = ("ecu", "ccp", "negatives_indoor", "sfa", "fasseg", "hgr_subset")
BASELINES = ("all_skin", "ycrcb")


def evaluation_sets(data_root, splits):
    sets = {"abdomen_eval": select_split(read_dataset(data_root / "abdomen"), "eval"),
            "clinical_ft13_all": read_dataset(data_root / "clinical_ft13")}
    for source in POOL_SOURCES:
        pairs = select_split(read_dataset(data_root / source), "validation", splits_file=splits)
        if pairs:
            sets[f"{source}_validation"] = pairs
    return sets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", metavar="NAME=KERAS")
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--splits", type=Path, required=True, help="a training run's splits.json")
    parser.add_argument("--out", type=Path, required=True, help="the per-set CSV")
    parser.add_argument("--sets", default=None, help="only these sets, comma-separated")
    args = parser.parse_args()

    detectors = {name: load_detector(name).model for name in BASELINES}
    for named in args.models:
        name, path = named.split("=", 1)
        detectors[name] = load_detector(weights=path).model
    sets = evaluation_sets(args.data_root, args.splits)
    if args.sets:
        sets = {name: sets[name] for name in args.sets.split(",")}

    rows, per_image = [], []
    for set_name, pairs in sets.items():
        scored = evaluate_models(detectors, pairs, progress=True).assign(set=set_name)
        per_image.append(scored)
        for model_name, frame in scored.groupby("model", sort=False):
            rows.append({"model": model_name, "set": set_name, **set_scores(frame)})
            print({key: round(value, 4) if isinstance(value, float) else value
                   for key, value in rows[-1].items()}, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    pd.concat(per_image).to_csv(args.out.with_name(args.out.stem + "_per_image.csv"), index=False)


if __name__ == "__main__":
    main()
