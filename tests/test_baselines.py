"""Baselines without a network: the explicit colour rules on hand-computed pixels,
the Bayesian colour histogram on two synthetic colour populations."""

import numpy as np
import pytest
from PIL import Image

from skin_segmentation import metrics
from skin_segmentation.baselines import (
    BASELINES,
    AllSkin,
    HistogramClassifier,
    HSVRule,
    YCrCbRule,
    choose_threshold,
    colour_bins,
    count_colours,
    fit_histogram,
    get_baseline,
    load_histogram,
    rgb_to_crcb,
    rgb_to_hue_saturation,
)
from skin_segmentation.data.readers import read_folder

SKIN_COLOUR = (200, 140, 120)
SKY_COLOUR = (40, 90, 200)


def one_row(*pixels):
    return np.array([pixels], dtype=np.uint8)


def test_crcb_matches_hand_computation_and_pillow():
    # Cr = 128 + 0.5 R - 0.418688 G - 0.081312 B; Cb = 128 - 0.168736 R - 0.331264 G + 0.5 B
    np.testing.assert_allclose(rgb_to_crcb(one_row(SKIN_COLOUR))[0, 0], [159.62624, 107.87584], atol=1e-3)
    np.testing.assert_allclose(rgb_to_crcb(one_row((128, 128, 128)))[0, 0], [128.0, 128.0], atol=1e-4)
    # Pillow's JPEG conversion is the same full-range BT.601, rounded to integers.
    pixels = np.random.default_rng(0).integers(0, 256, (1, 500, 3), dtype=np.uint8)
    pillow = np.asarray(Image.fromarray(pixels).convert("YCbCr"), "float32")[..., [2, 1]]
    assert np.abs(rgb_to_crcb(pixels) - pillow).max() <= 1.0


@pytest.mark.parametrize(
    "pixel, skin",
    [
        (SKIN_COLOUR, True),  # Cr 159.6, Cb 107.9
        ((90, 60, 45), True),  # dark skin: Cr 144.2, Cb 115.4
        (SKY_COLOUR, False),  # Cb 176
        ((128, 128, 128), False),  # grey: Cr 128 < 133
        ((60, 160, 60), False),  # green: Cr 86
        ((255, 0, 0), False),  # saturated red: Cr 255.5 > 173
    ],
)
def test_ycrcb_rule_on_hand_computed_pixels(pixel, skin):
    assert YCrCbRule().predict([one_row(pixel)])[0][0, 0] == float(skin)


def test_hue_saturation_match_skimage():
    from skimage.color import rgb2hsv

    pixels = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    pixels[0, :3] = [(0, 0, 0), (90, 90, 90), (255, 255, 0)]  # black, grey, R = G
    hue, saturation = rgb_to_hue_saturation(pixels)
    reference = rgb2hsv(pixels)
    np.testing.assert_allclose(hue, reference[..., 0] * 360, atol=1e-3)
    np.testing.assert_allclose(saturation, reference[..., 1], atol=1e-6)


@pytest.mark.parametrize(
    "pixel, skin",
    [
        (SKIN_COLOUR, True),  # H 15, S 0.40
        ((200, 120, 120), True),  # H 0 (the bound), S 0.40
        ((200, 180, 120), True),  # H 45, S 0.40
        ((200, 190, 120), False),  # H 52.5 > 50
        ((203, 192, 137), True),  # H 50 exactly: the bounds are inclusive
        ((200, 170, 160), False),  # S 0.20 < 0.23
        ((200, 100, 60), False),  # S 0.70 > 0.68
        ((100, 80, 70), True),  # H 20, S 0.30
        (SKY_COLOUR, False),  # H 223
    ],
)
def test_hsv_rule_on_hand_computed_pixels(pixel, skin):
    assert HSVRule().predict([one_row(pixel)])[0][0, 0] == float(skin)


