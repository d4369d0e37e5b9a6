"""HGR (Kawulok et al. 2014): `original_images/` beside `skin_masks/`, where black is skin.
"""

from skin_segmentation.data.readers.pairs import DataError, files_by_stem, match_pairs, raise_first, require_dir


def scan_hgr(root, source=None):
    """Like `read_hgr`, returning `(pairs, problems)` instead of raising."""
    root = require_dir(root, "expected an HGR folder")
    image_folder = require_dir(root / "original_images", "HGR needs original_images/ and skin_masks/")
    mask_folder = require_dir(root / "skin_masks", "HGR needs original_images/ and skin_masks/")
    images, masks = files_by_stem(image_folder), files_by_stem(mask_folder)
    if not images:
        raise DataError(image_folder, "no images found")
    return match_pairs(
        images, masks, source or root.name, "black_is_skin", "original_images", "skin_masks"
    )


def read_hgr(root, source=None):
    """Pairs of an HGR set (HGR1, HGR2A or HGR2B) in its original layout.

    `root/original_images/<stem>.jpg` are the photographs and
    `root/skin_masks/<stem>.bmp` the masks, 1-bit or 8-bit, where **black is
    skin** and white is background. The pairs are marked `"black_is_skin"`, so
    `load_mask` inverts them.

    Args:
        root: the folder holding `original_images/` and `skin_masks/`.
        source: dataset name recorded in each pair; defaults to the folder name.

    Returns:
        A list of `SkinPair`, sorted by stem.

    Example:
    >>> pairs = read_hgr("datasets/hgr1")  # doctest: +SKIP
    >>> load_mask(pairs[0]).max()  # skin is 1 once decoded  # doctest: +SKIP
    1
    """
    return raise_first(*scan_hgr(root, source))
