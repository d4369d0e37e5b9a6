"""LVS: video frames, `<video>/frames/<frame>` beside `<video>/masks/<frame>` (white is skin).
"""

from skin_segmentation.data.readers.pairs import DataError, files_by_stem, match_pairs, raise_first, require_dir


def scan_lvs(root, source=None):
    """Like `read_lvs`, returning `(pairs, problems)` instead of raising."""
    root = require_dir(root, "expected an LVS folder")
    videos = sorted(p for p in root.iterdir() if p.is_dir() and (p / "frames").is_dir())
    if not videos:
        raise DataError(root, "no <video>/frames/ folders found (LVS layout)")
    pairs, problems = [], []
    for video in videos:
        frames = files_by_stem(video / "frames")
        masks = files_by_stem(video / "masks") if (video / "masks").is_dir() else {}
        found, missing = match_pairs(
            frames, masks, source or root.name, "lvs", f"{video.name}/frames", f"{video.name}/masks",
            stem_prefix=f"{video.name}__",
        )
        pairs.extend(found)
        problems.extend(missing)
    if not pairs and not problems:
        raise DataError(root, "the video folders hold no frames")
    return pairs, problems


def read_lvs(root, source=None):
    """Pairs of an LVS-style video set: every frame with its own skin mask.

    Assumed layout (convert another layout to this one to read it):
    `root/<video>/frames/<frame>.<ext>` and `root/<video>/masks/<frame>.<ext>`,
    masks white = skin. The stem of a pair is `<video>__<frame>`, unique across
    videos. A frame without a mask is an error, as in `read_folder`.

    Args:
        root: the folder holding one folder per video.
        source: dataset name recorded in each pair; defaults to the folder name.

    Returns:
        A list of `SkinPair` marked `"lvs"`, sorted by video then frame.

    Example:
    >>> pairs = read_lvs("datasets/lvs")  # doctest: +SKIP
    >>> pairs[0].stem  # doctest: +SKIP
    'video01__000001'
    """
    return raise_first(*scan_lvs(root, source))
