"""`skinseg`: the command line. Every command is a thin caller of the library.

Each command group lives in its own module of this package with an
`add_parser(commands)` that registers its subcommand and a handler; adding a
command is adding a module to `COMMAND_MODULES`.

Bad input (a `DataError` or `ValueError` naming a file and its problem) becomes
one line on stderr and exit code 2, never a traceback.

No module of this package imports TensorFlow at its top, and building the
parser imports none that does: `skinseg --help` and a mistyped flag answer in
well under a second; a command's handler imports the library when it runs.
"""

import argparse
import sys

from skin_segmentation.cli import data, datasets, evaluate, export, finetune, predict, replicate, train

EXIT_BAD_INPUT = 2
COMMAND_MODULES = (data, datasets, train, finetune, replicate, evaluate, predict, export)


def build_parser():
    """The `skinseg` argument parser, one subcommand per module of `COMMAND_MODULES`."""
    parser = argparse.ArgumentParser(
        prog="skinseg",
        description="Skin segmentation of clinical photographs (Codella et al. 2018).",
    )
    parser.add_argument("--verbose", action="store_true",
                        help="let TensorFlow's C++ log lines through (held back otherwise)")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.add_parser(commands)
    return parser


def main(argv=None):
    """Run `skinseg` with `argv` (default: `sys.argv[1:]`); return the exit code."""
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
