"""The robust recipe's augmentations: close-ups, photometric jitter, lesions, balancing."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from skin_segmentation.data.appearance import PhotometricConfig, lesion_alpha, photometric_jitter, synthesize_lesions
from skin_segmentation.data.closeup import CloseupConfig, crop_closeups, sample_boxes
from skin_segmentation.data.pipeline import make_dataset, standardize
from skin_segmentation.data.readers import SkinPair
from skin_segmentation.profiles import get_profile

SEED = tf.constant([5, 9])


def coloured_by_mask(count=8, size=64, seed=0):
    """Images that are pure red where the mask is skin and pure blue elsewhere."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((count, size, size), "uint8")
    for mask in masks:
        y, x = rng.integers(8, size - 8, 2)
        radius = rng.integers(6, size // 2)
        yy, xx = np.mgrid[:size, :size]
        mask[(yy - y) ** 2 + (xx - x) ** 2 < radius**2] = 1
    images = np.where(masks[..., None] == 1, [255, 0, 0], [0, 0, 255]).astype("uint8")
    return images, masks


def agreement_of_colour_and_mask(images, masks):
    """Share of pixels whose colour (red or blue dominant) says what the mask says."""
    red = images[..., 0] > images[..., 2]
    return float(np.mean(red == (masks > 0.5)))


def test_closeup_crops_keep_image_and_mask_aligned():
    small, small_masks = coloured_by_mask(size=32)
    large, large_masks = coloured_by_mask(size=64)  # same drawing at twice the size
    large = np.repeat(np.repeat(small, 2, axis=1), 2, axis=2)
    large_masks = np.repeat(np.repeat(small_masks, 2, axis=1), 2, axis=2)
    images, masks = crop_closeups(small, small_masks, large, large_masks, SEED, CloseupConfig(probability=1.0))
    assert agreement_of_colour_and_mask(images.numpy(), masks.numpy()) > 0.97
    assert set(np.unique(masks.numpy())) <= {0.0, 1.0}


def test_skin_centred_closeups_give_frames_full_of_skin():
    masks = np.zeros((64, 64, 64), "float32")
    masks[:, 8:40, 8:40] = 1.0  # a quarter of each frame is skin

    def all_skin_share(in_skin):
        config = CloseupConfig(probability=1.0, min_side=0.125, in_skin=in_skin)
        boxes, chosen = sample_boxes(tf.constant(masks), SEED, config)
        assert bool(tf.reduce_all(chosen))
        sides = (boxes[:, 2] - boxes[:, 0]).numpy()
        assert sides.min() >= 0.125 - 1e-6 and sides.max() <= 1.0
        _, cropped = crop_closeups(tf.zeros((64, 32, 32, 3)), masks[:, ::2, ::2], tf.zeros((64, 64, 64, 3)),
                                   masks, SEED, config)
        return np.mean(cropped.numpy().mean(axis=(1, 2)) > 0.99)

    centred, anywhere = all_skin_share(1.0), all_skin_share(0.0)
    assert centred > 0.1  # frames that are all skin occur
    assert centred > anywhere


def test_closeup_probability_zero_keeps_every_image():
    images, masks = coloured_by_mask(size=32)
    out, out_masks = crop_closeups(images, masks, np.zeros((8, 64, 64, 3), "uint8"), np.zeros((8, 64, 64), "uint8"),
                                   SEED, CloseupConfig(probability=0.0))
    np.testing.assert_array_equal(out.numpy(), images.astype("float32"))
    np.testing.assert_array_equal(out_masks.numpy(), masks.astype("float32"))


def test_lesions_change_only_pixels_inside_the_skin_mask():
    images, masks = coloured_by_mask(count=16)
    images = np.where(masks[..., None] == 1, [200, 160, 140], [90, 120, 60]).astype("float32")
    out = synthesize_lesions(images, masks, SEED, probability=1.0).numpy()
    changed = np.any(np.abs(out - images) > 1e-3, axis=-1)
    assert not np.any(changed & (masks == 0))
    assert changed.sum() > 0.02 * masks.sum()  # lesions were painted


def test_lesion_probability_controls_how_many_images_get_one():
    masks = tf.ones((200, 16, 16))
    alpha = lesion_alpha(masks, SEED, probability=0.3).numpy()
    with_lesion = np.mean(alpha.reshape(200, -1).max(axis=1) > 0)
    assert 0.15 < with_lesion < 0.35  # some chosen images get a blob below the level


def test_photometric_jitter_changes_what_standardization_keeps_and_is_deterministic():
    images = tf.constant(coloured_by_mask(count=16)[0] * 0.6 + 40, tf.float32)
    first = photometric_jitter(images, SEED, PhotometricConfig(probability=1.0))
    again = photometric_jitter(images, SEED, PhotometricConfig(probability=1.0))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert 0.0 <= float(tf.reduce_min(first)) and float(tf.reduce_max(first)) <= 255.0
    change = np.abs(standardize(first.numpy()) - standardize(images.numpy())).mean()
    assert change > 0.05


def test_a_gain_without_clipping_is_invisible_after_standardization():
    # Why exposure and white balance only matter where they clip (appearance.py).
    images = np.random.default_rng(0).uniform(40, 120, (2, 8, 8, 3)).astype("float32")
    gained = images * np.array([1.3, 0.9, 1.1], "float32")
    np.testing.assert_allclose(standardize(gained), standardize(images), atol=1e-4)


def fake_pairs(counts):
    return [SkinPair(image=f"{source}/{i}.jpg", mask=f"{source}/{i}.png", stem=f"{source}_{i}", source=source)
            for source, count in counts.items() for i in range(count)]


def test_balanced_sampling_draws_every_source_equally(monkeypatch):
    pairs = fake_pairs({"big": 60, "small": 3, "middle": 12})
    arrays = (np.zeros((len(pairs), 16, 16, 3), "uint8"), np.zeros((len(pairs), 16, 16), "uint8"))
    monkeypatch.setattr("skin_segmentation.data.pipeline.load_arrays", lambda *args, **kwargs: arrays)
    from skin_segmentation.data import pipeline

    indices = pipeline._index_stream(pairs, shuffle=True, seed=0, repeat=False, balance_sources=True,
                                     epoch_images=3000)
    counts = collections.Counter(pairs[int(i)].source for i in indices)
    assert sum(counts.values()) == 3000
    assert all(abs(count - 1000) < 100 for count in counts.values())
    dataset = make_dataset(pairs, 16, 10, augment="tf", shuffle=True, balance_sources=True, epoch_images=30)
    assert sum(int(images.shape[0]) for images, _ in dataset) == 30
    few = pairs[:5]  # an epoch of more images than pairs passes over them several times
    indices = pipeline._index_stream(few, shuffle=True, seed=0, repeat=False, balance_sources=False,
                                     epoch_images=12)
    assert sorted(collections.Counter(int(i) for i in indices).values()) == [2, 2, 2, 3, 3]


def test_robust_profile_switches_are_on_and_paper_is_untouched():
    robust, paper = get_profile("robust"), get_profile("paper")
    assert (robust.closeup, robust.photometric, robust.lesions, robust.balance_sources) == (0.5, 0.8, 0.3, True)
    assert (paper.closeup, paper.photometric, paper.lesions, paper.balance_sources) == (0.0, 0.0, 0.0, False)
    assert paper.dataset_options()["closeup"] is None
    assert (robust.standardization, paper.standardization) == ("fixed", "per_image")
    assert robust.image_size == paper.image_size == 128
    with pytest.raises(ValueError, match="lesions"):
        robust.replace(lesions=1.5)


def test_an_all_zero_mask_is_a_valid_pair(tmp_path):
    from PIL import Image

    from skin_segmentation.data.inspect import inspect_dataset
    from skin_segmentation.data.readers import load_pair, read_dataset

    for part in ("images", "masks"):
        (tmp_path / part).mkdir()
    Image.fromarray(np.full((24, 32, 3), 180, "uint8")).save(tmp_path / "images" / "room.jpg")
    Image.fromarray(np.zeros((24, 32), "uint8")).save(tmp_path / "masks" / "room.png")
    pairs = read_dataset(tmp_path)
    image, mask = load_pair(pairs[0])
    assert image.shape == (24, 32, 3) and mask.sum() == 0
    summary = inspect_dataset(tmp_path)
    assert (summary["usable"], summary["problem_count"], summary["skin_fraction"]["max"]) == (1, 0, 0.0)
    _, masks = next(iter(make_dataset(pairs, 16, 1, augment="tf", closeup=CloseupConfig(1.0), lesions=1.0)))
    assert float(masks.numpy().sum()) == 0.0
