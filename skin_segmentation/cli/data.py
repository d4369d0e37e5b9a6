"""`skinseg inspect-data`: check a dataset folder and print one JSON line."""

import json


def run(args):
    """Print the folder's summary; exit 0 when every pair is usable (and there is one)."""
    from skin_segmentation.data.inspect import inspect_dataset

    summary = inspect_dataset(args.directory)
    print(json.dumps(summary))
    return 0 if summary["usable"] == summary["pairs"] and summary["pairs"] > 0 else 1


def add_parser(commands):
    inspect = commands.add_parser(
        "inspect-data", help="check a dataset folder; print one JSON line"
    )
    inspect.add_argument("directory", help="a folder with images/ and masks/")
    inspect.set_defaults(handler=run)
