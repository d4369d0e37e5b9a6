"""Post-processing of a predicted skin mask: small non-skin islands inside skin become skin.

On clinical close-ups the network leaves small non-skin regions inside skin (a
lesion, a mole, a shadow it misses); diseased skin is skin, and on a close-up
that is all skin one such island halves the image's two-class mIoU.
`fill_small_holes` turns every non-skin region smaller than a share of the
photograph into skin, and a region that skin encloses (one touching no edge of
the photograph) up to a larger share. `skinseg predict`, `evaluate` and
`finetune` apply it with `DEFAULT_FILL_HOLES` and `DEFAULT_FILL_ENCLOSED` unless
told otherwise; the library's default is off, and Table I (`replicate`) never
post-processes, as the paper does not.

NumPy and SciPy are imported when a mask is filled, so that the command
line's parser reads the defaults without loading either.
"""

# Both measured on networks that never saw clinical_ft13, at native resolution:
# experiments/robust_recipe.md ("Post-processing"). A region at the photograph's edge may
# be real background (a sheet, a wall); one that skin encloses is most often a lesion.
DEFAULT_FILL_HOLES = 0.005
DEFAULT_FILL_ENCLOSED = 0.01


def check_fill_fraction(max_fraction, name="fill_holes"):
    """`max_fraction` as a float, or a ValueError showing it (as `name`) when it is not in [0, 1).

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
            f"[0, 1). Received: {name}={max_fraction!r}"
        )
    return fraction


def check_fill_shares(fill_holes, fill_enclosed):
    """`{"fill_holes": ..., "fill_enclosed": ...}`, each share checked by `check_fill_fraction`.

    The keyword arguments of every function that post-processes the way
    `skinseg predict` does, and the fields its records write.

    Example:
    >>> check_fill_shares(0.005, 0.01)
    {'fill_holes': 0.005, 'fill_enclosed': 0.01}
    """
    return {"fill_holes": check_fill_fraction(fill_holes),
            "fill_enclosed": check_fill_fraction(fill_enclosed, "fill_enclosed")}


def _edge_labels(labels):
    """The labels found on the four edges of a label image."""
    import numpy as np

    return np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))


def _small_holes(mask, smallest_kept, smallest_enclosed_kept):
    """A bool map of the non-skin pixels in 4-connected regions of fewer than `smallest_kept`
    pixels, or of fewer than `smallest_enclosed_kept` for a region touching no edge."""
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
    sizes = ndimage.histogram(labels, 0, count, count + 1)
    small = sizes < smallest_kept
    if smallest_enclosed_kept > smallest_kept:
        enclosed = np.ones(count + 1, bool)
        enclosed[_edge_labels(labels)] = False
        small |= enclosed & (sizes < smallest_enclosed_kept)
    small[0] = False  # label 0 is the skin
    return small[labels]


def fill_small_holes(mask, max_fraction, in_place=False, enclosed_fraction=0.0):
    """Turn every non-skin region smaller than `max_fraction` of the mask into skin.

    A region is a 4-connected set of non-skin pixels (`scipy.ndimage.label`,
    as scikit-image's `remove_small_holes` counts them); one that touches the
    mask's border is filled too when it is small enough (a sliver of
    background at the edge of a close-up). A region that touches no border,
    enclosed by skin, is filled up to the larger `enclosed_fraction` when that
    is given. Skin regions, however small, are left as they are.

    Args:
        mask: a 2-D mask, skin where nonzero: bool, or uint8 of 0 and 1 or of
            0 and 255 (`masks.resized_mask`).
        max_fraction: a region of fewer than `int(max_fraction * mask.size)`
            pixels is filled; in [0, 1). `0` turns the fill off, for enclosed
            regions too.
        in_place: fill `mask` itself (an array of the caller's it no longer
            needs unfilled) instead of a copy: one mask less in memory on a
            large photograph.
        enclosed_fraction: a region touching no border is filled when it has
            fewer than `int(enclosed_fraction * mask.size)` pixels (or fewer
            than `max_fraction`'s, whichever is more); in [0, 1).
            `0`: as any other region.

    Returns:
        A mask of `mask`'s dtype, the filled pixels set to `mask`'s skin value
        (its maximum). `mask` itself when nothing can be filled
        (`max_fraction == 0`, or both shares cover fewer than 2 pixels) or
        with `in_place`.

    Raises:
        ValueError: a share is not in [0, 1), or `mask` is not 2-D.

    Example:
    >>> import numpy as np
    >>> mask = np.full((4, 5), 255, "uint8")
    >>> mask[1, 1] = 0  # a hole of 1 pixel
    >>> mask[3, 3:] = 0  # 2 pixels on the border
    >>> fill_small_holes(mask, 0.1).tolist()  # fewer than 2 pixels
    [[255, 255, 255, 255, 255], [255, 255, 255, 255, 255], [255, 255, 255, 255, 255], [255, 255, 255, 0, 0]]
    >>> int(fill_small_holes(mask, 0.15).min())  # fewer than 3 pixels: both
    255
    >>> fill_small_holes(mask, 0.05, enclosed_fraction=0.1)[1:].tolist()  # the hole alone
    [[255, 255, 255, 255, 255], [255, 255, 255, 255, 255], [255, 255, 255, 0, 0]]
    """
    import numpy as np

    max_fraction = check_fill_fraction(max_fraction)
    enclosed_fraction = check_fill_fraction(enclosed_fraction, "fill_enclosed")
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"A mask to fill is 2-D (height, width). Received: shape={mask.shape}")
    if not max_fraction:
        return mask
    smallest_kept = int(max_fraction * mask.size)
    smallest_enclosed_kept = max(smallest_kept, int(enclosed_fraction * mask.size))
    if smallest_enclosed_kept < 2:
        return mask
    holes = _small_holes(mask, smallest_kept, smallest_enclosed_kept)
    if not holes.any():
        return mask
    filled = mask if in_place else mask.copy()
    filled[holes] = True if mask.dtype == bool else mask.max()
    return filled