@pytest.mark.parametrize("name", ["all_skin", "ycrcb", "hsv"])
def test_rules_give_float32_maps_at_each_photos_own_size(name):
    baseline = get_baseline(name)
    photos = [np.zeros((37, 53, 3), np.uint8), np.full((1100, 9, 3), 150, np.uint8)]
    confidences = baseline.predict(photos)
    assert [c.shape for c in confidences] == [(37, 53), (1100, 9)]
    assert all(c.dtype == np.float32 and 0 <= c.min() and c.max() <= 1 for c in confidences)


def test_all_skin_is_all_ones():
    assert AllSkin().predict([np.zeros((3, 4, 3), np.uint8)])[0].tolist() == [[1.0] * 4] * 3


def test_rule_blocks_agree_with_one_pass(monkeypatch):
    """Photographs taller than a block are cut into blocks of rows and pasted back in place."""
    from skin_segmentation.baselines import rules

    photo = np.random.default_rng(1).integers(0, 256, (50, 7, 3), dtype=np.uint8)
    whole = YCrCbRule().predict([photo])[0]
    monkeypatch.setattr(rules, "ROWS_PER_BLOCK", 8)
    np.testing.assert_array_equal(YCrCbRule().predict([photo])[0], whole)


def test_bad_photo_and_bad_names_raise():
    with pytest.raises(ValueError, match=r"images\[0\].*float32"):
        YCrCbRule().predict([np.zeros((4, 4, 3), np.float32)])
    with pytest.raises(ValueError, match="Unknown baseline 'nope'"):
        get_baseline("nope")
    with pytest.raises(ValueError, match="histogram baseline is trained"):
        get_baseline("histogram")
    with pytest.raises(ValueError, match="has no weights"):
        get_baseline("ycrcb", weights="x.npz")
    assert set(BASELINES) == {"all_skin", "ycrcb", "hsv", "histogram"}


# --------------------------------------------------------------------------- histogram


def test_colour_bins_and_counts():
    assert colour_bins(one_row((0, 0, 0), (7, 7, 7), (8, 0, 0), (255, 255, 255))).tolist() == [
        [0, 0, 1024, 32767]
    ]
    image = one_row((0, 0, 0), (255, 0, 0), (250, 10, 0))
    skin, non_skin = count_colours(image, np.array([[0, 1, 1]]), bins=2)
    assert skin.tolist() == [0, 0, 0, 0, 2, 0, 0, 0]
    assert non_skin.tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="mask must have the image's height and width"):
        count_colours(image, np.ones((2, 3)))


def test_choose_threshold_takes_the_best_f1_cut():
    # Cells with ratios 4, 1, 0.25 hold validation skin 9, 1, 0 and non-skin 1, 9, 10:
    # cutting at 4 keeps tp 9, fp 1, fn 1 (F1 0.9); at 1, tp 10, fp 10 (F1 0.67).
    theta, f1 = choose_threshold(np.array([4.0, 1.0, 0.25]), np.array([9, 1, 0]), np.array([1, 9, 10]))
    assert theta == 4.0 and f1 == pytest.approx(0.9)
    # With the middle cell mostly skin, the looser cut wins: tp 19, fp 2 -> F1 0.95.
    theta, f1 = choose_threshold(np.array([4.0, 1.0, 0.25]), np.array([9, 10, 0]), np.array([1, 1, 10]))
    assert theta == 1.0 and f1 == pytest.approx(2 * 19 / (2 * 19 + 2))
    # Cells seen only on skin (ratio inf) pass every cut; a cut above all finite ratios exists.
    theta, f1 = choose_threshold(np.array([np.inf, 2.0]), np.array([5, 0]), np.array([0, 5]))
    assert theta == 4.0 and f1 == 1.0


