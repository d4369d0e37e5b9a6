"""The tf.data pipeline: shapes, standardization, augmentation geometry, determinism."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from skin_segmentation.data import (
    AugmentConfig,
    clear_cache,
    load_arrays,
    make_dataset,
    preprocess_images,
    read_folder,
    resize_mask,
    standardize,
)
from skin_segmentation.data.appearance import PhotometricConfig
from skin_segmentation.data.augment import TFAugmenter, affine_matrices, augment_batch, import_imgaug
from skin_segmentation.data.closeup import CloseupConfig


def l_shape(size):
    """An L-shaped {0, 1} mask: no rotation or flip maps it onto itself."""
    mask = np.zeros((size, size), np.uint8)
    mask[size // 8: size * 5 // 8, size // 4: size * 3 // 8] = 1
    mask[size // 2: size * 5 // 8, size // 4: size * 3 // 4] = 1
    return mask


def write_set(root, count=5, sizes=((40, 30), (64, 64), (50, 70))):
    """Images whose red channel is the mask: where the mask goes, red goes."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        height, width = sizes[i % len(sizes)]
        mask = np.asarray(Image.fromarray(l_shape(64) * 255).resize((width, height), Image.NEAREST)) // 255
        image = rng.integers(40, 90, (height, width, 3)).astype(np.uint8)
        image[..., 0] = np.where(mask == 1, 250, 10)
        Image.fromarray(image).save(root / "images" / f"s{i}.png")
        Image.fromarray(mask * 255).save(root / "masks" / f"s{i}.png")
    return read_folder(root)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return write_set(tmp_path_factory.mktemp("pipeline") / "set")


def batches(dataset):
    return [(images.numpy(), masks.numpy()) for images, masks in dataset]


@pytest.mark.parametrize("augment", [None, "tf"])
def test_shapes_dtypes_and_standardization(pairs, augment):
    dataset = make_dataset(pairs, image_size=32, batch_size=2, augment=augment, shuffle=True, seed=1)
    assert dataset.element_spec[0].shape.as_list() == [None, 32, 32, 3]
    assert dataset.element_spec[1].shape.as_list() == [None, 32, 32, 1]
    seen = batches(dataset)
    assert [images.shape[0] for images, _ in seen] == [2, 2, 1]
    for images, masks in seen:
        assert images.dtype == np.float32 and masks.dtype == np.float32
        assert set(np.unique(masks)) <= {0.0, 1.0}
        # float32 sums over 32 x 32 pixels: the mean is zero to about 1e-5 of a standard deviation
        np.testing.assert_allclose(images.mean(axis=(1, 2)), 0.0, atol=1e-4)
        np.testing.assert_allclose(images.std(axis=(1, 2)), 1.0, atol=1e-4)


def test_without_augmentation_batches_are_the_resized_pairs(pairs):
    dataset = make_dataset(pairs, image_size=32, batch_size=16)
    (images, masks), = batches(dataset)
    expected_images, expected_masks = load_arrays(pairs, 32)
    np.testing.assert_array_equal(masks[..., 0], expected_masks)
    np.testing.assert_allclose(images, standardize(expected_images), atol=1e-5)
    np.testing.assert_allclose(preprocess_images(list(expected_images), 32), images, atol=1e-5)


def test_constant_images_standardize_to_zeros():
    images = np.zeros((2, 8, 8, 3), np.float32)
    images[0] = 17.0
    images[1, ..., 0] = 3.0
    images[1, ..., 1] = np.arange(8)[None, :]  # one varying channel
    for out in (standardize(images), standardize(tf.constant(images)).numpy()):
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(out[0], 0.0)
        np.testing.assert_array_equal(out[1, ..., 0], 0.0)
        np.testing.assert_allclose(out[1, ..., 1].std(), 1.0, atol=1e-5)


def test_mask_resize_is_area_then_threshold():
    mask = np.zeros((8, 8), np.uint8)
    mask[0:2, 0:2] = 1  # fills one 4x4 output cell's top-left 2x2 quarter
    mask[0:4, 4:7] = 1  # fills three quarters of another cell
    np.testing.assert_array_equal(resize_mask(mask, 2), [[0, 1], [0, 0]])


