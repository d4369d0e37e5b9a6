"""`skinseg evaluate`: per-image Jaccard and Dice of a dataset, at full resolution."""

import json
from pathlib import Path


def run(args):
    """`skinseg evaluate --data DIR [--weights W] [--out CSV] [--split S] [--seed N]`.

    Exit 0 when every pair was scored, 1 when some could not be read (each is
    reported on stderr, in the JSON line's `problems`, and in `problems.csv`
    beside `--out`); with `--strict`, 2 at the first one.
    """
    from skin_segmentation.data.readers import read_dataset
    from skin_segmentation.evaluation import SPLIT_SEED, evaluate_pairs, select_split
    from skin_segmentation.problems import ProblemLog
    from skin_segmentation.records import write_csv_atomic
    from skin_segmentation.weights import load_skin_model, resolve_weights

    weights = resolve_weights(args.weights)
    model = load_skin_model(weights)
    seed = SPLIT_SEED if args.seed is None else args.seed
    pairs = select_split(read_dataset(args.data), args.split, seed=seed, splits_file=args.splits)
    log = ProblemLog("skinseg evaluate", strict=args.strict)
    per_image, summary = evaluate_pairs(
        model, pairs, batch_size=args.batch_size, progress=True, on_error=log.add
    )
    problems_csv = None
    if args.out:
        out = Path(args.out)
        write_csv_atomic(out, per_image)
        problems_csv = log.write_csv(out.parent)
        problems_csv = None if problems_csv is None else str(problems_csv)
    if per_image.empty:
        raise ValueError(f"{args.data}: none of the {len(pairs)} pairs could be read.")
    summary.update({"data": str(args.data), "split": args.split, "weights": str(weights)})
    if args.splits is not None:
        summary["splits"] = str(args.splits)
    elif args.split != "all":
        summary["seed"] = seed
    summary.update(problems=log.listed(), problem_count=len(log), problems_csv=problems_csv)
    print(json.dumps(summary))
    return log.exit_code()


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
    evaluate.add_argument("--strict", action="store_true",
                          help="stop at the first unreadable pair (exit 2) instead of reporting "
                               "it and going on (exit 1)")
    evaluate.set_defaults(handler=run)
