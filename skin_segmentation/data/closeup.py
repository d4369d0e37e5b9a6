"""Close-up crops: windows down to 1/8 of the side, some centred on skin.

A clinical close-up of a back, a leg or a lesion fills the frame with skin; a
network that only saw faces and hands in front of a background has never seen
such a frame. A close-up crop cuts a square window out of a training photograph
(kept at twice the working size, so that a small window still has detail) and
resizes it to the working size. Its side is log-uniform between `min_side` and
the whole image; a share `in_skin` of the windows is centred on a skin pixel
drawn at random from the mask, so that frames that are all skin occur.

Every random draw is stateless, keyed by the batch's seed, so a dataset built
twice with the same seed crops the same windows.
"""

import dataclasses

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class CloseupConfig:
    """How often and how close the close-up crops are.

    Args:
        probability: share of training images replaced by a close-up crop.
        min_side: the smallest window side, as a fraction of the image side.
        in_skin: share of the windows centred on a skin pixel (the others are
            placed uniformly).

    Example:
    >>> CloseupConfig(probability=0.5).min_side
    0.125
    """

    probability: float = 0.5
    min_side: float = 0.125
    in_skin: float = 0.5

    def __post_init__(self):
        for field in ("probability", "in_skin"):
            value = getattr(self, field)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{field}` must lie in [0, 1]. Received: {field}={value}")
        if not 0.0 < self.min_side <= 1.0:
            raise ValueError(f"`min_side` must lie in (0, 1]. Received: min_side={self.min_side}")


def sample_boxes(masks, seed, config):
    """Draw one crop window per image: `float32 (N, 4)` boxes `[y1, x1, y2, x2]` in [0, 1].

    Args:
        masks: `(N, H, W)` skin masks in {0, 1} (any numeric dtype), where the
            skin-centred windows look for skin; an all-zero mask gives a
            uniformly placed window.
        seed: an int tensor of shape `(2,)`.
        config: a `CloseupConfig`.

    Returns:
        `(boxes, is_closeup)`: the windows and a `bool (N,)` telling which images
        are cropped at all (the others keep the full frame `[0, 0, 1, 1]`).

    Example:
    >>> masks = tf.ones((3, 16, 16))
    >>> boxes, chosen = sample_boxes(masks, tf.constant([1, 2]), CloseupConfig(probability=1.0))
    >>> boxes.shape, bool(tf.reduce_all(boxes[:, 2:] - boxes[:, :2] >= 0.125 - 1e-6))
    (TensorShape([3, 4]), True)
    """
    masks = tf.cast(masks, tf.float32)
    count = tf.shape(masks)[0]
    height, width = tf.shape(masks)[1], tf.shape(masks)[2]
    uniform = tf.random.stateless_uniform([count, 5], seed=seed)
    log_min = tf.math.log(config.min_side)
    side = tf.exp(log_min * (1.0 - uniform[:, 0]))
    is_closeup = uniform[:, 1] < config.probability
    in_skin = uniform[:, 2] < config.in_skin

    # A skin pixel per image: the mask as logits, so skin pixels are e^20 times
    # likelier than the rest (and an all-zero mask draws uniformly).
    flat = tf.reshape(masks, [count, -1]) * 20.0
    pixel = tf.random.stateless_categorical(flat, 1, seed=seed + 1)[:, 0]
    pixel_y = tf.cast(pixel // tf.cast(width, tf.int64), tf.float32) / tf.cast(height, tf.float32)
    pixel_x = tf.cast(pixel % tf.cast(width, tf.int64), tf.float32) / tf.cast(width, tf.float32)
    centre_y = tf.where(in_skin, pixel_y, side / 2 + uniform[:, 3] * (1.0 - side))
    centre_x = tf.where(in_skin, pixel_x, side / 2 + uniform[:, 4] * (1.0 - side))

    y1 = tf.clip_by_value(centre_y - side / 2, 0.0, 1.0 - side)
    x1 = tf.clip_by_value(centre_x - side / 2, 0.0, 1.0 - side)
    boxes = tf.stack([y1, x1, y1 + side, x1 + side], axis=1)
    full = tf.tile(tf.constant([[0.0, 0.0, 1.0, 1.0]]), [count, 1])
    return tf.where(is_closeup[:, None], boxes, full), is_closeup


def crop_closeups(images, masks, large_images, large_masks, seed, config):
    """Replace a random share of a batch by close-up crops of its larger copies.

    Args:
        images: `(N, S, S, 3)` photographs at the working size (kept for the
            images that are not cropped, so they are exactly what they were).
        masks: `(N, S, S)` masks in {0, 1} at the working size.
        large_images: the same photographs at a larger size (e.g. `2 S`).
        large_masks: their masks at that size.
        seed: an int tensor of shape `(2,)`.
        config: a `CloseupConfig`.

    Returns:
        `(images float32 (N, S, S, 3), masks float32 (N, S, S))`; a mask stays
        in {0, 1} (nearest-neighbour resampling) and aligned with its image.

    Example:
    >>> images = tf.zeros((2, 8, 8, 3)); masks = tf.zeros((2, 8, 8))
    >>> out, out_masks = crop_closeups(images, masks, tf.zeros((2, 16, 16, 3)),
    ...     tf.zeros((2, 16, 16)), tf.constant([0, 1]), CloseupConfig())
    >>> out.shape, out_masks.shape
    (TensorShape([2, 8, 8, 3]), TensorShape([2, 8, 8]))
    """
    size = [images.shape[1], images.shape[2]]
    boxes, is_closeup = sample_boxes(large_masks, seed, config)
    indices = tf.range(tf.shape(boxes)[0])
    cropped = tf.image.crop_and_resize(tf.cast(large_images, tf.float32), boxes, indices, size)
    cropped_masks = tf.image.crop_and_resize(
        tf.cast(large_masks, tf.float32)[..., None], boxes, indices, size, method="nearest"
    )[..., 0]
    images = tf.where(is_closeup[:, None, None, None], cropped, tf.cast(images, tf.float32))
    masks = tf.where(is_closeup[:, None, None], cropped_masks, tf.cast(masks, tf.float32))
    return images, masks
