"""`skinseg export`: a SavedModel taking uint8 photos, usable without this package.

The check that matters runs in a separate Python process that imports only
TensorFlow and NumPy: it loads the SavedModel, runs photographs of two sizes
through `serving_default`, and its confidence must equal `predict_confidence`'s
(the path `skinseg predict` takes) to 1e-4.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from skin_segmentation import build_model
from skin_segmentation.cli import main
from skin_segmentation.data.pipeline import resize_image
from skin_segmentation.inference import predict_confidence
from skin_segmentation.export import EXPORT_INFO_NAME, export_saved_model
from skin_segmentation.pillow_resize import pillow_bilinear_resize, pillow_pass_order

SERVE_WITHOUT_THE_PACKAGE = r"""
import json, sys
import numpy as np
import tensorflow as tf

loaded = tf.saved_model.load(sys.argv[1])
serving = loaded.signatures["serving_default"]
batches = np.load(sys.argv[2])
outputs = {}
for name in batches.files:
    result = serving(images=tf.constant(batches[name]))
    outputs[name] = result["skin_confidence"].numpy()
np.savez(sys.argv[3], **outputs)
inputs = serving.structured_input_signature[1]
print(json.dumps({
    "package_imported": "skin_segmentation" in sys.modules,
    "inputs": {k: [v.dtype.name, v.shape.as_list()] for k, v in inputs.items()},
    "outputs": {k: [v.dtype.name, v.shape.as_list()] for k, v in serving.structured_outputs.items()},
    "dtypes": {k: str(v.dtype) for k, v in outputs.items()},
}))
"""


def sharp_model(size=32):
    """A 1x1 convolution with large weights: confidence moves with every grey level."""
    import keras

    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid", name="sharp")(inputs)
    model = keras.Model(inputs, outputs, name="sharp")
    model.get_layer("sharp").set_weights([np.array([3.0, -2.0, 1.5]).reshape(1, 1, 3, 1), np.zeros(1)])
    return model


def tiny_unet():
    import keras

    keras.utils.set_random_seed(5)
    return build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16))


@pytest.mark.parametrize(
    "height, width",
    [(37, 53), (200, 120), (97, 33), (33, 97), (16, 16), (8, 70), (300, 299), (511, 40)],
)
def test_graph_resize_is_pillows_bit_for_bit(height, width):
    import tensorflow as tf

    image = np.random.default_rng(height * 1000 + width).integers(0, 256, (height, width, 3), dtype=np.uint8)
    for size in (16, 32):
        ours = pillow_bilinear_resize(tf.constant(image[None]), size, size)[0].numpy()
        np.testing.assert_array_equal(ours, resize_image(image, size))


def test_pillow_pass_order_is_detected_from_pillow_itself():
    import PIL

    order = pillow_pass_order()
    major = int(PIL.__version__.split(".")[0])
    assert order == ("vertical_first_when_taller_reduction" if major >= 13 else "horizontal_first")


@pytest.mark.parametrize("make_model", [sharp_model, tiny_unet], ids=["sharp", "tiny_unet"])
def test_saved_model_matches_predict_in_a_process_without_the_package(make_model, tmp_path):
    model = make_model()
    exported = export_saved_model(model, tmp_path / "exported")
    assert (exported / "saved_model.pb").is_file()
    info = json.loads((exported / EXPORT_INFO_NAME).read_text())
    assert info["model_image_size"] == [32, 32] and info["output"]["name"] == "skin_confidence"

    rng = np.random.default_rng(0)
    batches = {
        "two_small": rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8),
        "one_tall": rng.integers(0, 256, (1, 200, 120, 3), dtype=np.uint8),
    }
    np.savez(tmp_path / "batches.npz", **batches)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_THE_PACKAGE, str(exported),
         str(tmp_path / "batches.npz"), str(tmp_path / "outputs.npz")],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["package_imported"] is False
    assert report["inputs"] == {"images": ["uint8", [None, None, None, 3]]}
    assert report["outputs"] == {"skin_confidence": ["float32", [None, None, None, 1]]}

    outputs = np.load(tmp_path / "outputs.npz")
    for name, batch in batches.items():
        served = outputs[name]
        assert served.shape == (*batch.shape[:3], 1)
        expected = np.stack(predict_confidence(model, list(batch)))
        np.testing.assert_allclose(served[..., 0], expected, atol=1e-4, rtol=0)
        assert ((served[..., 0] >= 0.5) == (expected >= 0.5)).mean() > 0.999
        # Not a constant map: the check would be empty otherwise.
        assert expected.std() > (0.05 if make_model is sharp_model else 1e-4)


def test_cli_exports_and_checks_itself(tmp_path, capsys):
    weights = tmp_path / "sharp.keras"
    sharp_model().save(weights)
    out = tmp_path / "served"
    assert main(["export", "--weights", str(weights), "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["saved_model"] == str(out) and report["model_image_size"] == [32, 32]
    assert report["max_abs_difference_from_predict"] < 1e-4
    assert json.loads((out / EXPORT_INFO_NAME).read_text())["weights"] == str(weights)


def test_export_refuses_a_file_as_folder(tmp_path, capsys):
    weights = tmp_path / "sharp.keras"
    sharp_model().save(weights)
    (tmp_path / "taken").write_text("")
    assert main(["export", "--weights", str(weights), "--out", str(tmp_path / "taken")]) == 2
    assert "taken: exists and is not a folder" in capsys.readouterr().err


def test_signature_refuses_grey_and_rgba_saying_what_it_expects(tmp_path):
    import tensorflow as tf

    exported = export_saved_model(sharp_model(), tmp_path / "exported")
    serving = tf.saved_model.load(str(exported)).signatures["serving_default"]
    rgb = np.random.default_rng(0).integers(0, 256, (1, 20, 30, 3), dtype=np.uint8)
    assert serving(images=tf.constant(rgb))["skin_confidence"].shape == (1, 20, 30, 1)
    wrong = {
        "grey (H, W)": (rgb[0, ..., 0], "[20 30]"),
        "grey (B, H, W, 1)": (rgb[..., :1], "[1 20 30 1]"),
        "RGBA (B, H, W, 4)": (np.concatenate([rgb, rgb[..., :1]], axis=-1), "[1 20 30 4]"),
        "one image (H, W, 3)": (rgb[0], "[20 30 3]"),
    }
    for name, (images, shape) in wrong.items():
        with pytest.raises(tf.errors.InvalidArgumentError) as raised:
            serving(images=tf.constant(images))
        message = str(raised.value)
        assert "images must be uint8 [batch, height, width, 3]" in message, name
        assert f"received shape] {shape}" in message, name


def test_export_replaces_an_earlier_export_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "served"
    export_saved_model(sharp_model(), out, weights="first.keras")
    (out / "stale_file_of_the_old_export").write_text("")
    export_saved_model(tiny_unet(), out, weights="second.keras")
    assert json.loads((out / EXPORT_INFO_NAME).read_text())["weights"] == "second.keras"
    assert not (out / "stale_file_of_the_old_export").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["served"]
