"""Post-processing of a predicted skin mask: small non-skin islands inside skin become skin.

On clinical close-ups the network leaves small non-skin regions inside skin (a
lesion, a mole, a shadow it misses); diseased skin is skin, and on a close-up
that is all skin one such island halves the image's two-class mIoU.
`fill_small_holes` turns every non-skin region smaller than a share of the
photograph into skin. `skinseg predict`, `evaluate` and `finetune` apply it
with `DEFAULT_FILL_HOLES` unless told otherwise; the library's default is off,
and Table I (`replicate`) never post-processes, as the paper does not.

NumPy and SciPy are imported when a mask is filled, so that the command
line's parser reads `DEFAULT_FILL_HOLES` without loading either.
"""

# Measured on the stage-1 network at native resolution: experiments/robust_recipe.md
# ("Post-processing").
DEFAULT_FILL_HOLES = 0.005


def check_fill_fraction(max_fraction):
    """`max_fraction` as a float, or a ValueError showing it when it is not in [0, 1).

    Example:
    >>> check_fill_fraction(0.005)
    0.005
    """
    try:
        fraction = float(max_fraction)
    except (TypeError, ValueError):
        fraction = float("nan")
    if not 0.0 <= fraction < 1.0:
        raise ValueError(
            f"The share of the photograph below which a non-skin region is filled must be in "
            f"[0, 1). Received: fill_holes={max_fraction!r}"
        )
    return fraction


def _small_holes(mask, smallest_kept):
    """A bool map of the non-skin pixels in 4-connected regions of fewer than `smallest_kept` pixels."""
    import numpy as np
    from scipy import ndimage

    # The labels are the peak of memory on a large photograph: 2 bytes a pixel while a
    # mask has fewer than 65536 non-skin regions (a network's upsampled map has a few),
    # else 4 (experiments/large_photos.md).
    non_skin = mask == 0
    try:
        labels, count = ndimage.label(non_skin, output=np.uint16)
    except RuntimeError:  # "insufficient bit-depth": too many regions for uint16
        labels, count = ndimage.label(non_skin, output=np.int32)
    del non_skin
    # Region sizes without `np.bincount`, which would copy the labels to int64.
    small = ndimage.histogram(labels, 0, count, count + 1) < smallest_kept
    small[0] = False  # label 0 is the skin
    return small[labels]


def fill_small_holes(mask, max_fraction, in_place=False):
    """Turn every non-skin region smaller than `max_fraction` of the mask into skin.

    A region is a 4-connected set of non-skin pixels (`scipy.ndimage.label`,
    as scikit-image's `remove_small_holes` counts them); one that touches the
    mask's border is filled too when it is small enough (a sliver of
    background at the edge of a close-up). Skin regions, however small, are
    left as they are.

    Args:
        mask: a 2-D mask, skin where nonzero: bool, or uint8 of 0 and 1 or of
            0 and 255 (`masks.resized_mask`).
        max_fraction: a region of fewer than `int(max_fraction * mask.size)`
            pixels is filled; in [0, 1). `0` turns the fill off.
        in_place: fill `mask` itself (an array of the caller's it no longer
            needs unfilled) instead of a copy: one mask less in memory on a
            large photograph.

    Returns:
        A mask of `mask`'s dtype, the filled pixels set to `mask`'s skin value
        (its maximum). `mask` itself when nothing can be filled
        (`int(max_fraction * mask.size) < 2`, e.g. `max_fraction == 0`) or
        with `in_place`.

    Raises:
        ValueError: `max_fraction` is not in [0, 1), or `mask` is not 2-D.

    Example:
    >>> import numpy as np
    >>> mask = np.full((4, 5), 255, "uint8")
    >>> mask[1, 1] = 0  # a hole of 1 pixel
    >>> mask[3, 3:] = 0  # 2 pixels on the border
    >>> fill_small_holes(mask, 0.1).tolist()  # fewer than 2 pixels
    [[255, 255, 255, 255, 255], [255, 255, 255, 255, 255], [255, 255, 255, 255, 255], [255, 255, 255, 0, 0]]
    >>> int(fill_small_holes(mask, 0.15).min())  # fewer than 3 pixels: both
    255
    """
    import numpy as np

    max_fraction = check_fill_fraction(max_fraction)
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"A mask to fill is 2-D (height, width). Received: shape={mask.shape}")
    smallest_kept = int(max_fraction * mask.size)
    if smallest_kept < 2:
        return mask
    holes = _small_holes(mask, smallest_kept)
    if not holes.any():
        return mask
    filled = mask if in_place else mask.copy()
    filled[holes] = True if mask.dtype == bool else mask.max()
    return filled
