"""The paper's three networks as named presets, with their Table I figures.

Table I of Codella et al. 2018 (arXiv:1804.05944) reports, per network, its size,
its training time per epoch and its Jaccard index, with the Dice coefficient in
brackets, in three transfer scenarios: all 18 scores are here. The abstract's
"U-Net" figures (0.51 / 0.83 / 0.89) are the U-Net *Large* row; the 7.5M U-Net
scores 0.44 / 0.79 / 0.89. Every Dice equals 2J/(1+J) of its Jaccard to two
decimals, the identity of scores pooled over all pixels of the evaluation set.

How each architecture follows from the paper's sentences and parameter counts,
and which sentence each preset bends, is worked out in docs/architecture.md.
"""

import dataclasses

from skin_segmentation.models.dense_residual_unet import build_dense_residual_unet
from skin_segmentation.models.unet import build_unet

SCENARIOS = ("direct_transfer", "direct_training", "fine_tuning")
# One epoch of the paper, the set its seconds per epoch refer to: the pre-training pool of
# 1000 + 721 + 899 = 2620 images "in all", of which the 20% validation split holds 524 and
# training the other 2096 (2620 training images plus 655 to validate would need 3275).
PAPER_EPOCH_IMAGES = 2620
PAPER_VALIDATION_FRACTION = 0.2
PAPER_EPOCH_VALIDATION_IMAGES = round(PAPER_EPOCH_IMAGES * PAPER_VALIDATION_FRACTION)
PAPER_EPOCH_TRAIN_IMAGES = PAPER_EPOCH_IMAGES - PAPER_EPOCH_VALIDATION_IMAGES


@dataclasses.dataclass(frozen=True)
class PaperFigures:
    """What the paper reports for one network."""

    parameters: int
    seconds_per_epoch: float
    jaccard: dict  # scenario -> float
    dice: dict  # scenario -> float


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named network: its builder, the builder's arguments, the paper's figures."""

    name: str
    builder: object
    config: dict
    paper: PaperFigures
    description: str

    def build(self, input_shape=(128, 128, 3), **overrides):
        config = {**self.config, **overrides}
        config.setdefault("name", self.name)
        return self.builder(input_shape=input_shape, **config)


def _figures(parameters, seconds_per_epoch, jaccard, dice):
    return PaperFigures(
        parameters=parameters,
        seconds_per_epoch=seconds_per_epoch,
        jaccard=dict(zip(SCENARIOS, jaccard, strict=True)),
        dice=dict(zip(SCENARIOS, dice, strict=True)),
    )


PRESETS = {
    "unet": Preset(
        name="unet",
        builder=build_unet,
        config={
            "filters": (32, 64, 128, 256, 512),
            "fc_units": None,
            "upsample_activation": "relu",
        },
        paper=_figures(7_500_000, 363, jaccard=(0.44, 0.79, 0.89), dice=(0.61, 0.88, 0.94)),
        description="U-Net, 5 levels of 32-512 filters (7.76M parameters at 128x128).",
    ),
    "unet_large": Preset(
        name="unet_large",
        builder=build_unet,
        config={
            "filters": (45, 90, 180, 360, 720),
            "fc_units": 1450,
            "upsample_activation": "relu",
        },
        paper=_figures(150_000_000, 697, jaccard=(0.51, 0.83, 0.89), dice=(0.67, 0.91, 0.94)),
        description="U-Net of 45-720 filters with a 1450-unit fully-connected bottleneck.",
    ),
    "dense_residual_unet": Preset(
        name="dense_residual_unet",
        builder=build_dense_residual_unet,
        config={
            "filters": (44, 88, 176, 352, 704),
            "convs_per_block": 2,
            "fc_units": 1434,
            "residual_convs": 4,
            "upsample_activation": "relu",
        },
        paper=_figures(149_900_000, 680, jaccard=(0.55, 0.80, 0.88), dice=(0.71, 0.89, 0.94)),
        description=(
            "Dense convolution blocks of 44-704 filters, a 1434-unit fully-connected "
            "bottleneck and 4 residual convolutions before a rescaled tanh."
        ),
    ),
}


def get_preset(name):
    """The `Preset` called `name`; a `ValueError` lists the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"Unknown model preset {name!r}. Choose one of: {', '.join(PRESETS)}."
        ) from None


def build_model(name, input_shape=(128, 128, 3), **overrides):
    """Build the preset `name` at `input_shape`, with builder arguments overridden.

    Args:
        name: one of `"unet"`, `"unet_large"`, `"dense_residual_unet"`.
        input_shape: `(height, width, 3)`; the paper uses `(128, 128, 3)`.
        **overrides: builder arguments replacing the preset's own, e.g. small
            `filters` for a test or a CPU profile.

    Example:
    >>> model = build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    >>> model.output_shape
    (None, 32, 32, 1)
    """
    return get_preset(name).build(input_shape=input_shape, **overrides)
