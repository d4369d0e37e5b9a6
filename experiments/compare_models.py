"""Candidate networks and the colour baselines, side by side, on every shared set.

The sets a bundled-weights candidate is judged on, each at native resolution
and on images the candidates never trained on (`skin_segmentation.comparison`):

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
F1, precision, recall; and the share of pixels called skin), and the per-image
rows beside it. `--baselines ""` scores the networks alone. `--fill-holes 0.005
--fill-enclosed 0.01` scores them after `skinseg predict`'s default post-processing; the
defaults, 0, score what the networks themselves predict.
"""

import argparse
from pathlib import Path

from skin_segmentation.cli.arguments import add_fill_holes, fill_options
from skin_segmentation.comparison import (
    BASELINES,
    comparison_sets,
    load_detectors,
    score_sets,
    write_comparison,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", metavar="NAME=KERAS")
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--splits", type=Path, required=True, help="a training run's splits.json")
    parser.add_argument("--out", type=Path, required=True, help="the per-set CSV")
    parser.add_argument("--sets", default=None, help="only these sets, comma-separated")
    parser.add_argument("--baselines", default=",".join(BASELINES),
                        help="colour baselines scored beside the networks, comma-separated "
                             "(default: %(default)s; empty for none)")
    add_fill_holes(parser, off_by_default=True)
    args = parser.parse_args()
    try:
        fill = fill_options(args)
    except ValueError as error:
        parser.error(str(error))

    detectors = load_detectors(args.models, [name for name in args.baselines.split(",") if name])
    if not detectors:
        parser.error("nothing to score: give NAME=KERAS or --baselines")
    sets = comparison_sets(args.data_root, args.splits)
    if args.sets:
        unknown = sorted(set(args.sets.split(",")) - set(sets))
        if unknown:
            parser.error(f"--sets: no set named {', '.join(unknown)}; there are {', '.join(sets)}")
        sets = {name: sets[name] for name in args.sets.split(",")}

    def report(row):
        print({key: round(value, 4) if isinstance(value, float) else value
               for key, value in row.items()}, flush=True)

    write_comparison(args.out, *score_sets(detectors, sets, progress=True, report=report,
                                           **fill))


if __name__ == "__main__":
    main()
