"""Argument types shared by the commands."""


def split_dirs(value):
    """`"a,b,"` -> `["a", "b"]`: a comma-separated list of folders.

    Example:
    >>> split_dirs("data/sfa,data/hgr,")
    ['data/sfa', 'data/hgr']
    """
    return [part for part in value.split(",") if part]


def split_names(value):
    """`"a,b"` -> `["a", "b"]`; `"none"` or `""` -> `[]`: a comma-separated list of names.

    Example:
    >>> split_names("all_skin,ycrcb"), split_names("none")
    (['all_skin', 'ycrcb'], [])
    """
    return [] if value.strip().lower() == "none" else split_dirs(value)


def add_fill_holes(parser, default=None):
    """Add `--fill-holes FRACTION` to a command.

    Args:
        parser: the command's `argparse` parser.
        default: the share filled when the flag is not given (default
            `postprocess.DEFAULT_FILL_HOLES`; `0` for scripts that score the
            network's own masks).
    """
    from skin_segmentation.postprocess import DEFAULT_FILL_HOLES

    default = DEFAULT_FILL_HOLES if default is None else default
    parser.add_argument(
        "--fill-holes", type=float, default=default, metavar="FRACTION",
        help=f"turn non-skin regions smaller than this share of the photograph into skin (small "
             f"islands inside skin are lesions, moles or shadows the network missed); 0 turns it "
             f"off; Table I never post-processes (default {default})",
    )


def add_precision(parser):
    """Add `--precision POLICY` to a command that trains (`profile_with_precision` applies it)."""
    parser.add_argument(
        "--precision", default=None,
        help="float32, mixed_bfloat16, mixed_float16, or auto (mixed_float16 on GPUs with "
             "tensor cores, float32 elsewhere); default: the profile's "
             "(experiments/benchmarks.md measures which is faster)",
    )


def profile_with_precision(profile, precision):
    """`profile` with `--precision`'s policy (`"auto"` resolved for this device), or as it is.

    Example:
    >>> from skin_segmentation.profiles import get_profile
    >>> profile_with_precision(get_profile("tiny"), "mixed_bfloat16").precision
    'mixed_bfloat16'
    >>> profile_with_precision(get_profile("tiny"), None).precision
    'float32'
    """
    if not precision:
        return profile
    from skin_segmentation.precision import resolve_precision

    return profile.replace(precision=resolve_precision(precision))
