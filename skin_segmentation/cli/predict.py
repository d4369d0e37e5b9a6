"""`skinseg predict`: skin masks and overlays for photographs, or for the examples."""

import json
import sys

from skin_segmentation.cli.arguments import add_fill_holes, fill_options


def run(args):
    """`skinseg predict [IMAGE_OR_DIR...] [--examples] --out DIR [--model NAME] [--weights W]
    [--fill-holes FRACTION] [--fill-enclosed FRACTION]`.

    Exit 0 when every photograph got its mask, 1 when some could not be read
    (each is reported on stderr and in `DIR/problems.csv`); with `--strict`,
    2 at the first one.
    """
    from skin_segmentation.data.examples import EXAMPLES, example_photos
    from skin_segmentation.inference import (
        collect_images,
        load_detector,
        output_paths,
        predict_files,
        unfinished,
    )
    from skin_segmentation.outputs import check_output_folder
    from skin_segmentation.problems import ProblemLog

    fill = fill_options(args)
    check_output_folder(args.out)
    inputs = list(args.inputs) + (example_photos() if args.examples else [])
    if not inputs:
        raise ValueError("name photographs or folders of them, or pass --examples.")
    paths = collect_images(inputs, out_dir=args.out)
    pending = unfinished(paths, args.out) if args.skip_existing else paths
    detector = load_detector(args.model, args.weights)
    log = ProblemLog("skinseg predict", strict=args.strict)
    written = predict_files(
        detector.model, pending, args.out, batch_size=args.batch_size, progress=True,
        on_error=log.add, **fill,
    )
    problems_csv = log.write_csv(args.out)
    print(json.dumps({
        "n": len(written), "out": str(args.out), "model": detector.name,
        "weights": None if detector.weights is None else str(detector.weights),
        **fill, "skipped_existing": len(paths) - len(pending),
        "problems": log.listed(), "problem_count": len(log),
        "problems_csv": None if problems_csv is None else str(problems_csv),
    }))
    if args.examples:
        print(f"skinseg predict: the examples' masks and overlays are in {args.out}; look at",
              file=sys.stderr)
        for example in EXAMPLES:
            print(f"  {output_paths(args.out, example.image)[1]}  ({example.shows})", file=sys.stderr)
    return log.exit_code()


def add_parser(commands):
    predict = commands.add_parser("predict", help="skin masks for photographs")
    predict.add_argument("inputs", nargs="*", help="images or folders of images")
    predict.add_argument("--examples", action="store_true",
                         help="also the four example photographs shipped with the package")
    predict.add_argument("--out", required=True)
    predict.add_argument("--model", default=None,
                         help="a baseline: all_skin, ycrcb, hsv, histogram (with --weights "
                              "its .npz); default: the network of --weights")
    predict.add_argument("--weights", default=None,
                         help="a .keras file (default: bundled U-Net), or a histogram's .npz")
    predict.add_argument("--batch-size", type=int, default=16, help="images per network call")
    predict.add_argument("--skip-existing", action="store_true",
                         help="leave out photographs whose mask and overlay are already in --out "
                              "(continue a run that stopped)")
    predict.add_argument("--strict", action="store_true",
                         help="stop at the first unreadable photograph (exit 2) instead of "
                              "reporting it and going on (exit 1)")
    add_fill_holes(predict)
    predict.set_defaults(handler=run)
