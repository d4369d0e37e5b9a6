"""LFW Part Labels (Kae et al. 2013): funneled images and colour ground truth whose green is skin.
"""

from skin_segmentation.data.readers.pairs import DataError, SkinPair, is_candidate, raise_first, require_dir


def _lfw_image_for(images_root, stem):
    person = stem.rsplit("_", 1)[0]
    for folder in (images_root / person, images_root):
        for extension in (".jpg", ".jpeg", ".png"):
            candidate = folder / f"{stem}{extension}"
            if candidate.is_file():
                return candidate
    return None


def scan_lfw_parts(images_root, labels_root, source="lfw_parts"):
    """Like `read_lfw_parts`, returning `(pairs, problems)` instead of raising."""
    images_root = require_dir(images_root, "expected the lfw_funneled image folder")
    labels_root = require_dir(labels_root, "expected the parts_lfw_funneled_gt_images folder")
    labels = sorted(p for p in labels_root.iterdir() if is_candidate(p) and p.suffix.lower() == ".ppm")
    if not labels:
        raise DataError(labels_root, "no .ppm ground-truth images found")
    pairs, problems = [], []
    for label in labels:
        image = _lfw_image_for(images_root, label.stem)
        if image is None:
            person = label.stem.rsplit("_", 1)[0]
            problems.append(
                DataError(label, f"ground truth has no image (looked for {images_root}/{person}/{label.stem}.jpg)")
            )
        else:
            pairs.append(SkinPair(image, label, label.stem, source, "lfw_parts"))
    return pairs, problems


def read_lfw_parts(images_root, labels_root, source="lfw_parts"):
    """Pairs of LFW Part Labels: funneled images and their colour ground truth.

    Every `labels_root/<Person_Name>_<NNNN>.ppm` is paired with
    `images_root/<Person_Name>/<Person_Name>_<NNNN>.jpg` (the `lfw_funneled`
    tree; a flat folder of images works too). LFW images without a label are
    not part of the labelled set and are skipped; a label without its image is
    an error. In the ground truth red is hair, green is skin, blue is
    background; the skin mask is the green class.

    Args:
        images_root: the `lfw_funneled` folder.
        labels_root: the `parts_lfw_funneled_gt_images` folder.
        source: dataset name recorded in each pair.

    Returns:
        A list of `SkinPair` marked `"lfw_parts"`, sorted by stem.

    Example:
    >>> pairs = read_lfw_parts("lfw/lfw_funneled", "lfw/parts_lfw_funneled_gt_images")  # doctest: +SKIP
    >>> pairs[0].stem  # doctest: +SKIP
    'Aaron_Peirsol_0001'
    """
    return raise_first(*scan_lfw_parts(images_root, labels_root, source))