def test_same_seed_same_batches_and_new_draws_each_pass(pairs):
    def build(seed):
        return make_dataset(pairs, image_size=32, batch_size=2, augment="tf", shuffle=True, seed=seed)

    first, second = build(3), build(3)
    first_pass, second_pass = batches(first), batches(second)
    for (a_images, a_masks), (b_images, b_masks) in zip(first_pass, second_pass):
        np.testing.assert_array_equal(a_images, b_images)
        np.testing.assert_array_equal(a_masks, b_masks)
    # a second pass (Keras' next epoch) draws anew, deterministically
    first_again, second_again = batches(first), batches(second)
    assert not np.array_equal(first_again[0][0], first_pass[0][0])
    np.testing.assert_array_equal(first_again[0][0], second_again[0][0])
    assert not np.array_equal(batches(build(4))[0][0], first_pass[0][0])


ROBUST_OPTIONS = dict(
    augment="tf", balance_sources=True, epoch_images=6, closeup=CloseupConfig(probability=0.5),
    photometric=PhotometricConfig(probability=1.0), lesions=0.5,
)


@pytest.mark.parametrize("options", [{}, {"augment": "tf"}, ROBUST_OPTIONS], ids=["order", "augment", "robust"])
def test_draws_depend_on_the_seed_alone_not_on_the_global_seed(pairs, options):
    two_sources = [dataclasses.replace(pair, source=f"source{i % 2}") for i, pair in enumerate(pairs)]

    def two_passes():
        dataset = make_dataset(two_sources, image_size=32, batch_size=3, shuffle=True, seed=5, **options)
        return batches(dataset), batches(dataset)

    reference = two_passes()
    tf.random.set_seed(123)
    after_tf_seed = two_passes()
    keras.utils.set_random_seed(7)
    after_keras_seed = two_passes()
    for other in (after_tf_seed, after_keras_seed):
        for reference_pass, other_pass in zip(reference, other):
            assert len(reference_pass) == len(other_pass) == 2
            for (a_images, a_masks), (b_images, b_masks) in zip(reference_pass, other_pass):
                np.testing.assert_array_equal(a_images, b_images)
                np.testing.assert_array_equal(a_masks, b_masks)
    first, second = reference  # a new pass draws anew
    assert not np.array_equal(np.concatenate([b[0] for b in first]), np.concatenate([b[0] for b in second]))


def test_shuffle_visits_every_pair_once_per_pass(pairs):
    dataset = make_dataset(pairs, image_size=16, batch_size=1, shuffle=True, seed=0)
    expected = standardize(load_arrays(pairs, 16)[0])
    orders = []
    for _ in range(2):
        order = []
        for images, _ in batches(dataset):
            order.append(int(np.abs(expected - images[0]).sum(axis=(1, 2, 3)).argmin()))
        assert sorted(order) == list(range(len(pairs)))
        orders.append(order)
    assert orders[0] != orders[1]


def test_repeat_keeps_going(pairs):
    dataset = make_dataset(pairs, image_size=16, batch_size=4, augment="tf", repeat=True, shuffle=True)
    assert len(batches(dataset.take(6))) == 6


def test_the_mask_moves_with_the_image(pairs):
    dataset = make_dataset(pairs, image_size=64, batch_size=5, augment="tf", shuffle=True, seed=11)
    (images, masks), = batches(dataset)
    _, original_masks = load_arrays(pairs, 64)
    moved = 0
    for image, mask, original in zip(images, masks[..., 0], original_masks):
        red = image[..., 0]
        bright = red > (red.max() + red.min()) / 2  # the red L, after warping
        assert (bright == (mask == 1)).mean() > 0.98
        moved += not np.array_equal(mask, original)
    assert moved >= 4


