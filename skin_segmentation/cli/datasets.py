"""`skinseg data list | get | verify`: the command line of `skin_segmentation.data.fetch`.

Thin callers only; `add_parser(subparsers)` registers them. Errors
(`DataError`, `ValueError`) reach `skinseg`'s one-line handler: exit 2.
"""

import sys


def cmd_data_list(args):
    from skin_segmentation.data.catalog import describe

    print(describe())
    print("\nGet them with `skinseg data get NAME... [--to DIR]` (default ./data, or $SKINSEG_DATA).")
    return 0


def cmd_data_get(args):
    from skin_segmentation.data.catalog import get_source
    from skin_segmentation.data.fetch import confirm_terms, fetch_dataset, remove_archives

    names = ["ecu-test" if args.split == "test" and name == "ecu" else name for name in args.names]
    if args.split == "test" and "ecu-test" not in names:
        raise ValueError("--split test applies to ecu only")
    sources = [get_source(name) for name in dict.fromkeys(names)]
    confirm_terms(sources, assume_yes=args.yes)
    for source in sources:
        result = fetch_dataset(source.name, args.to, downsize=args.downsize, timeout=args.timeout)
        if result.already_present:
            print(f"{source.name}: {result.folder} already exists, left as it is "
                  f"(`skinseg data verify {result.folder}` checks it)")
            continue
        checked = "each checked against the manifest" if result.verified else "NOT checked: no manifest ships"
        print(f"{source.name}: {result.pairs} pairs in {result.folder} ({checked})")
        if source.evaluation_only:
            print(f"{source.name}: EVALUATION ONLY, never train on {result.folder}")
        print(f"Please cite:\n{source.citation}\n")
    if not args.keep_archives:
        remove_archives(args.to, [source.name for source in sources])
    return 0


def cmd_data_verify(args):
    from skin_segmentation.data.manifest import verify_folder

    report = verify_folder(args.directory, args.dataset)
    print(report.summary())
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    return 0 if report.ok else 1


def add_parser(subparsers):
    """Add `data` with its `list`, `get` and `verify` subcommands to `skinseg`'s parser."""
    data = subparsers.add_parser("data", help="public datasets: list, get (download + convert), verify")
    commands = data.add_subparsers(dest="data_command", required=True)

    listing = commands.add_parser("list", help="the catalogue: pairs, role, licence, citation")
    listing.set_defaults(handler=cmd_data_list)

    get = commands.add_parser("get", help="download, convert and check datasets")
    get.add_argument("names", nargs="+", metavar="NAME", help="datasets from `skinseg data list`")
    get.add_argument("--to", default=None, metavar="DIR",
                     help="data root (default: $SKINSEG_DATA, else ./data); each dataset goes to DIR/NAME")
    get.add_argument("--split", choices=("train", "test"), default="train",
                     help="ecu only: train (train + validation, default) or test (to DIR/ecu_test, "
                          "evaluation only)")
    get.add_argument("--downsize", action="store_true",
                     help="ecu, ccp: longest side <= 320 / 384, bicubic, JPEG quality 85, masks nearest "
                          "(as ../shared/data holds them); default: the originals")
    get.add_argument("--yes", action="store_true",
                     help="accept the datasets' terms without asking (or SKINSEG_ACCEPT_TERMS=1)")
    get.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server")
    get.add_argument("--keep-archives", action="store_true",
                     help="keep the downloaded archives in DIR/.downloads (default: removed once converted)")
    get.set_defaults(handler=cmd_data_get)

    verify = commands.add_parser("verify", help="check a dataset folder against its shipped manifest")
    verify.add_argument("directory", help="a folder that `data get` filled (or ../shared/data/NAME)")
    verify.add_argument("--dataset", default=None, help="its name (default: detected from its stems)")
    verify.set_defaults(handler=cmd_data_verify)

