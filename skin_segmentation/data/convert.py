"""Turn a source image and label into our pair: `images/<stem>.<ext>`, `masks/<stem>.png`.

Masks are single-channel 8-bit PNG, 0 = non-skin, 255 = skin, the size of their
image. Each dataset's label becomes a mask by one rule of `MASK_RULES` (as in
`../shared/data/SOURCES.md`):

| rule | datasets | skin is |
|---|---|---|
| `grey_above_127` | sfa, abdomen | grey value > 127 (the masks carry compression noise) |
| `black_is_skin` | hgr_subset | grey value <= 127 (HGR's 1-bit BMP: black = skin) |
| `fasseg_skin_and_nose` | fasseg | nearest `FASSEG_PALETTE` colour is skin or nose |
| `nonskin_inverted` | clinical_ft13 | DermSynth3D `nonskin.png` grey <= 127 (white = non-skin; lesions are skin) |
| `all_zero` | negatives_indoor | nowhere (no label: every mask is 0) |
| `first_channel_above_127` | ecu | the label PNG's first channel > 127 |
| `ccp_label_41` | ccp | `groundtruth == 41` in the `.mat` label (scipy.io.loadmat) |

Images: a JPEG source is copied byte for byte to `<stem>.jpg`; any other is
decoded, converted to RGB and saved as PNG (Pillow's defaults, which keep an ICC
profile). `downsize(max_side)` re-encodes as ECU and CCP are kept in
`../shared/data`: longest side <= max_side (Pillow bicubic; never enlarged),
JPEG quality 85; masks by nearest neighbour.
"""

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from skin_segmentation.data.readers import DataError

SKIN, NON_SKIN = 255, 0
GREY_THRESHOLD = 127
JPEG_SUFFIXES = (".jpg", ".jpeg")
DOWNSIZED_JPEG_QUALITY = 85
CCP_SKIN_LABEL = 41
FASSEG_PALETTE = {
    "skin": (255, 255, 0),
    "background": (255, 0, 0),
    "hair": (127, 0, 0),
    "eyes": (0, 0, 255),
    "nose": (0, 255, 255),
    "mouth": (0, 255, 0),
}
FASSEG_SKIN_CLASSES = ("skin", "nose")
FASSEG_CLASSES_TEXT = (
    "labels_orig/*.png are class-index maps (nearest-palette quantisation of the FASSEG colour labels):\n"
    + "".join(f"{index} = {name} {colour}\n" for index, (name, colour) in enumerate(FASSEG_PALETTE.items()))
    + "masks/ = 255 where class in {skin, nose}, else 0.\n"
)


def _binary(skin):
    return np.where(skin, SKIN, NON_SKIN).astype(np.uint8)


def _grey(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def fasseg_classes(path):
    """Class indices (`FASSEG_PALETTE` order) of a FASSEG colour label, by nearest colour.

    Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "l.bmp"
    >>> Image.fromarray(np.array([[[250, 250, 10], [0, 200, 255]]], np.uint8)).save(path)
    >>> fasseg_classes(path).tolist()
    [[0, 4]]
    """
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB")).astype(np.float32)
    palette = np.array(list(FASSEG_PALETTE.values()), np.float32)
    distances = ((rgb[..., None, :] - palette) ** 2).sum(axis=-1)
    return distances.argmin(axis=-1).astype(np.uint8)


def _fasseg_mask(path, image_size):
    skin_indices = [list(FASSEG_PALETTE).index(name) for name in FASSEG_SKIN_CLASSES]
    return _binary(np.isin(fasseg_classes(path), skin_indices))


def _ccp_mask(path, image_size):
    import scipy.io

    try:
        groundtruth = scipy.io.loadmat(path)["groundtruth"]
    except (KeyError, ValueError, OSError) as error:
        raise DataError(path, f"no readable `groundtruth` array ({error})") from None
    return _binary(groundtruth == CCP_SKIN_LABEL)


def _first_channel_mask(path, image_size):
    with Image.open(path) as image:
        pixels = np.asarray(image)
    first = pixels[..., 0] if pixels.ndim == 3 else pixels
    return _binary(first > GREY_THRESHOLD)


MASK_RULES = {
    "grey_above_127": lambda path, size: _binary(_grey(path) > GREY_THRESHOLD),
    "black_is_skin": lambda path, size: _binary(_grey(path) <= GREY_THRESHOLD),
    "fasseg_skin_and_nose": _fasseg_mask,
    "nonskin_inverted": lambda path, size: _binary(_grey(path) <= GREY_THRESHOLD),
    "all_zero": lambda path, size: np.zeros((size[1], size[0]), np.uint8),
    "first_channel_above_127": _first_channel_mask,
    "ccp_label_41": _ccp_mask,
}


def downsized_size(width, height, max_side):
    """(width, height) with the longest side at most `max_side`, rounded; never enlarged.

    Example:
    >>> downsized_size(394, 600, 320), downsized_size(200, 150, 320)
    ((210, 320), (200, 150))
    """
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def convert_pair(image_source, mask_source, mask_rule, image_target, mask_target, max_side=None):
    """Write one pair: the image by the image rule, the mask by `MASK_RULES[mask_rule]`.

    Args:
        image_source: the source photograph.
        mask_source: the source label (`None` for `all_zero`).
        mask_rule: a key of `MASK_RULES`.
        image_target: where the image goes; a `.jpg` target of a JPEG source is a
            byte-for-byte copy, a `.png` target is re-encoded RGB.
        mask_target: where the mask goes (PNG, mode L, 0/255).
        max_side: downsize both to this longest side (JPEG quality 85, nearest mask).

    Returns:
        The mask as written, `uint8 (H, W)` in {0, 255}.

    Raises:
        DataError: naming the label when its size differs from its image's, or
            the file that cannot be read.

    Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (8, 6)).save(folder / "a.bmp")
    >>> mask = convert_pair(folder / "a.bmp", None, "all_zero", folder / "a.png", folder / "m.png")
    >>> mask.shape, int(mask.max()), Image.open(folder / "a.png").mode
    ((6, 8), 0, 'RGB')
    """
    image_source, image_target = Path(image_source), Path(image_target)
    try:
        with Image.open(image_source) as image:
            size = image.size
            mask = MASK_RULES[mask_rule](mask_source, size)
            if mask.shape != (size[1], size[0]):
                raise DataError(mask_source, f"label is {mask.shape[1]}x{mask.shape[0]} but its "
                                             f"image {image_source.name} is {size[0]}x{size[1]}")
            if max_side is not None:
                target_size = downsized_size(*size, max_side)
                image.convert("RGB").resize(target_size, Image.BICUBIC).save(
                    image_target, "JPEG", quality=DOWNSIZED_JPEG_QUALITY)
                mask = np.asarray(Image.fromarray(mask).resize(target_size, Image.NEAREST))
            elif image_source.suffix.lower() in JPEG_SUFFIXES and image_target.suffix == ".jpg":
                shutil.copyfile(image_source, image_target)
            else:
                image.convert("RGB").save(image_target, "PNG")
    except (OSError, SyntaxError) as error:
        raise DataError(image_source, f"unreadable source file ({error})") from None
    Image.fromarray(mask, "L").save(mask_target, "PNG")
    return mask


def downsize_mask(mask, max_side):
    """A full-size mask brought to `downsized_size` by nearest neighbour, as `--downsize` does.

    Example:
    >>> downsize_mask(np.full((600, 394), 255, np.uint8), 320).shape
    (320, 210)
    """
    height, width = mask.shape
    return np.asarray(Image.fromarray(mask).resize(downsized_size(width, height, max_side), Image.NEAREST))
