"""Pillow's bilinear resize of 8-bit images, bit for bit, in TensorFlow ops.

Training resizes each photograph with Pillow (`data.arrays.resize_image`:
`PIL.Image.resize` with `Image.BILINEAR`, antialiased when shrinking). A serving
graph must resize as training did, without Pillow: `pillow_bilinear_resize`
transcribes Pillow's fixed-point resampling into TensorFlow ops, one pass along
each axis, rounding to 8 bits in between, in the order the installed Pillow
runs its passes (`pillow_pass_order`; Pillow 13 changed it), so the result is
equal, not merely close, to Pillow's. `export` puts it in the SavedModel.
"""

import numpy as np

# Pillow's 8-bit resampling: coefficients in fixed point with 22 fractional bits.
_PILLOW_PRECISION_BITS = 22
# The orders in which Pillow's versions run the two resampling passes; the
# installed Pillow's is found once (`pillow_pass_order`) and kept here.
PASS_ORDERS = ("horizontal_first", "vertical_first_when_taller_reduction")
_PASS_ORDER = []


def _pillow_bilinear_matrix(in_size, out_size):
    """The `(out_size, in_size)` integer weights of Pillow's bilinear resize of one axis.

    A transcription of Pillow's `precompute_coeffs` and `normalize_coeffs_8bpc`
    (libImaging/Resample.c) in float64 TensorFlow ops, in the same order of
    operations, so the weights are bit for bit Pillow's: a triangle filter whose
    support widens with the reduction (antialiasing), each output's weights
    normalized to sum to one, then scaled by 2**22 and rounded.
    """
    import tensorflow as tf

    in_size = tf.cast(in_size, tf.int32)
    scale = tf.cast(in_size, tf.float64) / float(out_size)
    filterscale = tf.maximum(scale, 1.0)
    support = filterscale  # the bilinear (triangle) filter's support is 1
    center = (tf.range(out_size, dtype=tf.float64) + 0.5) * scale
    # C's (int) cast truncates toward zero, as tf.cast does.
    xmin = tf.maximum(tf.cast(center - support + 0.5, tf.int32), 0)
    xmax = tf.minimum(tf.cast(center + support + 0.5, tf.int32), in_size) - xmin
    ksize = tf.cast(tf.math.ceil(support), tf.int32) * 2 + 1
    taps = tf.range(ksize)[None, :]
    valid = taps < xmax[:, None]
    index = xmin[:, None] + taps
    distance = tf.abs((tf.cast(index, tf.float64) - center[:, None] + 0.5) * (1.0 / filterscale))
    weights = tf.where(valid & (distance < 1.0), 1.0 - distance, 0.0)
    # Pillow sums an output's weights tap after tap; keep that order (float64).
    total = tf.foldl(lambda acc, column: acc + column, tf.transpose(weights),
                     initializer=tf.zeros([out_size], tf.float64))
    weights = tf.where(total[:, None] != 0.0, weights / total[:, None], weights)
    fixed = tf.floor(0.5 + weights * float(1 << _PILLOW_PRECISION_BITS))
    rows = tf.broadcast_to(tf.range(out_size)[:, None], tf.shape(index))
    positions = tf.stack([rows, tf.minimum(index, in_size - 1)], axis=-1)
    return tf.scatter_nd(
        tf.reshape(positions, [-1, 2]), tf.reshape(tf.where(valid, fixed, 0.0), [-1]),
        tf.stack([out_size, in_size]),
    )


def _pillow_pass(values, matrix, equation):
    import tensorflow as tf

    half = float(1 << (_PILLOW_PRECISION_BITS - 1))
    # Integers below 2**31 throughout, so float64 sums are exact in any order.
    summed = tf.einsum(equation, values, matrix) + half
    return tf.clip_by_value(tf.floor(summed / float(1 << _PILLOW_PRECISION_BITS)), 0.0, 255.0)


def _resize_passes(values, height, width, vertical_first):
    import tensorflow as tf

    shape = tf.shape(values)

    def across(v):
        return _pillow_pass(v, _pillow_bilinear_matrix(shape[2], int(width)), "nhwc,ow->nhoc")

    def down(v):
        return _pillow_pass(v, _pillow_bilinear_matrix(shape[1], int(height)), "nhwc,oh->nowc")

    if vertical_first is False:
        return down(across(values))
    return tf.cond(vertical_first, lambda: across(down(values)), lambda: down(across(values)))


def pillow_bilinear_resize(images, height, width, pass_order=None):
    """Resize uint8 `[N, H, W, C]` to `[N, height, width, C]` exactly as Pillow does.

    The graph form of `data.arrays.resize_image` (`PIL.Image.resize` with
    `Image.BILINEAR` on 8-bit RGB): one pass along each axis with Pillow's
    fixed-point weights, rounding to 8 bits in between, in Pillow's order, so
    the result is equal, not merely close, to what training saw.

    Args:
        images: uint8 (or integer-valued) `[N, H, W, C]`.
        height: output height.
        width: output width.
        pass_order: `"horizontal_first"` (Pillow before 13), or
            `"vertical_first_when_taller_reduction"` (Pillow 13: the vertical
            pass first when the height shrinks and by more than twice what the
            width shrinks); `None` uses the installed Pillow's
            (`pillow_pass_order()`).

    Returns:
        float32 `[N, height, width, C]` holding integers in [0, 255].

    Example:
    >>> import tensorflow as tf
    >>> from skin_segmentation.data.arrays import resize_image
    >>> image = np.random.default_rng(0).integers(0, 256, (97, 33, 3), dtype=np.uint8)
    >>> ours = pillow_bilinear_resize(tf.constant(image[None]), 16, 16)[0].numpy()
    >>> bool((ours == resize_image(image, 16)).all())
    True
    """
    import tensorflow as tf

    pass_order = pillow_pass_order() if pass_order is None else pass_order
    if pass_order not in PASS_ORDERS:
        raise ValueError(f"`pass_order` must be one of {PASS_ORDERS}. Received: pass_order={pass_order!r}")
    values = tf.cast(images, tf.float64)
    if pass_order == "horizontal_first":
        vertical_first = False
    else:
        shape = tf.shape(values)
        in_height, in_width = shape[1], shape[2]
        vertical_first = tf.logical_and(
            in_height > height, (in_height - height) > (in_width - width) * 2
        )
    return tf.cast(_resize_passes(values, height, width, vertical_first), tf.float32)


def pillow_pass_order():
    """Which order of resampling passes the installed Pillow uses (see `PASS_ORDERS`).

    Found by resizing one probe image with Pillow (the two orders round
    differently), not from the version number.

    Raises:
        RuntimeError: Pillow's result matches neither order (a Pillow change
            this module does not know).
    """
    import tensorflow as tf

    from skin_segmentation.data.arrays import resize_image

    if not _PASS_ORDER:
        probe = np.random.default_rng(0).integers(0, 256, (97, 33, 3), dtype=np.uint8)
        expected = resize_image(probe, 16)
        for order in PASS_ORDERS:
            values = tf.cast(tf.constant(probe[None]), tf.float64)
            vertical_first = order != "horizontal_first"  # the probe shrinks its height most
            ours = _resize_passes(values, 16, 16, tf.constant(vertical_first))[0].numpy()
            if (ours == expected).all():
                _PASS_ORDER.append(order)
                break
        else:
            raise RuntimeError(
                "The installed Pillow resizes differently from both known pass orders; "
                "the exported graph cannot reproduce `data.arrays.resize_image`."
            )
    return _PASS_ORDER[0]
