"""Appearance augmentation that keeps the mask: photometric jitter and synthetic lesions.

Both act on a batch of float32 photographs in 0-255 before the per-image
standardization, and never move a pixel, so the mask stays as it is:

- `photometric_jitter`: the camera and the light. A per-channel gain (white balance)
  and an overall gain (exposure) followed by clipping to 0-255, a gamma, a
  saturation and a small hue shift, a blur and JPEG re-compression. The network
  standardizes each image per channel, which removes any gain and offset of a
  channel: white balance and exposure matter only where they clip (blown
  highlights, crushed shadows), while gamma, saturation, hue, blur and JPEG
  change what the network sees.
- `synthesize_lesions`: diseased skin is skin. A smooth random blob inside the
  skin mask is recoloured towards a lesion colour (red, brown, violet or the
  white of scale) with a fine texture; pixels outside the mask are untouched and
  the mask keeps calling the blob skin.

Every draw is stateless, keyed by the batch's seed.
"""

import dataclasses

import tensorflow as tf

# RGB of erythema, pigmented lesions, violaceous lesions and scale, in 0-255.
LESION_COLOURS = (
    (170.0, 45.0, 50.0),
    (95.0, 60.0, 40.0),
    (115.0, 55.0, 105.0),
    (230.0, 225.0, 212.0),
)


@dataclasses.dataclass(frozen=True)
class PhotometricConfig:
    """Ranges of the photometric jitter (each drawn per image).

    Args:
        probability: share of images jittered at all.
        channel_gain: white balance, each channel's gain in `exp(±channel_gain)`.
        exposure: overall gain in `exp(±exposure)`, then clipping to 0-255.
        gamma: gamma in `exp(±gamma)`.
        saturation: saturation factor in `[1 - saturation, 1 + saturation]`.
        hue: hue shift in `±hue` turns (skin hue spans a narrow band: keep it small).
        blur: share of images blurred, each with its own strength.
        jpeg: share of images re-compressed at JPEG quality 30-95.

    Example:
    >>> PhotometricConfig().hue
    0.03
    """

    probability: float = 0.8
    channel_gain: float = 0.15
    exposure: float = 0.5
    gamma: float = 0.4
    saturation: float = 0.4
    hue: float = 0.03
    blur: float = 0.3
    jpeg: float = 0.3