def test_rotation_by_90_degrees_turns_the_shape_clockwise():
    mask = l_shape(32)[None]
    image = np.repeat(mask[..., None] * 200, 3, axis=-1).astype(np.uint8)
    no_crop = AugmentConfig(rotation=90, crop=1.0)
    out_images, out_masks = TFAugmenter(no_crop)(image, mask, np.array([[90.0, 1.0, 0.0, 0.0]], np.float32))
    np.testing.assert_array_equal(out_masks.numpy()[0, ..., 0], np.rot90(mask[0], k=-1))
    np.testing.assert_allclose(out_images.numpy()[0, ..., 1], np.rot90(image[0, ..., 1], k=-1), atol=1e-3)


def test_crop_takes_the_window_it_says():
    mask = np.zeros((1, 32, 32), np.uint8)
    mask[0, 2:6, 4:12] = 1  # inside the top-left quadrant
    image = np.repeat(mask[..., None] * 255, 3, axis=-1).astype(np.uint8)
    half = AugmentConfig(crop=0.5)
    # offsets -1, -1: the window sits in the top-left corner, enlarged twice
    _, out_masks = TFAugmenter(half)(image, mask, np.array([[0.0, 1.0, -1.0, -1.0]], np.float32))
    expected = np.zeros((32, 32), np.uint8)
    expected[4:12, 8:24] = 1
    np.testing.assert_array_equal(out_masks.numpy()[0, ..., 0], expected)
    # offsets +1, +1: the bottom-right quadrant, which is empty
    _, out_masks = TFAugmenter(half)(image, mask, np.array([[0.0, 1.0, 1.0, 1.0]], np.float32))
    assert out_masks.numpy().sum() == 0


def test_a_point_lands_where_the_matrix_says():
    config = AugmentConfig()
    mask = np.zeros((1, 64, 64), np.uint8)
    mask[0, 18:22, 40:44] = 1  # a small square around (x=41.5, y=19.5)
    parameters = np.array([[17.0, 1.1, 0.4, -0.7]], np.float32)
    _, out_masks = TFAugmenter(config)(mask[..., None].repeat(3, -1), mask, parameters)
    ys, xs = np.nonzero(out_masks.numpy()[0, ..., 0])
    landed = affine_matrices(parameters, 64, 64, config)[0] @ np.array([41.5, 19.5, 1.0])
    assert abs(xs.mean() - landed[0]) < 1.0 and abs(ys.mean() - landed[1]) < 1.0


def test_drawn_parameters_cover_the_configured_ranges():
    _, _, parameters = augment_batch(np.zeros((400, 4, 4, 3), np.uint8), np.zeros((400, 4, 4), np.uint8), seed=0)
    angle, zoom, crop_x, crop_y = parameters.T
    assert -20 <= angle.min() < -18 and 18 < angle.max() <= 20
    assert 1 / 1.2 <= zoom.min() < 0.85 and 1.18 < zoom.max() <= 1.2
    assert -1 <= min(crop_x.min(), crop_y.min()) < -0.95 and 0.95 < max(crop_x.max(), crop_y.max()) <= 1


def test_cache_reuses_decoded_pairs_until_a_file_changes(tmp_path):
    pairs = write_set(tmp_path / "set", count=2)
    clear_cache()
    images, _ = load_arrays(pairs, 16)
    Image.fromarray(np.zeros((40, 30, 3), np.uint8)).save(pairs[0].image)
    changed, _ = load_arrays(pairs, 16)
    assert changed[0].max() == 0 and np.array_equal(changed[1], images[1])


def test_bad_arguments_are_value_errors(pairs):
    with pytest.raises(ValueError, match="augment='rotate'"):
        make_dataset(pairs, augment="rotate")
    with pytest.raises(ValueError, match="batch_size=0"):
        make_dataset(pairs, batch_size=0)
    with pytest.raises(ValueError, match="`pairs` is empty"):
        make_dataset([])


def test_imgaug_backend_explains_how_to_install_it(pairs):
    try:
        import_imgaug()
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install -e \"\.\[imgaug\]\""):
            make_dataset(pairs, augment="imgaug")
    else:
        pytest.skip("imgaug is installed here; tests/test_data_imgaug.py covers it")
