"""`skinseg predict`: skin masks and overlays for photographs."""

import json


def run(args):
    """`skinseg predict IMAGE_OR_DIR... --out DIR [--model NAME] [--weights W]`."""
    from skin_segmentation.inference import collect_images, load_detector, predict_files

    paths = collect_images(args.inputs, out_dir=args.out)
    detector = load_detector(args.model, args.weights)
    written = predict_files(
        detector.model, paths, args.out, batch_size=args.batch_size, progress=True
    )
    print(json.dumps({
        "n": len(written), "out": str(args.out), "model": detector.name,
        "weights": None if detector.weights is None else str(detector.weights),
    }))
    return 0


def add_parser(commands):
    predict = commands.add_parser("predict", help="skin masks for photographs")
    predict.add_argument("inputs", nargs="+", help="images or folders of images")
    predict.add_argument("--out", required=True)
    predict.add_argument("--model", default=None,
                         help="a baseline: all_skin, ycrcb, hsv, histogram (with --weights "
                              "its .npz); default: the network of --weights")
    predict.add_argument("--weights", default=None,
                         help="a .keras file (default: bundled U-Net), or a histogram's .npz")
    predict.add_argument("--batch-size", type=int, default=16, help="images per network call")
    predict.set_defaults(handler=run)
