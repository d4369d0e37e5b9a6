"""Images: decode photographs to uint8 RGB and masks to {0, 1}, safely.

Photographs are EXIF-rotated and converted to RGB (grayscale, RGBA, palette and
16-bit alike); masks are decoded by their `mask_encoding` and refused when too
many pixels are ambiguous, so a decoder never guesses what a mask meant.
"""

import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from skin_segmentation.data.readers.pairs import MASK_ENCODINGS, DataError

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


def _open_oriented(path, what):
    """Decode a file fully with Pillow and apply its EXIF orientation (in place: no copy)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"no such {what} file")
    try:
        with warnings.catch_warnings():
            # Pillow warns above its limit; `_check_pixel_count` refuses there, in one line.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path)
        with opened:
            _check_pixel_count(opened, path, what)
            opened.load()
            ImageOps.exif_transpose(opened, in_place=True)
            image = opened
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
    >>> from skin_segmentation.data import read_folder, sample_datasets
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
    >>> from skin_segmentation.data import read_folder, sample_datasets
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
