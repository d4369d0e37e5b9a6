"""`skinseg export`: a TensorFlow SavedModel or a TFLite file taking uint8 images."""


def run(args):
    """Export the weights; see `export.export_from_cli` and `export_tflite.tflite_from_cli`."""
    if args.format == "tflite":
        from skin_segmentation.export_tflite import tflite_from_cli

        return tflite_from_cli(args)
    from skin_segmentation.export import export_from_cli

    return export_from_cli(args)


def add_parser(commands):
    export = commands.add_parser("export", help="TensorFlow SavedModel or TFLite taking uint8 images")
    export.add_argument("--weights", default=None, help="a .keras file (default: bundled U-Net)")
    export.add_argument("--out", required=True,
                        help="the SavedModel folder, or the .tflite file with --format tflite")
    export.add_argument("--format", default="saved_model", choices=("saved_model", "tflite"))
    export.add_argument("--quantize", default=None, choices=("float16",),
                        help="tflite only: store the weights in float16 (half the size)")
    export.set_defaults(handler=run)