def noisy_population(rng, colour, shape, spread=6):
    values = rng.normal(colour, spread, size=(*shape, 3))
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def write_two_population_pairs(folder, rng, count, size=48):
    """Photos whose skin (a random box) is SKIN_COLOUR +- noise on a SKY_COLOUR +- noise ground."""
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for index in range(count):
        image = noisy_population(rng, SKY_COLOUR, (size, size))
        mask = np.zeros((size, size), np.uint8)
        top, left = rng.integers(0, size // 2, 2)
        mask[top : top + size // 2, left : left + size // 3] = 255
        image[mask > 0] = noisy_population(rng, SKIN_COLOUR, (int((mask > 0).sum()),))
        Image.fromarray(image).save(folder / "images" / f"{folder.name}_{index}.png")
        Image.fromarray(mask).save(folder / "masks" / f"{folder.name}_{index}.png")
    return read_folder(folder)


@pytest.fixture(scope="module")
def two_populations(tmp_path_factory):
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("populations")
    train = write_two_population_pairs(root / "train", rng, 6)
    validation = write_two_population_pairs(root / "validation", rng, 3)
    test = write_two_population_pairs(root / "test", rng, 3)
    return train, validation, test


def test_histogram_separates_two_colour_populations(two_populations):
    from skin_segmentation.data.readers import load_pair

    train, validation, test = two_populations
    model = fit_histogram(train, validation, bins=32)
    assert model.info["train_pairs"] == 6 and model.info["validation_pairs"] == 3
    assert model.info["train_skin_pixels"] == 6 * 24 * 16
    assert model.info["validation_pixel_f1"] > 0.99
    for pair in test:
        image, mask = load_pair(pair)
        confidence = model.predict([image])[0]
        assert confidence.dtype == np.float32 and confidence.shape == mask.shape
        assert metrics.jaccard_index(mask, confidence) > 0.97
    # A colour seen in neither population is not skin; the populations' centres are.
    centres = model.predict([one_row(SKIN_COLOUR, SKY_COLOUR, (0, 255, 0))])[0][0]
    assert centres[0] >= 0.5 and centres[1] < 0.5 and centres[2] == 0.0


def test_histogram_saves_and_reloads_the_same_model(two_populations, tmp_path):
    train, validation, test = two_populations
    model = fit_histogram(train, validation, bins=16)
    path = model.save(tmp_path / "histogram.npz")
    assert path.stat().st_size < 100_000
    loaded = get_baseline("histogram", weights=path)
    assert loaded.bins == 16 and loaded.threshold == model.threshold and loaded.info == model.info
    photo = np.random.default_rng(2).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(loaded.predict([photo])[0], model.predict([photo])[0])


def test_histogram_confidence_is_half_exactly_at_the_threshold():
    skin = np.zeros(8, np.int64)
    non_skin = np.zeros(8, np.int64)
    skin[[4, 5]] = [6, 4]  # P(c|skin): 0.6, 0.4
    non_skin[[4, 5, 0]] = [2, 4, 4]  # P(c|non-skin): 0.2, 0.4, 0.4 -> ratios 3 and 1
    model = HistogramClassifier(skin, non_skin, threshold=1.0)
    confidence = model.predict([one_row((200, 0, 0), (200, 0, 200), (0, 0, 0))])[0][0]
    np.testing.assert_allclose(confidence, [3 / 4, 1 / 2, 0.0])


def test_histogram_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="bins\\^3 cells"):
        HistogramClassifier(np.ones(8), np.ones(9), 1.0)
    with pytest.raises(ValueError, match="threshold"):
        HistogramClassifier(np.ones(8), np.ones(8), 0.0)
    with pytest.raises(ValueError, match="training and validation pairs"):
        fit_histogram([], [])
    with pytest.raises(FileNotFoundError, match="no such histogram model"):
        load_histogram(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz: not a zip archive .* expected a histogram model"):
        load_histogram(tmp_path / "junk.npz")
    model = HistogramClassifier(np.ones(8), np.ones(8), 1.0)
    with pytest.raises(ValueError, match="saved as a .npz"):
        model.save(tmp_path / "model.keras")
