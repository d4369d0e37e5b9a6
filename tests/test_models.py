"""The three presets at the paper's input size, and the builders' contracts."""

import numpy as np
import pytest

from skin_segmentation.models import PRESETS, build_model, build_unet, build_dense_residual_unet


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_matches_table1_size_and_output_contract(name):
    model = build_model(name, input_shape=(128, 128, 3))
    paper_parameters = PRESETS[name].paper.parameters
    assert abs(model.count_params() - paper_parameters) / paper_parameters < 0.05
    images = np.random.default_rng(0).normal(size=(2, 128, 128, 3)).astype("float32")
    confidences = model.predict(images, verbose=0)
    assert confidences.shape == (2, 128, 128, 1)
    assert confidences.dtype == np.float32
    assert confidences.min() >= 0.0 and confidences.max() <= 1.0
    names = [layer.name for layer in model.layers]
    assert len(names) == len(set(names))
    assert all(n.startswith(name) for n in names)


def test_paper_components_are_in_place():
    model = build_model("dense_residual_unet", input_shape=(64, 64, 3), filters=(4, 8, 16))
    kinds = {layer.name: type(layer).__name__ for layer in model.layers}
    noise = [n for n, k in kinds.items() if k == "GaussianNoise"]
    assert len(noise) == 3  # one before each encoding block
    assert all(model.get_layer(n).stddev == 0.025 for n in noise)
    dropouts = sorted(n for n, k in kinds.items() if k == "Dropout")
    # last encoding block, FC layer, two decoding blocks
    assert dropouts == [
        "dense_residual_unet_bottleneck_fc_dropout",
        "dense_residual_unet_dec1_dropout",
        "dense_residual_unet_dec2_dropout",
        "dense_residual_unet_enc3_dropout",
    ]
    assert all(model.get_layer(n).rate == 0.5 for n in dropouts)
    assert model.get_layer("dense_residual_unet_bottleneck_fc").units == 1450
    residual_adds = [n for n in kinds if n.startswith("dense_residual_unet_tail_res")]
    assert len(residual_adds) == 8  # 4 convolutions + 4 additions
    # dense connectivity: the second convolution sees input and first convolution
    assert model.get_layer("dense_residual_unet_enc2_conv2").input.shape[-1] == 8 + 4
    assert [type(layer).__name__ for layer in model.layers[-2:]] == ["Activation", "Rescaling"]


def test_relu_everywhere_but_the_head():
    model = build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    convs = [l for l in model.layers if type(l).__name__ == "Conv2D"]
    assert all(l.activation.__name__ == "relu" for l in convs[:-1])
    assert convs[-1].activation.__name__ == "linear"


def test_noise_and_dropout_act_only_in_training():
    model = build_unet(input_shape=(32, 32, 3), filters=(4, 8, 16))
    images = np.random.default_rng(1).normal(size=(1, 32, 32, 3)).astype("float32")
    first = model(images, training=False).numpy()
    np.testing.assert_array_equal(first, model(images, training=False).numpy())
    assert not np.allclose(first, model(images, training=True).numpy())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (100, 128, 3)}, "multiples of 16"),
        ({"input_shape": (128, 128, 1)}, "input_shape"),
        ({"input_shape": (128, 128, 3), "filters": (8,)}, "filters"),
        ({"input_shape": (128, 128, 3), "fc_units": 0}, "fc_units"),
    ],
)
def test_builder_rejects_bad_arguments_showing_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        build_unet(**kwargs)
    assert "Received" in str(info.value)


def test_dense_residual_unet_rejects_negative_tail():
    with pytest.raises(ValueError, match="residual_convs=-1"):
        build_dense_residual_unet(input_shape=(32, 32, 3), filters=(4, 8), residual_convs=-1)


def test_unknown_preset_lists_the_valid_names():
    with pytest.raises(ValueError, match="unet_large"):
        build_model("resnet")
