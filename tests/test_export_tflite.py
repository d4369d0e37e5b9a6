"""`skinseg export --format tflite`: the SavedModel's contract at a fixed size.

The `.tflite` takes uint8 photos already resized to the model's input size and
returns skin confidence; `TFLiteSkinModel` does the resizes around it, so its
masks must be Keras's (`predict_confidence`): on the shipped sample with the
bundled U-Net, on at least 99.9% of the pixels.
"""

import json

import numpy as np
import pytest

from skin_segmentation import build_model
from skin_segmentation.cli import main
from skin_segmentation.data.examples import example_photos
from skin_segmentation.data.readers import load_image, read_dataset
from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.inference import predict_confidence
from skin_segmentation.export_tflite import (
    INPUT_NAME,
    OUTPUT_NAME,
    SIGNATURE_NAME,
    TFLiteSkinModel,
    compare_with_keras,
    export_tflite,
)
from skin_segmentation.weights import BUNDLED_WEIGHTS, load_skin_model

MIN_AGREEMENT = 0.999


@pytest.fixture(scope="module")
def tiny_unet():
    import keras

    keras.utils.set_random_seed(3)
    return build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16))


@pytest.fixture(scope="module")
def bundled():
    if not BUNDLED_WEIGHTS.is_file():
        pytest.skip("no bundled weights in this checkout")
    return load_skin_model(BUNDLED_WEIGHTS)


@pytest.fixture(scope="module")
def sample_photos():
    """The example photographs and every 10th photograph of each sample set (74)."""
    pretrain, target = sample_datasets()
    photos = [load_image(path) for path in example_photos()]
    for folder in [target, *pretrain]:
        photos += [load_image(pair.image) for pair in read_dataset(folder)[::10]]
    return photos


def test_the_file_has_the_savedmodel_signature_at_the_model_size(tiny_unet, tmp_path):
    from skin_segmentation.export_tflite import _make_interpreter

    path = export_tflite(tiny_unet, tmp_path / "tiny.tflite")
    runner = _make_interpreter(path).get_signature_runner(SIGNATURE_NAME)
    (name, given), = runner.get_input_details().items()
    (output, returned), = runner.get_output_details().items()
    assert (name, output) == (INPUT_NAME, OUTPUT_NAME)
    assert given["dtype"] == np.uint8 and list(given["shape_signature"]) == [-1, 32, 32, 3]
    assert returned["dtype"] == np.float32 and list(returned["shape_signature"]) == [-1, 32, 32, 1]


def test_photos_of_any_size_give_kerass_confidence(tiny_unet, tmp_path):
    lite = TFLiteSkinModel(export_tflite(tiny_unet, tmp_path / "tiny.tflite"))
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(37, 53, 3), (200, 31, 3), (1, 1, 3)]]
    for photo, expected, ours in zip(photos, predict_confidence(tiny_unet, photos),
                                     lite.predict_confidence(photos)):
        assert ours.shape == photo.shape[:2] and ours.dtype == np.float32
        np.testing.assert_allclose(ours, expected, atol=1e-5)


@pytest.mark.slow
def test_the_bundled_unet_masks_agree_with_keras_on_the_sample(bundled, sample_photos, tmp_path):
    lite = TFLiteSkinModel(export_tflite(bundled, tmp_path / "unet.tflite"))
    check = compare_with_keras(lite, bundled, sample_photos)
    print(f"float32 TFLite vs Keras on {check['images']} sample photographs: {check}")
    assert check["images"] == 74
    assert check["mask_agreement"] >= MIN_AGREEMENT
    assert check["max_abs_difference"] < 1e-3


@pytest.mark.slow
def test_float16_halves_the_file_and_keeps_the_masks(bundled, sample_photos, tmp_path):
    full = export_tflite(bundled, tmp_path / "unet.tflite")
    half = export_tflite(bundled, tmp_path / "unet_fp16.tflite", quantize="float16")
    ratio = half.stat().st_size / full.stat().st_size
    check = compare_with_keras(TFLiteSkinModel(half), bundled, sample_photos)
    print(f"float16 TFLite: {ratio:.3f} of the float32 file; vs Keras: {check}")
    assert 0.45 < ratio < 0.55
    assert check["mask_agreement"] >= MIN_AGREEMENT


def test_the_command_writes_and_checks_the_file(red_weights, tmp_path, capsys):
    out = tmp_path / "exported" / "red.tflite"
    assert main(["export", "--format", "tflite", "--out", str(out), "--weights", str(red_weights)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["tflite"] == str(out) and report["bytes"] == out.stat().st_size
    assert report["input"] == [INPUT_NAME, "uint8", [1, 32, 32, 3]]
    assert report["examples_mask_agreement"] == 1.0
    assert report["examples_max_abs_difference"] < 1e-5
    assert [path.name for path in tmp_path.joinpath("exported").iterdir()] == ["red.tflite"]


def test_bad_requests_are_one_line_errors(red_weights, tiny_unet, tmp_path, capsys):
    assert main(["export", "--format", "tflite", "--out", str(tmp_path / "red.bin"),
                 "--weights", str(red_weights)]) == 2
    assert "red.bin: a TFLite file's name must end in .tflite" in capsys.readouterr().err
    assert main(["export", "--quantize", "float16", "--out", str(tmp_path / "saved"),
                 "--weights", str(red_weights)]) == 2
    assert "--quantize applies to --format tflite only" in capsys.readouterr().err
    with pytest.raises(ValueError, match="quantize='int4'"):
        export_tflite(tiny_unet, tmp_path / "x.tflite", quantize="int4")
    (tmp_path / "photo.tflite").write_bytes(b"\xff\xd8 a JPEG, not a model")
    with pytest.raises(ValueError, match=r"photo.tflite: not a TFLite skin model"):
        TFLiteSkinModel(tmp_path / "photo.tflite")
