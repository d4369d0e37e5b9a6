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


def add_fill_holes(parser, off_by_default=False):
    """Add `--fill-holes FRACTION` and `--fill-enclosed FRACTION` to a command.

    Args:
        parser: the command's `argparse` parser.
        off_by_default: both shares default to `0` (scripts that score the
            network's own masks) instead of `postprocess.DEFAULT_FILL_HOLES`
            and `postprocess.DEFAULT_FILL_ENCLOSED`.
    """
    from skin_segmentation.postprocess import DEFAULT_FILL_ENCLOSED, DEFAULT_FILL_HOLES

    holes, enclosed = (0.0, 0.0) if off_by_default else (DEFAULT_FILL_HOLES, DEFAULT_FILL_ENCLOSED)
    parser.add_argument(
        "--fill-holes", type=float, default=holes, metavar="FRACTION",
        help=f"turn non-skin regions smaller than this share of the photograph into skin (small "
             f"islands inside skin are lesions, moles or shadows the network missed); 0 turns the "
             f"post-processing off, --fill-enclosed too; Table I never post-processes "
             f"(default {holes})",
    )
    parser.add_argument(
        "--fill-enclosed", type=float, default=enclosed, metavar="FRACTION",
        help=f"a non-skin region that skin encloses (touching no edge of the photograph) becomes "
             f"skin up to this larger share; 0: as any other region (default {enclosed})",
    )


def fill_options(args):
    """`{"fill_holes": ..., "fill_enclosed": ...}` of parsed `add_fill_holes` flags, each checked.

    Raises:
        ValueError: a share not in [0, 1), naming its flag's keyword.

    Example:
    >>> import argparse
    >>> fill_options(argparse.Namespace(fill_holes=0.005, fill_enclosed=0.01))
    {'fill_holes': 0.005, 'fill_enclosed': 0.01}
    """
    from skin_segmentation.postprocess import check_fill_shares

    return check_fill_shares(args.fill_holes, args.fill_enclosed)


def add_precision(parser):
    """Add `--precision POLICY` to a command that trains (`profile_with_precision` applies it)."""
    parser.add_argument(
        "--precision", default=None,
        help="float32, mixed_bfloat16, mixed_float16, or auto (mixed_float16 on GPUs with "
             "tensor cores; on a CPU mixed_bfloat16 where a training step measures at least "
             "1.25x faster in it, else float32); default: the profile's (quick: auto)",
    )


def profile_with_precision(profile, precision):
    """`profile` with `--precision`'s policy, or its own; `"auto"` resolved for this device.

    Resolved before the command checks a run folder's identity, which records
    the policy a run trained in (`Profile.with_device_precision`).

    Example:
    >>> from skin_segmentation.profiles import get_profile
    >>> profile_with_precision(get_profile("tiny"), "mixed_bfloat16").precision
    'mixed_bfloat16'
    >>> profile_with_precision(get_profile("tiny"), None).precision
    'float32'
    """
    if not precision:
        return profile.with_device_precision()
    from skin_segmentation.precision import resolve_precision

    return profile.replace(precision=resolve_precision(precision))
