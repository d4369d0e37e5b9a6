"""`skinseg finetune`: fine-tune the bundled (or a given) network on one's own photographs."""

import json

from skin_segmentation.cli.arguments import add_fill_holes, fill_options, split_dirs


def run(args):
    """`skinseg finetune --data DIR[,DIR] --out RUN [--weights W] [--profile P] [--resume]
    [--fill-holes FRACTION] [--fill-enclosed FRACTION]`."""
    from skin_segmentation.finetune import fine_tune

    fill = fill_options(args)
    result = fine_tune(args.data, args.out, weights=args.weights, profile=args.profile,
                       resume=args.resume, **fill)
    print("\n".join(result.table()))
    print(json.dumps({
        "model": str(result.model_path),
        "trained_on": result.trained_on,
        "held_out": result.held_out,
        **fill,
        "two_class_miou_before": round(result.before["two_class_miou"], 4),
        "two_class_miou_after": round(result.after["two_class_miou"], 4),
    }))
    return 0


def add_parser(commands):
    finetune = commands.add_parser(
        "finetune",
        help="fine-tune a network on your own photographs; print its scores before and after",
        description="Fine-tune the bundled U-Net (or --weights) on folders of images/ + masks/ "
                    "(docs/finetune.md). 20% of the pairs are held out for early stopping and "
                    "scored before and after.",
    )
    finetune.add_argument("--data", required=True, type=split_dirs, help="DIR[,DIR...]")
    finetune.add_argument("--out", required=True, help="run folder")
    finetune.add_argument("--weights", default=None, help="a .keras network (default: the bundled U-Net)")
    finetune.add_argument("--profile", default="finetune", help="default: finetune (docs/finetune.md)")
    finetune.add_argument("--resume", action="store_true", help="continue an interrupted run")
    add_fill_holes(finetune)
    finetune.set_defaults(handler=run)
