"""Full-resolution confidence, masks and overlays, computed in bands of rows.

A network sees a photograph at 128 x 128; its confidence map goes back to the
photograph's own size by a bilinear resize with half-pixel centres and no
antialiasing, TensorFlow's `ResizeBilinear` (`half_pixel_centers=True`), the
resize of the exported SavedModel. `resize_confidence` computes that same
arithmetic in float32 with NumPy (bit for bit; `tests/test_large_photos.py`
compares it with `keras.ops.image.resize`), a band of `BAND_ROWS` rows at a
time, so that `resized_mask` can threshold an 8000 x 8000 map without ever
holding it in float32 (256 MB). `overlay_mask` blends in bands too: the
float32 copy of a whole photograph (768 MB at 8000 x 8000) is never made.
"""

import numpy as np

from skin_segmentation import metrics

BAND_ROWS = 512
OVERLAY_COLOR = (0, 255, 0)
OVERLAY_ALPHA = 0.4


def _bilinear_weights(in_size, out_size):
    """Source indices and weights of each output index (TensorFlow's half-pixel scaler, float32)."""
    scale = np.float32(in_size) / np.float32(out_size)
    centres = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(centres)
    lower = np.maximum(floor, 0).astype(np.intp)
    upper = np.minimum(np.ceil(centres), in_size - 1).astype(np.intp)
    return lower, upper, (centres - floor).astype(np.float32)


def _resized_bands(confidence, height, width):
    """`(rows, band)`: the bilinear resize of `confidence` to `(height, width)`, band by band."""
    band_rows = BAND_ROWS
    confidence = np.asarray(confidence, np.float32)
    if confidence.ndim == 3 and confidence.shape[-1] == 1:
        confidence = confidence[..., 0]
    if confidence.ndim != 2 or 0 in confidence.shape:
        raise ValueError(
            f"A confidence map is (h, w) or (h, w, 1). Received: shape={confidence.shape}")
    if confidence.shape == (height, width):
        for start in range(0, height, band_rows):
            yield slice(start, start + band_rows), confidence[start : start + band_rows]
        return
    top, bottom, row_weight = _bilinear_weights(confidence.shape[0], height)
    left, right, column_weight = _bilinear_weights(confidence.shape[1], width)
    # Along each source row first, then between rows: the order of TensorFlow's kernel.
    across = confidence[:, left] + (confidence[:, right] - confidence[:, left]) * column_weight
    for start in range(0, height, band_rows):
        rows = slice(start, min(start + band_rows, height))
        upper, lower = across[top[rows]], across[bottom[rows]]
        yield rows, upper + (lower - upper) * row_weight[rows, None]


def resize_confidence(confidence, height, width):
    """Resize one confidence map `(h, w)` or `(h, w, 1)` bilinearly to `(height, width)`.

    The same resize as the exported SavedModel's (bilinear, half-pixel centres,
    no antialiasing), so both give the same confidence at every pixel.

    Returns:
        float32 `(height, width)`.

    Example:
    >>> resize_confidence(np.array([[0.0, 1.0]]), 1, 4).round(2).tolist()
    [[0.0, 0.25, 0.75, 1.0]]
    """
    resized = np.empty((int(height), int(width)), np.float32)
    for rows, band in _resized_bands(confidence, int(height), int(width)):
        resized[rows] = band
    return resized


def confidence_to_mask(confidence, threshold=metrics.THRESHOLD):
    """A uint8 mask of 0 (background) and 255 (skin): `confidence >= threshold`.

    Example:
    >>> confidence_to_mask(np.array([[0.2, 0.5, 0.9]])).tolist()
    [[0, 255, 255]]
    """
    mask = np.greater_equal(confidence, threshold).astype(np.uint8)
    mask *= 255
    return mask


def resized_mask(confidence, height, width, threshold=metrics.THRESHOLD):
    """`confidence_to_mask(resize_confidence(confidence, height, width))`, in bounded memory.

    Example:
    >>> resized_mask(np.array([[0.0, 1.0]]), 1, 4).tolist()
    [[0, 0, 255, 255]]
    """
    mask = np.empty((int(height), int(width)), np.uint8)
    for rows, band in _resized_bands(confidence, int(height), int(width)):
        mask[rows] = confidence_to_mask(band, threshold)
    return mask


def _check_photo(image):
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3 or 0 in image.shape:
        raise ValueError(
            f"Images must be uint8 arrays of shape (height, width, 3), as "
            f"`data.readers.load_image` returns. Received: dtype={image.dtype}, shape={image.shape}"
        )
    return image


def overlay_mask(image, mask, color=OVERLAY_COLOR, alpha=OVERLAY_ALPHA, outline=True):
    """The photograph with its skin tinted and, optionally, outlined.

    Args:
        image: uint8 `(H, W, 3)`.
        mask: `(H, W)`, skin where nonzero.
        color: RGB of the tint and the outline.
        alpha: opacity of the tint, in [0, 1].
        outline: draw the skin's boundary pixels in `color` (skin pixels with a
            background pixel above, below, left or right).

    Returns:
        uint8 `(H, W, 3)`.

    Example:
    >>> image = np.full((2, 2, 3), 100, "uint8")
    >>> overlay_mask(image, np.array([[1, 0], [0, 0]]), alpha=0.5, outline=False)[..., 1].tolist()
    [[178, 100], [100, 100]]
    """
    from skimage.segmentation import find_boundaries

    image = _check_photo(image)
    mask = np.asarray(mask)
    if mask.shape != image.shape[:2]:
        raise ValueError(
            f"The mask must have the image's height and width {image.shape[:2]}. "
            f"Received: mask.shape={mask.shape}"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha}")
    color = np.asarray(color, "float32")
    height = image.shape[0]
    overlay = np.empty_like(image)
    for start in range(0, height, BAND_ROWS):
        stop = min(start + BAND_ROWS, height)
        skin = mask[start:stop] > 0
        blended = image[start:stop].astype("float32")
        blended[skin] = (1.0 - alpha) * blended[skin] + alpha * color
        if outline:
            # One row of the neighbours above and below, so a band's edge is no boundary.
            above, below = max(start - 1, 0), min(stop + 1, height)
            edges = find_boundaries(mask[above:below] > 0, mode="inner")
            blended[edges[start - above : start - above + stop - start]] = color
        overlay[start:stop] = np.clip(np.round(blended), 0, 255)
    return overlay
