"""The paper's networks: builders, shared blocks and the preset table."""

from skin_segmentation.models.blocks import STANDARDIZATIONS, RescaledTanh, standardization_of
from skin_segmentation.models.dense_residual_unet import build_dense_residual_unet
from skin_segmentation.models.presets import (
    PAPER_EPOCH_IMAGES,
    PAPER_EPOCH_TRAIN_IMAGES,
    PAPER_EPOCH_VALIDATION_IMAGES,
    PAPER_VALIDATION_FRACTION,
    PRESETS,
    SCENARIOS,
    PaperFigures,
    Preset,
    build_model,
    get_preset,
)
from skin_segmentation.models.unet import build_unet

__all__ = [
    "PAPER_EPOCH_IMAGES",
    "PAPER_EPOCH_TRAIN_IMAGES",
    "PAPER_EPOCH_VALIDATION_IMAGES",
    "PAPER_VALIDATION_FRACTION",
    "PRESETS",
    "SCENARIOS",
    "STANDARDIZATIONS",
    "PaperFigures",
    "Preset",
    "RescaledTanh",
    "build_dense_residual_unet",
    "build_model",
    "build_unet",
    "get_preset",
    "standardization_of",
]
