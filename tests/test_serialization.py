"""A `.keras` file of every preset reloads in a fresh process without custom_objects."""

import json
import subprocess
import sys

import numpy as np
import pytest

from skin_segmentation import DiceCoefficient, JaccardDistance, JaccardIndex
from skin_segmentation.models import PRESETS, build_model
from skin_segmentation.weights import BUNDLED_WEIGHTS

RELOAD = """
import json, sys
import numpy as np
import keras
import skin_segmentation  # registers the custom objects
model = keras.models.load_model(sys.argv[1])
images = np.load(sys.argv[2])
np.save(sys.argv[3], model.predict(images, verbose=0))
print(json.dumps({"loss": type(model.loss).__name__, "optimizer": type(model.optimizer).__name__}))
"""


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_saved_preset_reloads_and_predicts_identically(name, tmp_path):
    # The preset's own architecture at 32x32, so the FC bottleneck stays small.
    import keras

    model = build_model(name, input_shape=(32, 32, 3))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss=JaccardDistance(),
        metrics=[JaccardIndex(), DiceCoefficient()],
    )
    images = np.random.default_rng(2).normal(size=(2, 32, 32, 3)).astype("float32")
    expected = model.predict(images, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    np.save(tmp_path / "images.npy", images)
    result = subprocess.run(
        [sys.executable, "-c", RELOAD, str(path), str(tmp_path / "images.npy"), str(tmp_path / "out.npy")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info == {"loss": "JaccardDistance", "optimizer": "SGD"}
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


PLAIN_KERAS_RELOAD = """
import sys
import numpy as np
import keras
model = keras.saving.load_model(sys.argv[1], compile=False)
assert "skin_segmentation" not in sys.modules
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
"""


def test_saved_network_loads_in_keras_without_the_package(tmp_path):
    model = build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    images = np.random.default_rng(3).normal(size=(2, 32, 32, 3)).astype("float32")
    expected = model.predict(images, verbose=0)
    model.save(tmp_path / "plain.keras")
    np.save(tmp_path / "images.npy", images)
    result = subprocess.run(
        [sys.executable, "-c", PLAIN_KERAS_RELOAD, str(tmp_path / "plain.keras"),
         str(tmp_path / "images.npy"), str(tmp_path / "out.npy")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


@pytest.mark.skipif(not BUNDLED_WEIGHTS.is_file(), reason="no bundled weights in this checkout")
def test_the_bundled_weights_load_in_keras_without_the_package(tmp_path):
    from skin_segmentation.weights import load_skin_model, model_image_size

    model = load_skin_model(BUNDLED_WEIGHTS)
    size = model_image_size(model)
    images = np.random.default_rng(5).normal(size=(1, *size, 3)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    result = subprocess.run(
        [sys.executable, "-c", PLAIN_KERAS_RELOAD, str(BUNDLED_WEIGHTS),
         str(tmp_path / "images.npy"), str(tmp_path / "out.npy")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), model.predict(images, verbose=0), atol=1e-6)


def test_file_with_the_old_rescaled_tanh_head_still_loads(tmp_path):
    import keras

    from skin_segmentation.models import RescaledTanh

    inputs = keras.Input((8, 8, 3))
    logit = keras.layers.Conv2D(1, 1, name="logit")(inputs)
    old = keras.Model(inputs, RescaledTanh(name="confidence")(logit))
    old.save(tmp_path / "old.keras")
    images = np.random.default_rng(4).normal(size=(1, 8, 8, 3)).astype("float32")
    reloaded = keras.models.load_model(tmp_path / "old.keras", compile=False)
    np.testing.assert_allclose(reloaded.predict(images, verbose=0), old.predict(images, verbose=0))
