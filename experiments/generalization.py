"""The generalization report (issue 9): leave-one-source-out and k-fold fine-tuning.

    python experiments/generalization.py --data-root data --out experiments/results/generalization

trains the `--loso-profile` recipe once per left-out source of `--loso` and scores
that source, then fine-tunes `--weights` on k-1 folds of `--clinical` and scores the
fold left out, each beside the all-skin and YCrCb baselines, groups the held-out
images by Fitzpatrick type and ITA category, and writes `generalization.md` / `.csv`,
`kfold_finetune_per_image.csv` and `kfold_by_*.csv` (copy the Markdown to
experiments/generalization.md). `--fill-holes` and `--fill-enclosed` score the k-fold's
masks after `skinseg predict`'s post-processing (default: the masks as predicted); the
fold runs do not depend on them, so a finished run is scored again without training.
Every run folder is resumable: run the same command again after an interruption.
"""

import argparse
from pathlib import Path

from skin_segmentation.cli.arguments import add_fill_holes, fill_options
from skin_segmentation.generalization import kfold_by_tone, kfold_finetune, leave_one_source_out, write_report
from skin_segmentation.system import describe_device

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-root", default="data", help="the folder `skinseg data get` fills")
parser.add_argument("--pool", default="sfa,fasseg,hgr_subset,abdomen,ecu,negatives_indoor",
                    help="sources trained on in leave-one-source-out")
parser.add_argument("--loso", default="sfa,fasseg,hgr_subset,abdomen", help="sources left out in turn")
parser.add_argument("--loso-profile", default="robust")
parser.add_argument("--clinical", default="clinical_ft13", help="the set k-fold fine-tuning uses")
parser.add_argument("--weights", default="weights/unet.keras")
parser.add_argument("--finetune-profile", default="finetune")
parser.add_argument("--folds", type=int, default=5)
parser.add_argument("--skip-loso", action="store_true", help="only the k-fold fine-tuning")
parser.add_argument("--out", default="experiments/results/generalization")
add_fill_holes(parser, off_by_default=True)  # k-fold scores after `skinseg predict`'s post-processing
args = parser.parse_args()
try:
    fill = fill_options(args)
except ValueError as error:
    parser.error(str(error))

root, out = Path(args.data_root), Path(args.out)
frames = []
if not args.skip_loso:
    frames.append(leave_one_source_out([root / name for name in args.pool.split(",")], args.loso.split(","),
                                       args.loso_profile, out))
frames.append(kfold_finetune(root / args.clinical, args.weights, args.finetune_profile, out, k=args.folds,
                             **fill))
options = [f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}")
           for key, value in vars(args).items() if value is not False]
command = "python experiments/generalization.py " + " ".join(options)
report = write_report(out, frames, notes=[f"Made by `{command}` on {describe_device()}."],
                      by_tone=kfold_by_tone(out))
print(report.read_text())
