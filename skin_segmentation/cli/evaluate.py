"""`skinseg evaluate`: per-image Jaccard and Dice of a dataset, at full resolution;
with `--by tone`, per skin-tone group beside the colour baselines."""

import json

from skin_segmentation.cli.arguments import add_fill_holes, fill_options, split_names

TONE_BASELINES = "all_skin,ycrcb,hsv"


def run(args):
    """`skinseg evaluate --data DIR [--model NAME] [--weights W] [--out CSV] [--split S]
    [--seed N] [--by tone [--baselines A,B] [--report PREFIX]] [--fill-holes FRACTION]
    [--fill-enclosed FRACTION] [--strict]`.

    Exit 0 when every pair was scored, 1 when some could not be read (each is
    reported on stderr, in the JSON line's `problems`, and in `problems.csv`
    beside `--out`); with `--strict`, 2 at the first one.
    """
    from skin_segmentation.dataset_evaluation import evaluate_dataset, tone_report_prefix
    from skin_segmentation.inference import load_detector
    from skin_segmentation.outputs import check_output_file
    from skin_segmentation.problems import ProblemLog

    fill = fill_options(args)
    if args.out:
        check_output_file(args.out)
    if args.by == "tone":
        check_output_file(f"{tone_report_prefix(args.data, args.split, args.out, args.report)}.csv")
    detector = load_detector(args.model, args.weights)
    log = ProblemLog("skinseg evaluate", strict=args.strict)
    _, summary, markdown = evaluate_dataset(
        detector, args.data, split=args.split, seed=args.seed, splits_file=args.splits,
        by_tone=args.by == "tone", baselines=args.baselines, report=args.report, out=args.out,
        batch_size=args.batch_size, progress=True, problems=log, **fill,
    )
    for table in markdown:
        print(table)
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
    add_fill_holes(evaluate)
    evaluate.set_defaults(handler=run)
