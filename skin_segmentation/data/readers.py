"""Readers: find (image, skin mask) pairs on disk and decode them safely.

Four layouts are understood, each giving a list of `SkinPair` (where an image and
its mask are, which dataset they came from and how the mask encodes skin):

- a plain folder, `images/<stem>.<ext>` beside `masks/<stem>.<ext>`, optionally
  with a `pairs.tsv` whose `stem` column lists every pair (the layout of
  `../shared/data/*` and how a clinic's own set arrives); masks are white = skin;
- HGR (Kawulok et al. 2014) as distributed: `original_images/<stem>.jpg` beside
  `skin_masks/<stem>.bmp`, where **black is skin**;
- LFW Part Labels (Kae et al. 2013): funneled 250x250 images
  `lfw_funneled/<Person_Name>/<Person_Name>_<NNNN>.jpg` and ground truth
  `parts_lfw_funneled_gt_images/<Person_Name>_<NNNN>.ppm` whose colours code
  hair (red), **skin (green)** and background (blue);
- LVS, frames of videos with one mask per frame; the layout assumed here is
  `<video>/frames/<frame>.<ext>` beside `<video>/masks/<frame>.<ext>` (white =
  skin), and a pair's stem is `<video>__<frame>`.

Every problem with the input raises `DataError`, whose message starts with the
offending file: a reader never guesses which mask belongs to an image, and a
decoder never guesses what an ambiguous mask meant.
"""

import csv
import dataclasses
import os
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".tif", ".tiff")
MASK_ENCODINGS = ("white_is_skin", "black_is_skin", "lfw_parts", "lvs")

# A mask pixel is "ambiguous" when it is at least AMBIGUOUS_MARGIN grey levels
# away from both black and white, i.e. in [32, 223]. Lossy compression and
# anti-aliasing leave a thin ambiguous rim along the edges; a greyscale
# probability map or a photograph saved as a mask leaves much more.
AMBIGUOUS_MARGIN = 32
MAX_AMBIGUOUS_FRACTION = 0.01
# LFW Part Labels ground truth: the colour of each class, and how far (Euclidean,
# in RGB units) a pixel may lie from its nearest class colour before it counts
# as ambiguous (the same 1% budget applies).
LFW_PART_COLOURS = {"hair": (255, 0, 0), "skin": (0, 255, 0), "background": (0, 0, 255)}
LFW_MAX_COLOUR_DISTANCE = 96.0

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


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


def _is_candidate(path):
    return path.is_file() and not path.name.startswith(".")


def _files_by_stem(folder):
    """`{stem: path}` of the image files in `folder`; a stem twice is an error."""
    found = {}
    for path in sorted(folder.iterdir()):
        if not _is_candidate(path) or path.suffix.lower() not in IMAGE_EXTENSIONS:
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


def _require_dir(path, what):
    path = Path(path)
    if not path.exists():
        raise DataError(path, f"no such folder ({what})")
    if not path.is_dir():
        raise DataError(path, f"not a folder ({what})")
    return path


