"""Layouts: recognise which of the four layouts a dataset folder has, and read one or several folders.
"""

import os
from pathlib import Path

from skin_segmentation.data.readers.folder import scan_folder
from skin_segmentation.data.readers.hgr import scan_hgr
from skin_segmentation.data.readers.lfw_parts import scan_lfw_parts
from skin_segmentation.data.readers.lvs import scan_lvs
from skin_segmentation.data.readers.pairs import DataError, raise_first, require_dir


def detect_layout(root):
    """Which reader `root` needs: "folder", "hgr", "lfw_parts" or "lvs".

    Raises:
        DataError: when `root` is missing or matches none of the layouts.
    """
    root = require_dir(root, "expected a dataset folder")
    if (root / "images").is_dir() or (root / "masks").is_dir():
        return "folder"
    if (root / "original_images").is_dir() and (root / "skin_masks").is_dir():
        return "hgr"
    if (root / "lfw_funneled").is_dir() and (root / "parts_lfw_funneled_gt_images").is_dir():
        return "lfw_parts"
    if any(p.is_dir() and (p / "frames").is_dir() for p in root.iterdir()):
        return "lvs"
    raise DataError(
        root,
        "unrecognized dataset layout; expected images/ + masks/, original_images/ + "
        "skin_masks/ (HGR), lfw_funneled/ + parts_lfw_funneled_gt_images/ (LFW Part "
        "Labels) or <video>/frames/ + <video>/masks/ (LVS)",
    )


def scan_dataset(root, source=None):
    """`(pairs, problems)` of any supported layout (see `detect_layout`)."""
    root = Path(root)
    layout = detect_layout(root)
    if layout == "folder":
        return scan_folder(root, source)
    if layout == "hgr":
        return scan_hgr(root, source)
    if layout == "lfw_parts":
        return scan_lfw_parts(
            root / "lfw_funneled", root / "parts_lfw_funneled_gt_images", source or root.name
        )
    return scan_lvs(root, source)


def read_dataset(root, source=None):
    """Pairs of a dataset folder in any supported layout, detected from its contents.

    Args:
        root: a folder in one of the layouts of `data.readers`' docstring. LFW Part
            Labels is recognized as a folder holding `lfw_funneled/` and
            `parts_lfw_funneled_gt_images/`.
        source: dataset name recorded in each pair; defaults to the folder name.

    Returns:
        A list of `SkinPair`, sorted by stem.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> _, target = sample_datasets()
    >>> pairs = read_dataset(target)
    >>> len(pairs), pairs[0].source
    (400, 'abdomen')
    """
    return raise_first(*scan_dataset(root, source))


def read_datasets(roots):
    """Pairs of several dataset folders, concatenated in the order given.

    Args:
        roots: dataset folders (see `read_dataset`); a single path is accepted.

    Raises:
        DataError: when two folders share a source name or a stem, since splits
            and records identify pairs by stem.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> pretrain, _ = sample_datasets()
    >>> sorted({pair.source for pair in read_datasets(pretrain)})
    ['fasseg', 'hgr_subset', 'sfa']
    """
    if isinstance(roots, (str, os.PathLike)):
        roots = [roots]
    roots = [Path(root) for root in roots]
    if not roots:
        raise ValueError(f"`roots` must name at least one dataset folder. Received: roots={roots}")
    pairs, seen_stems, seen_sources = [], {}, {}
    for root in roots:
        found = read_dataset(root)
        for source in sorted({pair.source for pair in found}):
            if source in seen_sources:
                raise DataError(root, f"source name {source!r} is also that of {seen_sources[source]}")
            seen_sources[source] = root
        for pair in found:
            if pair.stem in seen_stems:
                raise DataError(pair.image, f"stem {pair.stem!r} also appears in {seen_stems[pair.stem]}")
            seen_stems[pair.stem] = root
        pairs.extend(found)
    return pairs
