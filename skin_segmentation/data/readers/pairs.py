"""Pairs: what a (photograph, skin mask) pair is, the error every reader raises, and
how files are matched into pairs by stem.
"""

import dataclasses
from pathlib import Path


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".tif", ".tiff")
MASK_ENCODINGS = ("white_is_skin", "black_is_skin", "lfw_parts", "lvs")


class DataError(ValueError):
    """A problem with one input file or folder; the message names it first.

    Args:
        path: the file or folder at fault.
        problem: what is wrong with it, in a few words.

    Example:
    >>> error = DataError("masks/a.png", "mask is 10x10 but its image is 20x20")
    >>> str(error)
    'masks/a.png: mask is 10x10 but its image is 20x20'
    >>> error.problem
    'mask is 10x10 but its image is 20x20'
    """

    def __init__(self, path, problem):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self):
        return (type(self), (self.path, self.problem))


@dataclasses.dataclass(frozen=True)
class SkinPair:
    """One photograph and its skin mask.

    Attributes:
        image: path of the photograph.
        mask: path of the mask, the same height and width as the photograph.
        stem: identifier of the pair, unique within a dataset; splits are lists
            of stems.
        source: dataset name (by default the folder it was read from), used to
            balance pre-training sources.
        mask_encoding: how the mask codes skin: `"white_is_skin"`,
            `"black_is_skin"` (HGR), `"lfw_parts"` (green class of the LFW Part
            Labels colour ground truth) or `"lvs"` (white is skin).
    """

    image: Path
    mask: Path
    stem: str
    source: str
    mask_encoding: str = "white_is_skin"

    def __post_init__(self):
        if self.mask_encoding not in MASK_ENCODINGS:
            raise ValueError(
                f"`mask_encoding` must be one of {MASK_ENCODINGS}. "
                f"Received: mask_encoding={self.mask_encoding!r}"
            )


def is_candidate(path):
    return path.is_file() and not path.name.startswith(".")


def files_by_stem(folder):
    """`{stem: path}` of the image files in `folder`; a stem twice is an error."""
    found = {}
    for path in sorted(folder.iterdir()):
        if not is_candidate(path) or path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if path.stem in found:
            raise DataError(
                path, f"two files share the stem {path.stem!r} (the other is {found[path.stem].name})"
            )
        found[path.stem] = path
    return found


def ignored_files(folder):
    """Files in `folder` that the readers skip (not an image extension, or hidden)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and (path.name.startswith(".") or path.suffix.lower() not in IMAGE_EXTENSIONS)
    )


def require_dir(path, what):
    path = Path(path)
    if not path.exists():
        raise DataError(path, f"no such folder ({what})")
    if not path.is_dir():
        raise DataError(path, f"not a folder ({what})")
    return path


def match_pairs(images, masks, source, encoding, image_folder, mask_folder, stem_prefix=""):
    """Pair `{stem: path}` maps; returns `(pairs, problems)` with one DataError per orphan."""
    pairs, problems = [], []
    for stem in sorted(set(images) | set(masks)):
        if stem not in masks:
            problems.append(
                DataError(images[stem], f"image has no mask (looked for {mask_folder}/{stem}.*)")
            )
        elif stem not in images:
            problems.append(
                DataError(masks[stem], f"mask has no image (looked for {image_folder}/{stem}.*)")
            )
        else:
            pairs.append(SkinPair(images[stem], masks[stem], stem_prefix + stem, source, encoding))
    return pairs, problems



def raise_first(pairs, problems):
    if problems:
        raise problems[0]
    return pairs