def _match(images, masks, source, encoding, image_folder, mask_folder, stem_prefix=""):
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
    root = _require_dir(root, "expected a dataset folder")
    image_folder = _require_dir(root / "images", "a dataset folder needs images/ and masks/")
    mask_folder = _require_dir(root / "masks", "a dataset folder needs images/ and masks/")
    images = _files_by_stem(image_folder)
    masks = _files_by_stem(mask_folder)
    if not images and not masks:
        raise DataError(
            image_folder, f"no images found (looked for {', '.join(IMAGE_EXTENSIONS)})"
        )
    pairs, problems = _match(
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


def _raise_first(pairs, problems):
    if problems:
        raise problems[0]
    return pairs


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
    return _raise_first(*scan_folder(root, source, mask_encoding))


def scan_hgr(root, source=None):
    """Like `read_hgr`, returning `(pairs, problems)` instead of raising."""
    root = _require_dir(root, "expected an HGR folder")
    image_folder = _require_dir(root / "original_images", "HGR needs original_images/ and skin_masks/")
    mask_folder = _require_dir(root / "skin_masks", "HGR needs original_images/ and skin_masks/")
    images, masks = _files_by_stem(image_folder), _files_by_stem(mask_folder)
    if not images:
        raise DataError(image_folder, "no images found")
    return _match(
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
    return _raise_first(*scan_hgr(root, source))


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
    images_root = _require_dir(images_root, "expected the lfw_funneled image folder")
    labels_root = _require_dir(labels_root, "expected the parts_lfw_funneled_gt_images folder")
    labels = sorted(p for p in labels_root.iterdir() if _is_candidate(p) and p.suffix.lower() == ".ppm")
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
    return _raise_first(*scan_lfw_parts(images_root, labels_root, source))


def scan_lvs(root, source=None):
    """Like `read_lvs`, returning `(pairs, problems)` instead of raising."""
    root = _require_dir(root, "expected an LVS folder")
    videos = sorted(p for p in root.iterdir() if p.is_dir() and (p / "frames").is_dir())
    if not videos:
        raise DataError(root, "no <video>/frames/ folders found (LVS layout)")
    pairs, problems = [], []
    for video in videos:
        frames = _files_by_stem(video / "frames")
        masks = _files_by_stem(video / "masks") if (video / "masks").is_dir() else {}
        found, missing = _match(
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
    return _raise_first(*scan_lvs(root, source))


def detect_layout(root):
    """Which reader `root` needs: "folder", "hgr", "lfw_parts" or "lvs".

    Raises:
        DataError: when `root` is missing or matches none of the layouts.
    """
    root = _require_dir(root, "expected a dataset folder")
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
        root: a folder in one of the layouts of this module's docstring. LFW Part
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
    return _raise_first(*scan_dataset(root, source))


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


def _open_oriented(path, what):
    """Decode a file fully with Pillow and apply its EXIF orientation."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"no such {what} file")
    try:
        with Image.open(path) as opened:
            _check_pixel_count(opened, path, what)
            opened.load()
            image = ImageOps.exif_transpose(opened)
            image.load()
    except DataError:
        raise
    except Image.DecompressionBombError as error:
        # Pillow refuses over twice the limit already when it reads the header.
        claimed = re.search(r"\((\d+) pixels\)", str(error))
        raise DataError(path, _too_many_pixels(what, claimed and int(claimed.group(1)))) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow reports truncated files as OSError and unknown formats as
        # UnidentifiedImageError (an OSError); either way the file is unusable.
        problem = str(error) or type(error).__name__
        raise DataError(path, f"unreadable or truncated {what} ({problem})") from None
    return image


def _too_many_pixels(what, pixels):
    claimed = f"its header claims {pixels:,} pixels" if pixels else "it has too many pixels"
    return (
        f"{what} is too large to decode: {claimed}, more than the limit of "
        f"{Image.MAX_IMAGE_PIXELS:,} (PIL.Image.MAX_IMAGE_PIXELS)"
    )


def _check_pixel_count(opened, path, what):
    """Refuse, before decoding, an image whose header claims over `Image.MAX_IMAGE_PIXELS`.

    Pillow itself only warns up to twice that, then decodes (hundreds of MB).
    """
    limit = Image.MAX_IMAGE_PIXELS
    pixels = opened.width * opened.height
    if limit is not None and pixels > limit:
        raise DataError(path, _too_many_pixels(what, pixels))


def _sixteen_bit_to_uint8(image, path):
    values = np.asarray(image)
    if values.min() < 0 or values.max() > 65535:
        raise DataError(
            path, f"integer values {values.min()}..{values.max()} do not fit 16 bits (mode {image.mode})"
        )
    # Scale the 16-bit range onto 8 bits (65535 -> 255) with rounding, never clip.
    return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _to_uint8_array(image, path):
    """`(H, W)` or `(H, W, 3)` uint8 from any Pillow mode we accept."""
    if image.mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_to_uint8(image, path)
    if image.mode == "F":
        raise DataError(path, "floating-point images are not supported; save as 8 or 16 bits")
    if image.mode in ("1", "L"):
        return np.asarray(image.convert("L"))
    if image.mode == "P":
        image = image.convert("RGBA") if "transparency" in image.info else image.convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # The colour under the alpha channel is kept: a skin photograph with an
        # alpha channel is still the same photograph.
        image = image.convert("RGB") if image.mode != "LA" else image.convert("L")
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return np.asarray(image)


def load_image(path):
    """Decode a photograph as `uint8 (H, W, 3)` RGB, upright.

    EXIF orientation is applied (a phone's portrait JPEG comes out portrait);
    grayscale is replicated to three channels, the alpha of RGBA/LA is dropped,
    palette images are expanded, and 16-bit images are scaled to 8 bits
    (`round(v * 255 / 65535)`), not clipped.

    Args:
        path: an image file in any format Pillow reads.

    Returns:
        A `uint8` array of shape `(height, width, 3)`.

    Raises:
        DataError: naming the file when it is missing, unreadable or truncated.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> _, target = sample_datasets()
    >>> image = load_image(sorted((target / "images").iterdir())[0])
    >>> image.dtype, image.shape[-1]
    (dtype('uint8'), 3)
    """
    values = _to_uint8_array(_open_oriented(path, "image"), path)
    if values.ndim == 2:
        values = np.repeat(values[..., None], 3, axis=-1)
    return np.ascontiguousarray(values)


def _binary_from_grey(grey, path, skin_is_white):
    grey = np.asarray(grey)
    if grey.max() <= 1:  # already a {0, 1} mask
        skin = grey == 1
    else:
        ambiguous = (grey >= AMBIGUOUS_MARGIN) & (grey <= 255 - AMBIGUOUS_MARGIN)
        fraction = float(ambiguous.mean())
        if fraction > MAX_AMBIGUOUS_FRACTION:
            values = np.unique(grey)
            shown = ", ".join(str(v) for v in values[:8]) + (", ..." if len(values) > 8 else "")
            raise DataError(
                path,
                f"mask is not binary: {fraction:.1%} of its pixels lie between "
                f"{AMBIGUOUS_MARGIN} and {255 - AMBIGUOUS_MARGIN} (at most "
                f"{MAX_AMBIGUOUS_FRACTION:.0%} allowed; values {shown})",
            )
        skin = grey > 127
    if not skin_is_white:
        skin = ~skin
    return skin.astype(np.uint8)


def _lfw_skin(rgb, path):
    if rgb.ndim != 3:
        raise DataError(path, "LFW Part Labels ground truth must be RGB colour codes, got a grey image")
    colours = np.array(list(LFW_PART_COLOURS.values()), dtype=np.float32)
    distances = np.linalg.norm(rgb[..., None, :].astype(np.float32) - colours, axis=-1)
    nearest = distances.argmin(axis=-1)
    far = distances.min(axis=-1) > LFW_MAX_COLOUR_DISTANCE
    if far.mean() > MAX_AMBIGUOUS_FRACTION:
        example = tuple(int(v) for v in rgb[far][0])
        raise DataError(
            path,
            f"{far.mean():.1%} of the ground-truth pixels are far from the hair/skin/"
            f"background colours red/green/blue (e.g. RGB {example}); at most "
            f"{MAX_AMBIGUOUS_FRACTION:.0%} allowed",
        )
    return (nearest == list(LFW_PART_COLOURS).index("skin")).astype(np.uint8)


def decode_mask(path, mask_encoding="white_is_skin"):
    """Decode a mask file as `uint8 (H, W)` in {0, 1}, 1 = skin.

    Grey masks (8 or 16 bits, palette, RGB with equal channels, 1-bit) are
    read as grey levels. A mask whose values are all 0 or 1 is taken as is;
    otherwise at most 1% of its pixels may lie between 32 and 223 (lossy
    compression leaves a few along the edges), and it is thresholded at 127.
    LFW Part Labels ground truth is classified pixel by pixel to the nearest of
    red (hair), green (skin) and blue (background); at most 1% of its pixels
    may be farther than 96 RGB units from all three.

    Args:
        path: the mask file.
        mask_encoding: one of `MASK_ENCODINGS`; `"black_is_skin"` inverts.

    Returns:
        A `uint8` array of shape `(height, width)` with values in {0, 1}.

    Raises:
        DataError: naming the file when it is unreadable or not two-valued.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> _, target = sample_datasets()
    >>> mask = decode_mask(sorted((target / "masks").iterdir())[0])
    >>> sorted(set(mask.ravel().tolist())) in ([0, 1], [0], [1])
    True
    """
    if mask_encoding not in MASK_ENCODINGS:
        raise ValueError(
            f"`mask_encoding` must be one of {MASK_ENCODINGS}. Received: mask_encoding={mask_encoding!r}"
        )
    values = _to_uint8_array(_open_oriented(path, "mask"), path)
    if mask_encoding == "lfw_parts":
        return _lfw_skin(values, path)
    if values.ndim == 3:
        channel_spread = np.ptp(values.astype(np.int16), axis=-1)
        if (channel_spread > AMBIGUOUS_MARGIN).mean() > MAX_AMBIGUOUS_FRACTION:
            raise DataError(path, "mask is in colour; expected a grey or black-and-white mask")
        values = values.mean(axis=-1).round().astype(np.uint8)
    return _binary_from_grey(values, path, skin_is_white=mask_encoding != "black_is_skin")


def load_mask(pair):
    """The mask of `pair` as `uint8 (H, W)` in {0, 1}, decoded per `pair.mask_encoding`.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> _, target = sample_datasets()
    >>> load_mask(read_folder(target)[0]).dtype
    dtype('uint8')
    """
    return decode_mask(pair.mask, pair.mask_encoding)


def load_pair(pair):
    """`(image uint8 (H, W, 3), mask uint8 (H, W) in {0, 1})` of a pair, sizes checked.

    Raises:
        DataError: naming the mask when its size differs from its image's.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> _, target = sample_datasets()
    >>> image, mask = load_pair(read_folder(target)[0])
    >>> image.shape[:2] == mask.shape
    True
    """
    image = load_image(pair.image)
    mask = load_mask(pair)
    if image.shape[:2] != mask.shape:
        raise DataError(
            pair.mask,
            f"mask is {mask.shape[1]}x{mask.shape[0]} (WxH) but its image {pair.image} "
            f"is {image.shape[1]}x{image.shape[0]}",
        )
    return image, mask
