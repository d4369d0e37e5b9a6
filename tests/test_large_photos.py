"""Large photographs: a clear refusal above the pixel limit, bounded memory below it.

The memory itself is measured by experiments/large_photo_memory.py (not a timed
test); here the band-by-band computations that bound it must give exactly what
the whole-image ones give.
"""

import warnings

import numpy as np
import pytest
from PIL import Image

from skin_segmentation import masks
from skin_segmentation.cli import main
from skin_segmentation.data.readers import DataError, load_image
from skin_segmentation.inference import (
    confidence_to_mask,
    overlay_mask,
    predict_confidence,
    predict_files,
    resize_confidence,
    resized_mask,
)


@pytest.mark.parametrize("size", [(37, 53), (128, 300), (1100, 333), (999, 1601), (100, 50)])
def test_resize_confidence_is_kerass_bilinear_resize_bit_for_bit(size):
    from keras import ops

    confidence = np.random.default_rng(size[0]).random((128, 128), dtype=np.float32)
    expected = ops.convert_to_numpy(ops.image.resize(
        confidence[None, ..., None], size, interpolation="bilinear", antialias=False,
        data_format="channels_last"))[0, ..., 0]
    resized = resize_confidence(confidence, *size)
    assert resized.dtype == np.float32 and resized.shape == size
    np.testing.assert_array_equal(resized, expected)


def test_masks_and_overlays_in_bands_equal_the_whole_image_ones(monkeypatch):
    from skimage.segmentation import find_boundaries

    rng = np.random.default_rng(3)
    confidence = rng.random((16, 16), dtype=np.float32)
    image = rng.integers(0, 256, (203, 157, 3), dtype=np.uint8)
    whole_mask = confidence_to_mask(resize_confidence(confidence, 203, 157))
    # The old whole-image overlay: one float32 copy of the photograph.
    skin = whole_mask > 0
    expected = image.astype("float32")
    expected[skin] = 0.6 * expected[skin] + 0.4 * np.array([0, 255, 0], "float32")
    expected[find_boundaries(skin, mode="inner")] = (0, 255, 0)
    expected = np.clip(np.round(expected), 0, 255).astype("uint8")
    for rows in (512, 10, 7, 1):
        monkeypatch.setattr(masks, "BAND_ROWS", rows)
        np.testing.assert_array_equal(resized_mask(confidence, 203, 157), whole_mask)
        np.testing.assert_array_equal(overlay_mask(image, whole_mask), expected)
    assert 0 < np.count_nonzero(whole_mask) < whole_mask.size


def test_confidence_to_mask_makes_no_wide_copy():
    confidence = np.linspace(0, 1, 11, dtype=np.float32)
    mask = confidence_to_mask(confidence)
    assert mask.dtype == np.uint8 and mask.tolist() == [0] * 5 + [255] * 6


def test_predict_files_batches_by_pixels_with_the_same_masks(red_weights, tmp_path, monkeypatch):
    import keras

    from skin_segmentation import inference

    rng = np.random.default_rng(5)
    paths = []
    for index, size in enumerate([(40, 60), (90, 70), (33, 33), (40, 40)]):
        paths.append(tmp_path / f"photo_{index}.png")
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(paths[-1])
    model = keras.models.load_model(red_weights)
    calls = []
    real_predict = inference.predict_confidence

    def counting(model, images, *args, **kwargs):
        calls.append(len(images))
        return real_predict(model, images, *args, **kwargs)

    monkeypatch.setattr(inference, "BATCH_PIXELS", 6000)
    monkeypatch.setattr(inference, "predict_confidence", counting)
    written = predict_files(model, paths, tmp_path / "out", batch_size=16)
    assert calls == [1, 1, 2]  # pixels 2400 | 6300 (alone over the budget) | 1089 + 1600
    for row, path in zip(written, paths):
        expected = confidence_to_mask(real_predict(model, [load_image(path)])[0])
        np.testing.assert_array_equal(np.asarray(Image.open(row["mask"])), expected)


@pytest.fixture
def small_pixel_limit(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)


def test_over_the_pixel_limit_is_one_clear_error_and_no_pillow_warning(
        small_pixel_limit, tmp_path, capsys):
    path = tmp_path / "huge.png"
    Image.new("RGB", (40, 40)).save(path)  # 1600 pixels: where Pillow only warns
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataError, match="image is too large to decode: its header claims "
                                            "1,600 pixels, more than the limit of 1,000"):
            load_image(path)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert main(["predict", str(path), "--out", str(tmp_path / "out"), "--model", "ycrcb",
                 "--strict"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(path) in error and "Traceback" not in error


def test_predict_confidence_can_leave_the_maps_at_the_networks_size(red_weights):
    import keras

    model = keras.models.load_model(red_weights)
    photo = np.random.default_rng(0).integers(0, 256, (70, 50, 3), dtype=np.uint8)
    (small,) = predict_confidence(model, [photo], resize=False)
    (full,) = predict_confidence(model, [photo])
    assert small.shape == (32, 32) and full.shape == (70, 50)
    np.testing.assert_array_equal(resize_confidence(small, 70, 50), full)
