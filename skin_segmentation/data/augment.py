"""Geometric augmentation applied identically to a photograph and its mask.

One augmentation is a rotation, a zoom and a crop, resampled back to the input
size. Its random parameters are drawn once, in the tf.data graph, from
stateless generators keyed by the dataset's seed (`sample_parameters`); the two
backends then only differ in who warps the pixels:

- `"tf"` (default): one `ImageProjectiveTransformV3` op per batch for the images
  (bilinear) and one for the masks (nearest), inside the graph;
- `"imgaug"`: imgaug 0.4.0's `Affine` with `SegmentationMapsOnImage` (bilinear
  image, nearest mask), the library of the 2017 setup, run through
  `tf.numpy_function`. It needs `pip install -e .[imgaug]` (numpy < 2).

Both warp with the same matrix, so for one seed they give the same geometry and
draw from the same distributions:

- angle ~ U[-rotation, rotation] degrees (positive turns the content clockwise
  on screen, imgaug's convention);
- zoom ~ U[1 / scale, scale] (above 1 enlarges the content);
- a square crop window of side `crop` times the image side, its offset uniform
  over the room left in each axis, resized back to the full image.

The composition maps an output pixel `q` (pixel centres at integer
coordinates, `c` the image centre) to the input point

    p = c + R(-angle) (crop * (q - c) + d) / zoom,   d = offset from the centred window

so the whole augmentation is a single resampling of the original pixels:
content rotated or zoomed out of the frame is filled with 0 (black image,
non-skin mask), imgaug's fill for segmentation maps.
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

AUGMENT_BACKENDS = ("tf", "imgaug")
PARAMETER_NAMES = ("angle", "zoom", "crop_x", "crop_y")


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """The distributions augmentation parameters are drawn from.

    Args:
        rotation: maximum rotation in degrees; the angle is uniform in
            `[-rotation, rotation]`.
        scale: maximum zoom factor (> 1); the zoom is uniform in
            `[1 / scale, scale]`.
        crop: side of the random crop window as a fraction of the image side,
            in (0, 1]; 1 disables cropping.

    Example:
    >>> AugmentConfig(rotation=10.0).rotation
    10.0
    """

    rotation: float = 20.0
    scale: float = 1.2
    crop: float = 0.875

    def __post_init__(self):
        if not 0.0 <= self.rotation <= 180.0:
            raise ValueError(f"`rotation` must lie in [0, 180] degrees. Received: rotation={self.rotation}")
        if self.scale < 1.0:
            raise ValueError(f"`scale` must be at least 1. Received: scale={self.scale}")
        if not 0.0 < self.crop <= 1.0:
            raise ValueError(f"`crop` must lie in (0, 1]. Received: crop={self.crop}")


def sample_parameters(seed, config=None):
    """Draw one image's parameters `[angle, zoom, crop_x, crop_y]` (float32).

    `crop_x` and `crop_y` lie in [-1, 1]: the crop window's offset from the
    centre as a fraction of the room it has. Stateless: the same `seed` gives the
    same parameters, in or out of a graph.

    Args:
        seed: an int32/int64 tensor of shape `(2,)`.
        config: an `AugmentConfig`; the default when `None`.

    Example:
    >>> p = sample_parameters(tf.constant([1, 2], tf.int64))
    >>> p.shape, bool(-20 <= p[0] <= 20), bool(1 / 1.2 <= p[1] <= 1.2)
    (TensorShape([4]), True, True)
    """
    config = config or AugmentConfig()
    uniform = tf.random.stateless_uniform([4], seed=seed, dtype=tf.float32)
    angle = (2.0 * uniform[0] - 1.0) * config.rotation
    low = 1.0 / config.scale
    zoom = low + uniform[1] * (config.scale - low)
    crop_offsets = 2.0 * uniform[2:] - 1.0
    return tf.concat([tf.stack([angle, zoom]), crop_offsets], axis=0)


def affine_matrices(parameters, height, width, config=None):
    """The forward affine map of each augmentation, `float64 (N, 3, 3)` (NumPy).

    Maps an input pixel to where it lands in the output, in pixel-centre
    coordinates; `inverse_transforms` is its inverse in TensorFlow's form.

    Example:
    >>> m = affine_matrices(np.array([[0.0, 1.0, 0.0, 0.0]]), 8, 8, AugmentConfig(crop=1.0))
    >>> np.allclose(m[0], np.eye(3))
    True
    """
    config = config or AugmentConfig()
    parameters = np.asarray(parameters, dtype=np.float64).reshape(-1, 4)
    angle = np.deg2rad(parameters[:, 0])
    zoom = parameters[:, 1]
    cos, sin = np.cos(angle), np.sin(angle)
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    offset = np.stack(
        [parameters[:, 2] * (1 - config.crop) * width / 2, parameters[:, 3] * (1 - config.crop) * height / 2],
        axis=-1,
    )
    factor = zoom / config.crop
    matrices = np.zeros((len(parameters), 3, 3))
    matrices[:, 0, 0], matrices[:, 0, 1] = factor * cos, -factor * sin
    matrices[:, 1, 0], matrices[:, 1, 1] = factor * sin, factor * cos
    linear = matrices[:, :2, :2]
    matrices[:, :2, 2] = centre - np.einsum("nij,j->ni", linear, centre) - offset / config.crop
    matrices[:, 2, 2] = 1.0
    return matrices


def inverse_transforms(parameters, height, width, config=None):
    """`ImageProjectiveTransformV3` rows `float32 (N, 8)`: output pixel -> input point.

    Args:
        parameters: `float32 (N, 4)` from `sample_parameters`.
        height, width: image size in pixels (Python ints).
        config: the `AugmentConfig` the parameters were drawn for.
    """
    config = config or AugmentConfig()
    parameters = tf.convert_to_tensor(parameters, tf.float32)
    angle = parameters[:, 0] * (math.pi / 180.0)
    zoom = parameters[:, 1]
    cos, sin = tf.cos(angle), tf.sin(angle)
    centre_x, centre_y = (width - 1) / 2.0, (height - 1) / 2.0
    offset_x = parameters[:, 2] * (1 - config.crop) * width / 2
    offset_y = parameters[:, 3] * (1 - config.crop) * height / 2
    k = config.crop / zoom
    # p = c + R(-angle) (crop * (q - c) + d) / zoom, with R(-a) = [[cos, sin], [-sin, cos]].
    a0, a1 = k * cos, k * sin
    b0, b1 = -k * sin, k * cos
    a2 = centre_x - a0 * centre_x - a1 * centre_y + (cos * offset_x + sin * offset_y) / zoom
    b2 = centre_y - b0 * centre_x - b1 * centre_y + (-sin * offset_x + cos * offset_y) / zoom
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


class Augmenter:
    """Warp a batch of images and masks with given parameters.

    Call with `images uint8 (N, H, W, 3)`, `masks uint8 (N, H, W)` in {0, 1} and
    `parameters float32 (N, 4)`; returns `images float32 (N, H, W, 3)` (0-255)
    and `masks float32 (N, H, W, 1)` in {0, 1}. Use `get_augmenter` to make one.
    """

    backend = None

    def __init__(self, config=None):
        self.config = config or AugmentConfig()

    def __call__(self, images, masks, parameters):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(backend={self.backend!r}, config={self.config})"


class TFAugmenter(Augmenter):
    """TensorFlow backend: one projective transform per batch, no Python per image.

    Example:
    >>> images = np.zeros((1, 8, 8, 3), "uint8"); masks = np.zeros((1, 8, 8), "uint8")
    >>> out_images, out_masks = TFAugmenter()(images, masks, np.array([[0, 1, 0, 0]], "float32"))
    >>> out_images.shape, out_masks.shape
    (TensorShape([1, 8, 8, 3]), TensorShape([1, 8, 8, 1]))
    """

    backend = "tf"

    def __call__(self, images, masks, parameters):
        images = tf.cast(images, tf.float32)
        masks = tf.cast(masks, tf.float32)[..., None]
        height, width = images.shape[1], images.shape[2]
        if height is None or width is None:
            raise ValueError(f"Augmentation needs a static image size. Received shape: {images.shape}")
        transforms = inverse_transforms(parameters, height, width, self.config)

        def warp(values, interpolation):
            return tf.raw_ops.ImageProjectiveTransformV3(
                images=values,
                transforms=transforms,
                output_shape=[height, width],
                fill_value=0.0,
                interpolation=interpolation,
                fill_mode="CONSTANT",
            )

        return warp(images, "BILINEAR"), warp(masks, "NEAREST")


def import_imgaug():
    """Import imgaug or explain how to install it.

    Raises:
        ImportError: when imgaug 0.4.0 is missing or cannot import (it needs
            numpy < 2: `pip install -e ".[imgaug]"`).
    """
    try:
        import imgaug.augmenters as iaa
        from imgaug.augmentables.segmaps import SegmentationMapsOnImage
    except Exception as error:  # imgaug 0.4.0 under numpy 2 fails with AttributeError
        raise ImportError(
            "The imgaug augmentation backend needs imgaug 0.4.0 with numpy < 2: "
            f'pip install -e ".[imgaug]" (import failed: {type(error).__name__}: {error})'
        ) from None
    return iaa, SegmentationMapsOnImage


class ImgaugAugmenter(Augmenter):
    """imgaug backend: `iaa.Affine` with segmentation maps, via `tf.numpy_function`.

    Example:
    >>> augmenter = ImgaugAugmenter()  # doctest: +SKIP
    >>> images, masks = augmenter(images, masks, parameters)  # doctest: +SKIP
    """

    backend = "imgaug"

    def __init__(self, config=None):
        super().__init__(config)
        self._iaa, self._segmentation_maps = import_imgaug()

    def augment_numpy(self, images, masks, parameters):
        """The NumPy core: `uint8` images and masks in, `uint8` images and masks out."""
        images = np.asarray(images, dtype=np.uint8)
        masks = np.asarray(masks, dtype=np.uint8)
        height, width = images.shape[1:3]
        crop = self.config.crop
        out_images = np.empty_like(images)
        out_masks = np.empty_like(masks)
        for i, (angle, zoom, crop_x, crop_y) in enumerate(np.asarray(parameters, dtype=np.float64)):
            # imgaug rotates and scales about the centre, then translates: the
            # crop window's offset d becomes a translation of -d / crop.
            shift_x = -crop_x * (1 - crop) / 2 / crop
            shift_y = -crop_y * (1 - crop) / 2 / crop
            affine = self._iaa.Affine(
                scale=float(zoom / crop),
                rotate=float(angle),
                translate_percent={"x": float(shift_x), "y": float(shift_y)},
                order=1,
                cval=0,
                mode="constant",
                seed=0,  # its own generator: the values are fixed, the global one stays untouched
            )
            segmentation = self._segmentation_maps(masks[i].astype(np.int32), shape=images[i].shape)
            image, segmentation = affine(image=images[i], segmentation_maps=segmentation)
            out_images[i] = image
            out_masks[i] = segmentation.get_arr().astype(np.uint8)
        return out_images, out_masks

    def __call__(self, images, masks, parameters):
        images = tf.convert_to_tensor(images, tf.uint8)
        masks = tf.convert_to_tensor(masks, tf.uint8)
        out_images, out_masks = tf.numpy_function(
            self.augment_numpy,
            [images, masks, tf.convert_to_tensor(parameters, tf.float32)],
            [tf.uint8, tf.uint8],
            stateful=False,
        )
        out_images.set_shape(images.shape)
        out_masks.set_shape(masks.shape)
        return tf.cast(out_images, tf.float32), tf.cast(out_masks, tf.float32)[..., None]


def get_augmenter(backend="tf", config=None):
    """The augmenter of a backend.

    Args:
        backend: `"tf"` or `"imgaug"`.
        config: an `AugmentConfig`; the default when `None`.

    Example:
    >>> get_augmenter("tf").backend
    'tf'
    """
    if backend == "tf":
        return TFAugmenter(config)
    if backend == "imgaug":
        return ImgaugAugmenter(config)
    raise ValueError(f"`backend` must be one of {AUGMENT_BACKENDS}. Received: backend={backend!r}")


def augment_batch(images, masks, seed=0, backend="tf", config=None):
    """Augment NumPy arrays eagerly, each image with its own stateless draw.

    Handy to look at what training sees. Image `i` uses seed `(seed, i)`.

    Returns:
        `(images float32 (N, H, W, 3) in 0-255, masks float32 (N, H, W, 1))`,
        and the parameters drawn, `float32 (N, 4)`.

    Example:
    >>> images = np.zeros((2, 16, 16, 3), "uint8"); masks = np.zeros((2, 16, 16), "uint8")
    >>> out_images, out_masks, parameters = augment_batch(images, masks, seed=3)
    >>> parameters.shape
    (2, 4)
    """
    augmenter = get_augmenter(backend, config)
    seeds = tf.stack([tf.fill([len(images)], tf.constant(seed, tf.int64)), tf.range(len(images), dtype=tf.int64)], 1)
    parameters = tf.stack([sample_parameters(s, augmenter.config) for s in tf.unstack(seeds)])
    out_images, out_masks = augmenter(images, masks, parameters)
    return np.asarray(out_images), np.asarray(out_masks), parameters.numpy()
