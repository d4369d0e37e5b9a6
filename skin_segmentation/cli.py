"""`skinseg`: the command line. Every command is a thin caller of the library.

Bad input (a `DataError` or `ValueError` naming a file and its problem) becomes
one line on stderr and exit code 2, never a traceback.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EXIT_BAD_INPUT = 2


def _split_dirs(value):
    return [part for part in value.split(",") if part]


def cmd_inspect_data(args):
    from skin_segmentation.data.inspect import inspect_dataset

    summary = inspect_dataset(args.directory)
    print(json.dumps(summary))
    return 0 if summary["usable"] == summary["pairs"] and summary["pairs"] > 0 else 1


def cmd_train(args):
    from skin_segmentation.training import train_from_cli

    return train_from_cli(args)


def cmd_replicate(args):
    from skin_segmentation.scenarios import replicate_from_cli

    return replicate_from_cli(args)


def cmd_evaluate(args):
    from skin_segmentation.evaluation import evaluate_from_cli

    return evaluate_from_cli(args)


def cmd_predict(args):
    from skin_segmentation.evaluation import predict_from_cli

    return predict_from_cli(args)


def cmd_export(args):
    from skin_segmentation.export import export_from_cli

    return export_from_cli(args)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skinseg",
        description="Skin segmentation of clinical photographs (Codella et al. 2018).",
    )
    parser.add_argument("--verbose", action="store_true",
                        help="let TensorFlow's C++ log lines through (held back otherwise)")
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser(
        "inspect-data", help="check a dataset folder; print one JSON line"
    )
    inspect.add_argument("directory", help="a folder with images/ and masks/")
    inspect.set_defaults(handler=cmd_inspect_data)

    train = commands.add_parser("train", help="train one network")
    train.add_argument("--model", default="unet", help="preset: unet, unet_large, dense_residual_unet")
    train.add_argument("--data", required=True, type=_split_dirs, help="DIR[,DIR...]")
    train.add_argument("--out", required=True, help="run folder")
    train.add_argument("--init", default=None, help="weights (.keras) to start from")
    train.add_argument("--profile", default="quick", help="paper, quick or tiny")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--target-train", default=None, metavar="DIR",
                       help="also train on this target folder's training split (the "
                            "paper's 100 images); its evaluation images are never used")
    train.add_argument("--strategy", default="default",
                       help="default, mirrored or multi_worker (tf.distribute)")
    train.add_argument("--precision", default=None,
                       help="float32, mixed_bfloat16, mixed_float16, or auto (the device's fastest "
                            "measured choice); default: the profile's")
    train.add_argument("--seed", type=int, default=None)
    train.set_defaults(handler=cmd_train)

    replicate = commands.add_parser("replicate", help="the paper's Table I: 3 networks x 3 scenarios")
    replicate.add_argument("--profile", default="quick")
    replicate.add_argument("--out", required=True)
    replicate.add_argument("--pretrain", default=None, type=_split_dirs, help="DIR[,DIR...]")
    replicate.add_argument("--target", default=None)
    replicate.add_argument("--models", default=None, type=_split_dirs, help="presets to run")
    replicate.add_argument("--seed", type=int, default=None,
                           help="training seed (default: the profile's; the splits keep theirs)")
    replicate.add_argument("--strategy", default="default",
                           help="default, mirrored or multi_worker (tf.distribute)")
    replicate.set_defaults(handler=cmd_replicate)

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
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = commands.add_parser("predict", help="skin masks for photographs")
    predict.add_argument("inputs", nargs="+", help="images or folders of images")
    predict.add_argument("--out", required=True)
    predict.add_argument("--weights", default=None, help="a .keras file (default: bundled U-Net)")
    predict.add_argument("--batch-size", type=int, default=16, help="images per network call")
    predict.set_defaults(handler=cmd_predict)

    export = commands.add_parser("export", help="TensorFlow SavedModel or TFLite taking uint8 images")
    export.add_argument("--weights", default=None, help="a .keras file (default: bundled U-Net)")
    export.add_argument("--out", required=True,
                        help="the SavedModel folder, or the .tflite file with --format tflite")
    export.add_argument("--format", default="saved_model", choices=("saved_model", "tflite"))
    export.add_argument("--quantize", default=None, choices=("float16",),
                        help="tflite only: store the weights in float16 (half the size)")
    export.set_defaults(handler=cmd_export)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from skin_segmentation import quiet
    from skin_segmentation.data.readers import DataError

    if args.verbose and not quiet.is_verbose():
        return quiet.relaunch_verbose(sys.argv[1:] if argv is None else list(argv))

    try:
        return args.handler(args) or 0
    except (DataError, FileNotFoundError, ValueError) as error:
        print(f"skinseg {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"skinseg {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
