"""The imgaug backend (needs `pip install -e .[imgaug]`, numpy < 2): skipped without it."""

import numpy as np
import pytest

pytest.importorskip("imgaug", exc_type=ImportError)

from PIL import Image  # noqa: E402

from skin_segmentation.data import AugmentConfig, make_dataset, read_folder  # noqa: E402
from skin_segmentation.data.augment import ImgaugAugmenter, TFAugmenter, augment_batch  # noqa: E402


def l_shape(size):
    mask = np.zeros((size, size), np.uint8)
    mask[size // 8: size * 5 // 8, size // 4: size * 3 // 8] = 1
    mask[size // 2: size * 5 // 8, size // 4: size * 3 // 4] = 1
    return mask


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgaug") / "set"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        mask = np.roll(l_shape(48), 3 * i, axis=1)
        image = rng.integers(40, 90, (48, 48, 3)).astype(np.uint8)
        image[..., 0] = np.where(mask == 1, 250, 10)
        Image.fromarray(image).save(root / "images" / f"s{i}.png")
        Image.fromarray(mask * 255).save(root / "masks" / f"s{i}.png")
    return read_folder(root)


def test_both_backends_warp_with_the_same_geometry():
    masks = np.stack([np.roll(l_shape(64), 4 * i, axis=0) for i in range(8)])
    images = np.repeat(masks[..., None] * 200, 3, axis=-1).astype(np.uint8)
    images[..., 2] = np.arange(64, dtype=np.uint8)[None, None, :] * 3  # a ramp, for bilinear
    tf_images, tf_masks, parameters = augment_batch(images, masks, seed=5, backend="tf")
    ia_images, ia_masks, same_parameters = augment_batch(images, masks, seed=5, backend="imgaug")
    np.testing.assert_array_equal(parameters, same_parameters)
    for tf_mask, ia_mask in zip(tf_masks[..., 0], ia_masks[..., 0]):
        union = np.maximum(tf_mask, ia_mask).sum()
        assert (tf_mask * ia_mask).sum() / union > 0.97
    # imgaug rounds to uint8; TensorFlow keeps float: within a grey level or two on average
    assert np.abs(tf_images - ia_images).mean() < 2.0


def test_imgaug_rotation_direction_matches():
    mask = l_shape(32)[None]
    image = np.repeat(mask[..., None] * 255, 3, axis=-1).astype(np.uint8)
    parameters = np.array([[90.0, 1.0, 0.0, 0.0]], np.float32)
    config = AugmentConfig(rotation=90, crop=1.0)
    _, ia_masks = ImgaugAugmenter(config)(image, mask, parameters)
    _, tf_masks = TFAugmenter(config)(image, mask, parameters)
    np.testing.assert_array_equal(ia_masks.numpy()[0, ..., 0], np.rot90(mask[0], k=-1))
    np.testing.assert_array_equal(ia_masks.numpy(), tf_masks.numpy())


def test_imgaug_pipeline_is_deterministic_and_moves_the_mask(pairs):
    def run(seed):
        dataset = make_dataset(pairs, image_size=48, batch_size=3, augment="imgaug", shuffle=True, seed=seed)
        return [(images.numpy(), masks.numpy()) for images, masks in dataset]

    first, second = run(2), run(2)
    assert len(first) == 2
    for (a_images, a_masks), (b_images, b_masks) in zip(first, second):
        np.testing.assert_array_equal(a_images, b_images)
        np.testing.assert_array_equal(a_masks, b_masks)
        assert a_images.shape == (3, 48, 48, 3) and a_masks.shape == (3, 48, 48, 1)
        np.testing.assert_allclose(a_images.mean(axis=(1, 2)), 0.0, atol=1e-5)
        for image, mask in zip(a_images, a_masks[..., 0]):
            red = image[..., 0]
            assert ((red > (red.max() + red.min()) / 2) == (mask == 1)).mean() > 0.98
    assert not np.array_equal(run(3)[0][1], first[0][1])