def _blur(images):
    """A separable 5-tap Gaussian blur (sigma 1 pixel), edges replicated."""
    taps = tf.constant([0.054, 0.244, 0.404, 0.244, 0.054])
    channels = images.shape[-1]
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC")
    horizontal = tf.tile(tf.reshape(taps, [1, 5, 1, 1]), [1, 1, channels, 1])
    vertical = tf.tile(tf.reshape(taps, [5, 1, 1, 1]), [1, 1, channels, 1])
    blurred = tf.nn.depthwise_conv2d(padded, horizontal, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(blurred, vertical, [1, 1, 1, 1], "VALID")


def _jpeg(images, seed):
    """Re-compress each image at its own quality in [30, 95]."""
    count = tf.shape(images)[0]
    seeds = tf.random.stateless_uniform([count, 2], seed=seed, minval=0, maxval=2**30, dtype=tf.int32)

    def compress(item):
        image, image_seed = item
        image = tf.cast(tf.clip_by_value(image, 0.0, 255.0), tf.uint8)
        out = tf.image.stateless_random_jpeg_quality(image, 30, 95, image_seed)
        return tf.cast(out, tf.float32)

    return tf.map_fn(compress, (images, seeds), fn_output_signature=tf.float32)


def photometric_jitter(images, seed, config=None):
    """Jitter colour, exposure, sharpness and compression of a batch.

    Args:
        images: `float32 (N, H, W, 3)` in 0-255.
        seed: an int tensor of shape `(2,)`.
        config: a `PhotometricConfig` (the default when `None`).

    Returns:
        `float32 (N, H, W, 3)` in 0-255.

    Example:
    >>> out = photometric_jitter(tf.fill((2, 8, 8, 3), 128.0), tf.constant([0, 1]))
    >>> out.shape, bool(tf.reduce_min(out) >= 0 and tf.reduce_max(out) <= 255)
    (TensorShape([2, 8, 8, 3]), True)
    """
    config = config or PhotometricConfig()
    images = tf.convert_to_tensor(images, tf.float32)
    count = tf.shape(images)[0]
    draw = tf.random.stateless_uniform([count, 10], seed=seed, minval=-1.0, maxval=1.0)
    chosen = (draw[:, 0] + 1.0) / 2.0 < config.probability

    gains = tf.exp(draw[:, 1:4] * config.channel_gain + draw[:, 4:5] * config.exposure)
    out = tf.clip_by_value(images * gains[:, None, None, :], 0.0, 255.0)
    gamma = tf.exp(draw[:, 5] * config.gamma)
    out = 255.0 * tf.pow(out / 255.0 + 1e-6, gamma[:, None, None, None])
    grey = tf.reduce_mean(out, axis=-1, keepdims=True)
    out = grey + (1.0 + draw[:, 6] * config.saturation)[:, None, None, None] * (out - grey)
    hsv = tf.image.rgb_to_hsv(tf.clip_by_value(out, 0.0, 255.0) / 255.0)
    hue = tf.math.floormod(hsv[..., 0] + (draw[:, 7] * config.hue)[:, None, None], 1.0)
    out = 255.0 * tf.image.hsv_to_rgb(tf.stack([hue, hsv[..., 1], hsv[..., 2]], axis=-1))

    blur_amount = tf.where((draw[:, 8] + 1.0) / 2.0 < config.blur, (draw[:, 9] + 1.0) / 2.0, 0.0)
    out = out + blur_amount[:, None, None, None] * (_blur(out) - out)
    jpeg_draw = tf.random.stateless_uniform([count], seed=seed + 7)
    out = tf.where((jpeg_draw < config.jpeg)[:, None, None, None], _jpeg(out, seed + 11), out)
    out = tf.clip_by_value(out, 0.0, 255.0)
    return tf.where(chosen[:, None, None, None], out, images)


def lesion_alpha(masks, seed, probability):
    """Where and how strongly each image's synthetic lesion is painted.

    A 6x6 grid of random values resized bilinearly to the image is a smooth
    field; the lesion is where the field exceeds a random level, with soft
    edges, and only inside the mask.

    Returns:
        `float32 (N, H, W, 1)` in [0, 1], exactly 0 outside the mask and for the
        images drawn to get no lesion.
    """
    masks = tf.cast(masks, tf.float32)
    count = tf.shape(masks)[0]
    size = [masks.shape[1], masks.shape[2]]
    coarse = tf.random.stateless_normal([count, 6, 6, 1], seed=seed)
    field = tf.image.resize(coarse, size, method="bilinear")
    draw = tf.random.stateless_uniform([count, 3], seed=seed + 1)
    level = 0.6 + draw[:, 0] * 1.0
    strength = 0.45 + draw[:, 1] * 0.45
    chosen = tf.cast(draw[:, 2] < probability, tf.float32)
    blob = tf.clip_by_value((field - level[:, None, None, None]) * 3.0, 0.0, 1.0)
    weight = (strength * chosen)[:, None, None, None]
    return blob * weight * masks[..., None]


def synthesize_lesions(images, masks, seed, probability=0.3):
    """Paint a lesion-coloured, textured blob inside the skin of some images.

    Args:
        images: `float32 (N, H, W, 3)` in 0-255.
        masks: `(N, H, W)` skin masks in {0, 1}; the lesion stays inside them.
        seed: an int tensor of shape `(2,)`.
        probability: share of images that get a lesion.

    Returns:
        `float32 (N, H, W, 3)`; every pixel outside the mask is unchanged.

    Example:
    >>> images = tf.fill((4, 16, 16, 3), 200.0)
    >>> masks = tf.concat([tf.ones((4, 16, 8)), tf.zeros((4, 16, 8))], axis=2)
    >>> out = synthesize_lesions(images, masks, tf.constant([3, 4]), probability=1.0)
    >>> bool(tf.reduce_all(out[:, :, 8:] == 200.0))
    True
    """
    images = tf.convert_to_tensor(images, tf.float32)
    count = tf.shape(images)[0]
    alpha = lesion_alpha(masks, seed, probability)
    palette = tf.constant(LESION_COLOURS)
    choice = tf.random.stateless_uniform([count], seed=seed + 2, maxval=len(LESION_COLOURS), dtype=tf.int32)
    jitter = tf.random.stateless_uniform([count, 3], seed=seed + 3, minval=0.8, maxval=1.2)
    colour = tf.gather(palette, choice) * jitter
    texture = 1.0 + 0.15 * tf.random.stateless_normal(tf.shape(images), seed=seed + 4)
    # The lesion keeps some of the skin's own shading (multiplied in), so it is
    # not a flat sticker.
    shading = images / (tf.reduce_mean(images, axis=[1, 2], keepdims=True) + 1.0)
    painted = tf.clip_by_value(colour[:, None, None, :] * texture * tf.sqrt(shading + 1e-3), 0.0, 255.0)
    return images + alpha * (painted - images)
