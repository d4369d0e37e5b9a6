"""Input standardization: the paper's per image, or fixed scaling inside the network.

Per-image standardization makes an image and the same image under another gain
identical inputs, so the network cannot see absolute colour; a `"fixed"` network
takes raw pixels and scales them itself, and every path that feeds a network
(training batches, `predict_confidence`, Table I's evaluation, the SavedModel)
must feed it what it expects.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from skin_segmentation.cli import main
from skin_segmentation.data.pipeline import load_arrays, make_dataset, model_inputs
from skin_segmentation.data.readers import read_folder
from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.export import export_saved_model
from skin_segmentation.inference import predict_confidence
from skin_segmentation.models import build_model, standardization_of
from skin_segmentation.profiles import get_profile
from skin_segmentation.scenarios import EvaluationSet
from skin_segmentation.training import build_for_profile, network_to_fine_tune
from skin_segmentation.weights import load_skin_model

TINY = dict(input_shape=(32, 32, 3), filters=(4, 8, 16))


def test_fixed_network_scales_raw_pixels_to_unit_range_in_its_first_layer():
    model = build_model("unet", standardization="fixed", **TINY)
    scaling = model.get_layer("unet_pixel_scaling")
    pixels = np.array([0.0, 63.75, 127.5, 255.0], "float32").reshape(1, 1, 4, 1).repeat(3, -1)
    np.testing.assert_allclose(np.asarray(scaling(pixels))[0, 0, :, 0], [-1.0, -0.5, 0.0, 1.0])
    assert standardization_of(model) == "fixed"
    assert standardization_of(build_model("unet", **TINY)) == "per_image"


def test_only_fixed_standardization_keeps_a_change_of_exposure():
    rng = np.random.default_rng(0)
    photo = rng.integers(40, 120, (1, 8, 8, 3)).astype("uint8")
    brighter = (photo * 2).astype("uint8")
    np.testing.assert_allclose(model_inputs(photo), model_inputs(brighter), atol=1e-5)
    np.testing.assert_array_equal(model_inputs(brighter, "fixed"), 2 * model_inputs(photo, "fixed"))


def test_the_paper_profile_builds_per_image_networks_and_a_fixed_profile_fixed_ones():
    assert get_profile("paper").standardization == "per_image"
    tiny = get_profile("tiny")
    assert standardization_of(build_for_profile("unet", tiny)) == "per_image"
    fixed = build_for_profile("dense_residual_unet", tiny.replace(standardization="fixed"))
    assert standardization_of(fixed) == "fixed"


def test_a_saved_fixed_network_loads_with_its_scaling(tmp_path):
    path = tmp_path / "fixed.keras"
    build_model("unet", standardization="fixed", **TINY).save(path)
    assert standardization_of(load_skin_model(path)) == "fixed"


def test_training_batches_of_a_fixed_network_are_the_pixels_themselves():
    pairs = read_folder(sample_datasets()[1])[:6]
    images, _ = load_arrays(pairs, 32)
    batch, _ = next(iter(make_dataset(pairs, image_size=32, batch_size=6, standardization="fixed")))
    np.testing.assert_array_equal(batch.numpy(), images.astype("float32"))
    standardized, _ = next(iter(make_dataset(pairs, image_size=32, batch_size=6)))
    np.testing.assert_allclose(standardized.numpy().mean(axis=(1, 2)), 0.0, atol=1e-4)


def test_predict_and_table_evaluation_feed_a_fixed_network_raw_pixels():
    model = build_model("unet", standardization="fixed", **TINY)
    pairs = read_folder(sample_datasets()[1])[:3]
    evaluation = EvaluationSet(pairs, 32)
    inputs = evaluation.inputs_for(model)
    np.testing.assert_array_equal(inputs, evaluation.images_uint8.astype("float32"))
    expected = model.predict(inputs, verbose=0)[..., 0]
    confidences = predict_confidence(model, list(evaluation.images_uint8))
    np.testing.assert_allclose(np.stack(confidences), expected, atol=1e-5)


def test_the_saved_model_of_a_fixed_network_matches_predict(tmp_path):
    model = build_model("unet", standardization="fixed", **TINY)
    photo = np.random.default_rng(1).integers(0, 256, (45, 61, 3)).astype("uint8")
    export_saved_model(model, tmp_path / "exported")
    serve = tf.saved_model.load(str(tmp_path / "exported")).signatures["serving_default"]
    served = next(iter(serve(tf.constant(photo[None])).values())).numpy()[0, ..., 0]
    np.testing.assert_allclose(served, predict_confidence(model, [photo])[0], atol=1e-4)


def test_fine_tuning_keeps_the_networks_standardization_and_warm_start_takes_the_profiles(
    tmp_path, capsys
):
    saved = tmp_path / "per_image.keras"
    build_model("unet", **TINY).save(saved)
    fixed_profile = get_profile("tiny").replace(standardization="fixed")
    _, profile = network_to_fine_tune(saved, fixed_profile)
    assert profile.standardization == "per_image"

    profile_path = tmp_path / "tiny_fixed.json"
    profile_path.write_text(json.dumps({"base": "tiny", "name": "tiny_fixed", "epochs": 1,
                                        "standardization": "fixed"}))
    out = tmp_path / "warm"
    code = main(["train", "--model", "unet", "--data", str(sample_datasets()[1]),
                 "--profile", str(profile_path), "--warm-start", str(saved), "--out", str(out)])
    assert code == 0
    warm = load_skin_model(out / "model.keras")
    assert standardization_of(warm) == "fixed"
    assert [w.shape for w in warm.get_weights()] == [w.shape for w in load_skin_model(saved).get_weights()]


def test_unknown_standardization_is_refused_showing_the_value():
    with pytest.raises(ValueError, match="standardization='mean'"):
        build_model("unet", standardization="mean", **TINY)
    with pytest.raises(ValueError, match="standardization='mean'"):
        model_inputs(np.zeros((1, 2, 2, 3)), "mean")
    with pytest.raises(ValueError, match="standardization='mean'"):
        get_profile("tiny").replace(standardization="mean")
