"""`skinseg predict`: skin masks and overlays for photographs."""

import json


def run(args):
    """`skinseg predict IMAGE_OR_DIR... --out DIR [--weights W]`."""
    from skin_segmentation.inference import BATCH_SIZE, collect_images, predict_files
    from skin_segmentation.weights import load_skin_model, resolve_weights

    paths = collect_images(args.inputs, out_dir=args.out)
    weights = resolve_weights(args.weights)
    model = load_skin_model(weights)
    written = predict_files(
        model, paths, args.out, batch_size=getattr(args, "batch_size", BATCH_SIZE), progress=True
    )
    print(json.dumps({"n": len(written), "out": str(args.out), "weights": str(weights)}))
    return 0


def add_parser(commands):
    predict = commands.add_parser("predict", help="skin masks for photographs")
    predict.add_argument("inputs", nargs="+", help="images or folders of images")
    predict.add_argument("--out", required=True)
    predict.add_argument("--weights", default=None, help="a .keras file (default: bundled U-Net)")
    predict.add_argument("--batch-size", type=int, default=16, help="images per network call")
    predict.set_defaults(handler=run)
