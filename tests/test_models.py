"""The three presets at the paper's input size, and the builders' contracts."""

import numpy as np
import pytest

from skin_segmentation.models import (
    PRESETS,
    SCENARIOS,
    build_dense_residual_unet,
    build_model,
    build_unet,
)

# Table I of Codella et al. 2018 as printed (/work/shared/PAPER.md): parameters,
# seconds per epoch, then Jaccard (Dice) for direct transfer, direct training,
# fine-tuning.
TABLE_I = {
    "dense_residual_unet": (149_900_000, 680, (0.55, 0.80, 0.88), (0.71, 0.89, 0.94)),
    "unet_large": (150_000_000, 697, (0.51, 0.83, 0.89), (0.67, 0.91, 0.94)),
    "unet": (7_500_000, 363, (0.44, 0.79, 0.89), (0.61, 0.88, 0.94)),
}


@pytest.mark.parametrize("name", sorted(TABLE_I))
def test_preset_carries_all_of_its_table1_row(name):
    parameters, seconds, jaccard, dice = TABLE_I[name]
    paper = PRESETS[name].paper
    assert paper.parameters == parameters
    assert paper.seconds_per_epoch == seconds
    assert [paper.jaccard[s] for s in SCENARIOS] == list(jaccard)
    assert [paper.dice[s] for s in SCENARIOS] == list(dice)


@pytest.mark.parametrize("name", sorted(TABLE_I))
def test_paper_dice_is_the_pooled_identity_of_its_jaccard(name):
    # Dice = 2J/(1+J) holds within the rounding of the printed Jaccard (J +- 0.005).
    paper = PRESETS[name].paper
    for scenario in SCENARIOS:
        jaccard, dice = paper.jaccard[scenario], paper.dice[scenario]
        low, high = (2 * j / (1 + j) for j in (jaccard - 0.005, jaccard + 0.005))
        assert low - 0.005 <= dice <= high + 0.005, (scenario, jaccard, dice)


def test_unet_large_increases_fc_and_filters_over_the_dense_residual_unet():
    # Section II-B: U-Net Large's FC (1450) and filters (45, 90, 180) are *increased*
    # to match the Dense Residual U-Net's size.
    large = PRESETS["unet_large"].config
    dense = PRESETS["dense_residual_unet"].config
    assert large["fc_units"] == 1450 and large["filters"][:3] == (45, 90, 180)
    assert dense["fc_units"] < large["fc_units"]
    assert all(d < l for d, l in zip(dense["filters"], large["filters"], strict=True))


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
    # inferred, docs/architecture.md: below U-Net Large's 1450, fitted to 149.9M
    assert model.get_layer("dense_residual_unet_bottleneck_fc").units == 1434
    residual_adds = [n for n in kinds if n.startswith("dense_residual_unet_tail_res")]
    assert len(residual_adds) == 8  # 4 convolutions + 4 additions
    # dense connectivity: the second convolution sees input and first convolution
    assert model.get_layer("dense_residual_unet_enc2_conv2").input.shape[-1] == 8 + 4
    assert [type(layer).__name__ for layer in model.layers[-2:]] == ["Activation", "Rescaling"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_relu_everywhere_but_the_head(name):
    # The paper: ReLU for every neuron but the final layer, transposed convolutions
    # and fully-connected layers included.
    model = build_model(name, input_shape=(32, 32, 3), filters=(4, 8, 16))
    weighted = [l for l in model.layers if type(l).__name__ in ("Conv2D", "Conv2DTranspose", "Dense")]
    assert {type(l).__name__ for l in weighted} >= {"Conv2D", "Conv2DTranspose"}
    assert all(l.activation.__name__ == "relu" for l in weighted[:-1])
    assert weighted[-1].name == f"{name}_logit" and weighted[-1].activation.__name__ == "linear"


def test_linear_upsampling_stays_available_for_older_models():
    model = build_unet(input_shape=(32, 32, 3), filters=(4, 8, 16), upsample_activation=None)
    ups = [l for l in model.layers if type(l).__name__ == "Conv2DTranspose"]
    assert len(ups) == 2 and all(l.activation.__name__ == "linear" for l in ups)


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
