"""`skinseg evaluate`: per-image Jaccard and Dice of a dataset, at full resolution;
with `--by tone`, per skin-tone group beside the colour baselines."""

import json
from pathlib import Path

from skin_segmentation.cli.arguments import split_names

TONE_BASELINES = "all_skin,ycrcb,hsv"


def _report_prefix(args):
    """Where `--by tone` writes: --report, else beside --out, else `<data>_<split>_by_tone` here."""
    if args.report:
        return Path(args.report)
    if args.out:
        out = Path(args.out)
        return out.with_name(f"{out.stem}_by_tone")
    return Path(f"{Path(args.data).name}_{args.split}_by_tone")


def run(args):
    """`skinseg evaluate --data DIR [--model NAME] [--weights W] [--out CSV] [--split S]
    [--seed N] [--by tone [--baselines A,B] [--report PREFIX]] [--strict]`.

    Exit 0 when every pair was scored, 1 when some could not be read (each is
    reported on stderr, in the JSON line's `problems`, and in `problems.csv`
    beside `--out`); with `--strict`, 2 at the first one.
    """
    from skin_segmentation.baselines import get_baseline
    from skin_segmentation.data.readers import read_dataset
    from skin_segmentation.evaluation import (
        SPLIT_SEED,
        evaluate_by_tone,
        evaluate_pairs,
        select_split,
        summarize,
    )
    from skin_segmentation.groups import groups_markdown
    from skin_segmentation.inference import load_detector
    from skin_segmentation.outputs import check_output_file
    from skin_segmentation.problems import ProblemLog
    from skin_segmentation.records import write_csv_atomic

    if args.out:
        check_output_file(args.out)
    if args.by == "tone":
        check_output_file(f"{_report_prefix(args)}.csv")
    detector = load_detector(args.model, args.weights)
    seed = SPLIT_SEED if args.seed is None else args.seed
    pairs = select_split(read_dataset(args.data), args.split, seed=seed, splits_file=args.splits)
    extra = {}
    log = ProblemLog("skinseg evaluate", strict=args.strict)
    if args.by == "tone":
        detectors = {detector.name: detector.model}
        detectors.update({name: get_baseline(name) for name in args.baselines if name not in detectors})
        prefix = _report_prefix(args)
        title = f"{Path(args.data).name} ({args.split}, {len(pairs)} images)"
        per_image, reports, paths = evaluate_by_tone(
            detectors, pairs, out=prefix, batch_size=args.batch_size, progress=True, title=title,
            on_error=log.add,
        )
        for by, (table, gaps) in reports.items():
            print(groups_markdown(table, gaps, title=f"{title} by {by.replace('_', ' ')}"))
        per_image = per_image[per_image["model"] == detector.name].drop(columns="model")
        summary = summarize(per_image)
        extra["by_tone"] = {by: {kind: str(path) for kind, path in written.items()}
                            for by, written in paths.items() if by in reports}
        extra["by_tone"]["per_image"] = str(paths["per_image"])
    else:
        per_image, summary = evaluate_pairs(
            detector.model, pairs, batch_size=args.batch_size, progress=True, on_error=log.add
        )
    problems_csv = None
    if args.out:
        out = Path(args.out)
        write_csv_atomic(out, per_image)
        problems_csv = log.write_csv(out.parent)
        problems_csv = None if problems_csv is None else str(problems_csv)
    if per_image.empty:
        raise ValueError(f"{args.data}: none of the {len(pairs)} pairs could be read.")
    summary.update({"data": str(args.data), "split": args.split, "model": detector.name,
                    "weights": None if detector.weights is None else str(detector.weights)})
    if args.splits is not None:
        summary["splits"] = str(args.splits)
    elif args.split != "all":
        summary["seed"] = seed
    summary.update(extra)
    summary.update(problems=log.listed(), problem_count=len(log), problems_csv=problems_csv)
    print(json.dumps(summary))
    return log.exit_code()


def add_parser(commands):
    evaluate = commands.add_parser("evaluate", help="per-image Jaccard and Dice of a dataset")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--model", default=None,
                          help="a baseline: all_skin, ycrcb, hsv, histogram (with --weights "
                               "its .npz); default: the network of --weights")
    evaluate.add_argument("--weights", default=None,
                          help="a .keras file (default: bundled U-Net), or a histogram's .npz")
    evaluate.add_argument("--out", default=None, help="per-image CSV")
    evaluate.add_argument("--split", default="all",
                          help="all; eval or train (the target's 300 or 100, split_target); "
                               "or a split named in --splits")
    evaluate.add_argument("--splits", default=None, metavar="JSON",
                          help="a splits file (write_splits) whose --split NAME lists the stems")
    evaluate.add_argument("--seed", type=int, default=None,
                          help="seed of --split eval/train (default 0, as train and replicate)")
    evaluate.add_argument("--batch-size", type=int, default=16, help="images per network call")
    evaluate.add_argument("--by", choices=("tone",), default=None,
                          help="tone: scores per ITA skin-tone group (and Fitzpatrick type where "
                               "pairs.tsv gives it), printed and written as CSV, Markdown, PNG")
    evaluate.add_argument("--baselines", type=split_names, default=split_names(TONE_BASELINES),
                          metavar="A,B", help=f"baselines scored beside the model with --by tone "
                                              f"(default {TONE_BASELINES}; 'none' for none)")
    evaluate.add_argument("--report", default=None, metavar="PREFIX",
                          help="file prefix of the --by tone tables and figure (default: beside "
                               "--out, else <data>_<split>_by_tone in this folder)")
    evaluate.add_argument("--strict", action="store_true",
                          help="stop at the first unreadable pair (exit 2) instead of reporting "
                               "it and going on (exit 1)")
    evaluate.set_defaults(handler=run)
