"""The paper's three networks as named presets, with their Table I figures.

Table I of Codella et al. 2018 (arXiv:1804.05944) reports, per network, its size,
its training time per epoch and its Jaccard index (and Dice coefficient) in three
transfer scenarios. The Jaccard figures of U-Net and Dense Residual U-Net below
are the ones the paper's abstract states; figures this project could not read
from the paper are `None` and print as "n/a", never as a guess.
"""

import dataclasses

from skin_segmentation.models.dense_residual_unet import build_dense_residual_unet
from skin_segmentation.models.unet import build_unet

SCENARIOS = ("direct_transfer", "direct_training", "fine_tuning")


@dataclasses.dataclass(frozen=True)
class PaperFigures:
    """What the paper reports for one network."""

    parameters: int
    seconds_per_epoch: float
    jaccard: dict  # scenario -> float or None
    dice: dict  # scenario -> float or None


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


def _figures(parameters, seconds_per_epoch, jaccard=(None, None, None), dice=(None, None, None)):
    return PaperFigures(
        parameters=parameters,
        seconds_per_epoch=seconds_per_epoch,
        jaccard=dict(zip(SCENARIOS, jaccard)),
        dice=dict(zip(SCENARIOS, dice)),
    )


PRESETS = {
    "unet": Preset(
        name="unet",
        builder=build_unet,
        config={"filters": (32, 64, 128, 256, 512), "fc_units": None},
        paper=_figures(7_500_000, 363, jaccard=(0.51, 0.83, 0.89)),
        description="U-Net, 5 levels of 32-512 filters (7.76M parameters at 128x128).",
    ),
    "unet_large": Preset(
        name="unet_large",
        builder=build_unet,
        config={"filters": (45, 90, 180, 360, 720), "fc_units": 1450},
        paper=_figures(150_000_000, 697),
        description="U-Net of 45-720 filters with a 1450-unit fully-connected bottleneck.",
    ),
    "dense_residual_unet": Preset(
        name="dense_residual_unet",
        builder=build_dense_residual_unet,
        config={
            "filters": (44, 88, 176, 352, 704),
            "convs_per_block": 2,
            "fc_units": 1450,
            "residual_convs": 4,
        },
        paper=_figures(149_900_000, 680, jaccard=(0.55, 0.80, 0.88)),
        description=(
            "Dense convolution blocks of 44-704 filters, a 1450-unit fully-connected "
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
