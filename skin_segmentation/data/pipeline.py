"""The training input: pairs on disk -> batches of standardized images and masks.

Each pair is decoded and resized once per process (`arrays.load_arrays`, with
Pillow, kept in memory for every dataset built in the process). The tf.data
graph then reads those arrays and does the rest with no Python per image
(except for the imgaug backend): the order and keys of `passes` (stateless,
from the seed alone), augmentation, per-image and per-channel standardization
(or none, for a network that scales raw pixels itself: `model_inputs`),
batching and prefetching.
"""

import collections

import numpy as np
import tensorflow as tf

from skin_segmentation.data.appearance import photometric_jitter, synthesize_lesions
from skin_segmentation.data.arrays import (  # noqa: F401  (part of this module's interface)
    CACHE_BYTES,
    DEFAULT_IMAGE_SIZE,
    check_image_size,
    clear_cache,
    load_arrays,
    resize_image,
    resize_mask,
)
from skin_segmentation.data.augment import AUGMENT_BACKENDS, AugmentConfig, get_augmenter, sample_parameters
from skin_segmentation.data.closeup import crop_closeups
from skin_segmentation.data.passes import index_passes
from skin_segmentation.models.blocks import check_standardization

DEFAULT_BATCH_SIZE = 16
# A channel whose standard deviation is below this (in grey levels) is constant:
# it standardizes to zeros instead of dividing by (almost) zero.
CONSTANT_CHANNEL_STD = 1e-3


def standardize(images):
    """Per image and per channel: subtract the mean, divide by the standard deviation.

    A channel that is constant (standard deviation below 0.001 grey levels)
    becomes zeros rather than a division by zero.

    Args:
        images: `(N, H, W, C)` or `(H, W, C)`, any real dtype; a NumPy array or a
            tensor.

    Returns:
        float32 of the same shape, and of the same kind (NumPy in, NumPy out).

    Example:
    >>> out = standardize(np.random.default_rng(0).integers(0, 255, (2, 8, 8, 3)))
    >>> np.allclose(out.mean(axis=(1, 2)), 0, atol=1e-5), np.allclose(out.std(axis=(1, 2)), 1, atol=1e-4)
    (True, True)
    >>> float(standardize(np.full((4, 4, 3), 7)).max())
    0.0
    """
    if isinstance(images, np.ndarray) or not tf.is_tensor(images):
        values = np.asarray(images, dtype=np.float32)
        axes = (-3, -2)
        mean = values.mean(axis=axes, keepdims=True)
        std = values.std(axis=axes, keepdims=True)
        constant = std < CONSTANT_CHANNEL_STD
        return np.where(constant, 0.0, (values - mean) / np.where(constant, 1.0, std)).astype(np.float32)
    values = tf.cast(images, tf.float32)
    axes = [values.shape.rank - 3, values.shape.rank - 2]
    mean, variance = tf.nn.moments(values, axes=axes, keepdims=True)
    std = tf.sqrt(variance)
    constant = std < CONSTANT_CHANNEL_STD
    return tf.where(constant, 0.0, (values - mean) / tf.where(constant, 1.0, std))


def model_inputs(images, standardization="per_image"):
    """Resized uint8 images as a network takes them.

    Args:
        images: `(N, S, S, 3)` or `(S, S, 3)` pixel values, NumPy or a tensor.
        standardization: the network's (`models.standardization_of(model)`):
            `"per_image"` standardizes each image per channel (`standardize`);
            `"fixed"` passes the pixel values as float32, for a network that
            scales them itself.

    Returns:
        float32 of the same shape and kind.

    Example:
    >>> float(model_inputs(np.full((1, 2, 2, 3), 200, "uint8"), "fixed").max())
    200.0
    >>> float(model_inputs(np.full((1, 2, 2, 3), 200, "uint8"), "per_image").max())
    0.0
    """
    if check_standardization(standardization) == "per_image":
        return standardize(images)
    if isinstance(images, np.ndarray) or not tf.is_tensor(images):
        return np.asarray(images, dtype=np.float32)
    return tf.cast(images, tf.float32)


def preprocess_images(images, image_size=DEFAULT_IMAGE_SIZE, standardization="per_image"):
    """Inference input: resize and standardize photographs as training did.

    Args:
        images: a list of `uint8` arrays `(H, W, 3)` (sizes may differ; `(H, W)`
            grey images are replicated to 3 channels), e.g. from `load_image`.
        image_size: the network's input side.
        standardization: the network's, as in `model_inputs`.

    Returns:
        float32 `(N, S, S, 3)` NumPy array.

    Example:
    >>> preprocess_images([np.zeros((30, 50, 3), "uint8")], 32).shape
    (1, 32, 32, 3)
    """
    image_size = check_image_size(image_size)
    resized = []
    for index, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8:
            raise ValueError(f"`images` must be uint8. Received: images[{index}].dtype={image.dtype}")
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"`images` must be (H, W, 3). Received: images[{index}].shape={image.shape}")
        resized.append(resize_image(image, image_size))
    if not resized:
        raise ValueError("`images` is empty.")
    return model_inputs(np.stack(resized), standardization)


def _resolve_augment(augment):
    if augment is None or augment is False:
        return None
    if augment is True:
        return "tf"
    if augment not in AUGMENT_BACKENDS:
        raise ValueError(f"`augment` must be None, 'tf' or 'imgaug'. Received: augment={augment!r}")
    return augment


