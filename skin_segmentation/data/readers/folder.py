"""Plain folders: `images/<stem>.<ext>` beside `masks/<stem>.<ext>`, optionally listed in `pairs.tsv`.
"""

import csv

from skin_segmentation.data.readers.pairs import (
    IMAGE_EXTENSIONS,
    DataError,
    files_by_stem,
    match_pairs,
    raise_first,
    require_dir,
)


def _read_pairs_tsv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows or "stem" not in rows[0]:
        raise DataError(path, "expected a tab-separated header with a 'stem' column")
    column = rows[0].index("stem")
    stems = [row[column] for row in rows[1:] if row and len(row) > column and row[column]]
    if len(set(stems)) != len(stems):
        duplicated = sorted({s for s in stems if stems.count(s) > 1})
        raise DataError(path, f"stems listed more than once: {duplicated[:5]}")
    return stems


def scan_folder(root, source=None, mask_encoding="white_is_skin"):
    """Like `read_folder`, but returns every problem instead of raising the first.

    Returns:
        `(pairs, problems)`: the complete pairs, and a `DataError` for each image
        without a mask, mask without an image, or disagreement with `pairs.tsv`.
        Problems with the folder itself (missing, empty) still raise.
    """
    root = require_dir(root, "expected a dataset folder")
    image_folder = require_dir(root / "images", "a dataset folder needs images/ and masks/")
    mask_folder = require_dir(root / "masks", "a dataset folder needs images/ and masks/")
    images = files_by_stem(image_folder)
    masks = files_by_stem(mask_folder)
    if not images and not masks:
        raise DataError(
            image_folder, f"no images found (looked for {', '.join(IMAGE_EXTENSIONS)})"
        )
    pairs, problems = match_pairs(
        images, masks, source or root.name, mask_encoding, "images", "masks"
    )
    listing = root / "pairs.tsv"
    if listing.is_file():
        listed = set(_read_pairs_tsv(listing))
        present = set(images) | set(masks)
        for stem in sorted(listed - present):
            problems.append(DataError(listing, f"lists {stem!r} but images/ and masks/ have no such file"))
        for pair in pairs:
            if pair.stem not in listed:
                problems.append(DataError(pair.image, "not listed in pairs.tsv"))
        pairs = [pair for pair in pairs if pair.stem in listed]
    return pairs, problems



def read_folder(root, source=None, mask_encoding="white_is_skin"):
    """Pairs of a folder holding `images/` and `masks/` with matching stems.

    Image and mask may have any of the extensions in `IMAGE_EXTENSIONS` (case
    does not matter); hidden files and other extensions are skipped. When the
    folder has a `pairs.tsv` (a header with a `stem` column), it must list
    exactly the pairs present.

    Args:
        root: the dataset folder.
        source: dataset name recorded in each pair; defaults to the folder name.
        mask_encoding: see `SkinPair`.

    Returns:
        A list of `SkinPair`, sorted by stem.

    Raises:
        DataError: naming the file, for a missing or empty folder, an image
            without a mask, a mask without an image, or two files with one stem.

    Example:
    >>> pairs = read_folder("../shared/data/abdomen")  # doctest: +SKIP
    >>> len(pairs), pairs[0].stem, pairs[0].source  # doctest: +SKIP
    (617, 'abd_train_001', 'abdomen')
    """
    return raise_first(*scan_folder(root, source, mask_encoding))
