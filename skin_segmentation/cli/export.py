"""`skinseg export`: a TensorFlow SavedModel taking uint8 images."""


def run(args):
    """Export the weights; see `skin_segmentation.export.export_from_cli`."""
    from skin_segmentation.export import export_from_cli

    return export_from_cli(args)


def add_parser(commands):
    export = commands.add_parser("export", help="TensorFlow SavedModel taking uint8 images")
    export.add_argument("--weights", default=None, help="a .keras file (default: bundled U-Net)")
    export.add_argument("--out", required=True, help="the SavedModel folder")
    export.set_defaults(handler=run)