def _index_stream(pairs, shuffle, seed, repeat, balance_sources, epoch_images, keyed=False):
    """Indices into `pairs` in training order (with element keys when `keyed`)."""
    count = len(pairs)
    length = epoch_images or count
    if not (shuffle or balance_sources or keyed):
        indices = tf.data.Dataset.range(count).repeat()
        return indices if repeat else indices.take(length)
    groups = [list(range(count))]
    if balance_sources:
        by_source = collections.defaultdict(list)
        for index, pair in enumerate(pairs):
            by_source[pair.source].append(index)
        groups = [members for _, members in sorted(by_source.items())]
    return index_passes(groups, seed, length, shuffle or balance_sources, repeat, keyed)


def make_dataset(
    pairs,
    image_size=DEFAULT_IMAGE_SIZE,
    batch_size=DEFAULT_BATCH_SIZE,
    augment=None,
    shuffle=False,
    seed=0,
    repeat=False,
    cache=True,
    augment_config=None,
    drop_remainder=False,
    closeup=None,
    photometric=None,
    lesions=0.0,
    balance_sources=False,
    epoch_images=None,
    standardization="per_image",
):
    """A `tf.data.Dataset` of `(images, masks)` batches, the networks' input.

    Deterministic from `seed` alone, whatever TensorFlow's global seed
    (`tf.random.set_seed`, `keras.utils.set_random_seed`): two datasets built
    with the same arguments give the same batches, and each new pass over a
    dataset (each Keras epoch) draws a new order and new augmentations from that
    seed (`passes`). Trainings made while the draws came from TensorFlow's
    seeded shuffles and `Dataset.random` do not replay bit-identically.

    Args:
        pairs: a list of `SkinPair`.
        image_size: side `S` of the square input (the paper: 128).
        batch_size: images per batch (the paper: 16).
        augment: `None` (no augmentation), `"tf"` (in-graph, default backend) or
            `"imgaug"` (imgaug 0.4.0 through `tf.numpy_function`); `True` means
            `"tf"`. The options below apply only when it is set.
        shuffle: reshuffle the whole set on every pass.
        seed: non-negative integer keying every random draw (order, sources,
            augmentation).
        repeat: repeat forever (then pass `steps_per_epoch` to Keras).
        cache: keep decoded arrays in memory for later datasets of this process.
        augment_config: an `AugmentConfig` (rotation, scale, crop).
        drop_remainder: drop a last batch smaller than `batch_size`.
        closeup: a `closeup.CloseupConfig` for close-up crops (pairs are then
            also decoded at `2 S`), or `None`.
        photometric: an `appearance.PhotometricConfig`, or `None`.
        lesions: share of images given a synthetic lesion inside their skin.
        balance_sources: draw every `pair.source` equally often (with
            replacement), whatever its size, instead of one pass over the pairs.
        epoch_images: images per pass (default: all pairs once).
        standardization: the network's, as in `model_inputs`.

    Returns:
        A dataset yielding `images float32 (B, S, S, 3)` standardized per image
        and channel (or raw pixel values, for `"fixed"`), and `masks float32 (B, S, S, 1)` in {0, 1}.

    Raises:
        DataError: naming the first unusable file, before any graph is built.

    Example:
    >>> from skin_segmentation.data import read_folder, sample_datasets
    >>> pairs = read_folder(sample_datasets()[1])[:20]
    >>> images, masks = next(iter(make_dataset(pairs, augment="tf", shuffle=True)))
    >>> images.shape, masks.shape
    (TensorShape([16, 128, 128, 3]), TensorShape([16, 128, 128, 1]))
    """
    image_size = check_image_size(image_size)
    check_standardization(standardization)
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed}")
    backend = _resolve_augment(augment)
    augmenter = get_augmenter(backend, augment_config or AugmentConfig()) if backend else None
    images, masks = load_arrays(pairs, image_size, cache=cache)
    large = None
    if augmenter is not None and closeup is not None:
        large = tuple(tf.constant(array) for array in load_arrays(pairs, 2 * image_size, cache=cache))
    images = tf.constant(images)
    masks = tf.constant(masks)
    autotune = tf.data.AUTOTUNE
    indices = _index_stream(pairs, shuffle, seed, repeat, balance_sources, epoch_images, augmenter is not None)

    if augmenter is None:
        dataset = indices.batch(batch_size, drop_remainder=drop_remainder)

        def prepare(batch_indices):
            batch_images = tf.gather(images, batch_indices)
            batch_masks = tf.cast(tf.gather(masks, batch_indices), tf.float32)[..., None]
            return model_inputs(batch_images, standardization), batch_masks

        dataset = dataset.map(prepare, num_parallel_calls=autotune)
    else:
        def draw(index, key):
            return index, key, sample_parameters(key, augmenter.config)

        dataset = indices.map(draw, num_parallel_calls=autotune)
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)

        def prepare(batch_indices, batch_keys, parameters):
            batch_seed = batch_keys[0]
            batch_images = tf.gather(images, batch_indices)
            batch_masks = tf.gather(masks, batch_indices)
            if large is not None:
                batch_images, batch_masks = crop_closeups(
                    batch_images, batch_masks, tf.gather(large[0], batch_indices),
                    tf.gather(large[1], batch_indices), batch_seed, closeup,
                )
            batch_images, batch_masks = augmenter(
                tf.cast(batch_images, tf.uint8), tf.cast(batch_masks, tf.uint8), parameters
            )
            if lesions:
                batch_images = synthesize_lesions(batch_images, batch_masks[..., 0], batch_seed + 13, lesions)
            if photometric is not None:
                batch_images = photometric_jitter(batch_images, batch_seed + 29, photometric)
            return model_inputs(batch_images, standardization), batch_masks

        dataset = dataset.map(prepare, num_parallel_calls=autotune)
    return dataset.prefetch(autotune)
