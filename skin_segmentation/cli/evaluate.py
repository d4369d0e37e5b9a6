"""`skinseg evaluate`: per-image Jaccard and Dice of a dataset, at full resolution."""

import json
from pathlib import Path


def run(args):
    """`skinseg evaluate --data DIR [--weights W] [--out CSV] [--split S] [--seed N]`."""
    from skin_segmentation.data.readers import read_dataset
    from skin_segmentation.evaluation import SPLIT_SEED, evaluate_pairs, select_split
    from skin_segmentation.inference import BATCH_SIZE
    from skin_segmentation.weights import load_skin_model, resolve_weights

    weights = resolve_weights(args.weights)
    model = load_skin_model(weights)
    seed = SPLIT_SEED if getattr(args, "seed", None) is None else args.seed
    splits_file = getattr(args, "splits", None)
    pairs = select_split(read_dataset(args.data), args.split, seed=seed, splits_file=splits_file)
    per_image, summary = evaluate_pairs(
        model, pairs, batch_size=getattr(args, "batch_size", BATCH_SIZE), progress=True
    )
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        per_image.to_csv(out, index=False)
    summary.update({"data": str(args.data), "split": args.split, "weights": str(weights)})
    if splits_file is not None:
        summary["splits"] = str(splits_file)
    elif args.split != "all":
        summary["seed"] = seed
    print(json.dumps(summary))
    return 0


def add_parser(commands):
    evaluate = commands.add_parser("evaluate", help="per-image Jaccard and Dice of a dataset")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--weights", default=None, help="a .keras file (default: bundled U-Net)")
    evaluate.add_argument("--out", default=None, help="per-image CSV")
    evaluate.add_argument("--split", default="all",
                          help="all; eval or train (the target's 300 or 100, split_target); "
                               "or a split named in --splits")
    evaluate.add_argument("--splits", default=None, metavar="JSON",
                          help="a splits file (write_splits) whose --split NAME lists the stems")
    evaluate.add_argument("--seed", type=int, default=None,
                          help="seed of --split eval/train (default 0, as train and replicate)")
    evaluate.add_argument("--batch-size", type=int, default=16, help="images per network call")
    evaluate.set_defaults(handler=run)
