"""Dense Residual U-Net of Codella et al. 2018: dense convolution blocks, a
fully-connected bottleneck and a tail of residual convolutions before a rescaled
tanh output."""

import functools

import keras

from skin_segmentation.models import blocks


def build_dense_residual_unet(
    input_shape=(128, 128, 3),
    filters=(44, 88, 176, 352, 704),
    convs_per_block=2,
    fc_units=1434,
    residual_convs=4,
    noise_stddev=0.025,
    dropout_rate=0.5,
    name="dense_residual_unet",
    upsample_activation="relu",
    standardization="per_image",
):
    """Build a Dense Residual U-Net mapping an RGB image to skin confidence.

    Args:
        input_shape: `(height, width, 3)`; height and width must be multiples of
            `2 ** (len(filters) - 1)`. The paper uses `(128, 128, 3)`.
        filters: filters of every convolution in each level, shallowest first.
        convs_per_block: convolutions per dense block; each sees the concatenation
            of the block input and all earlier convolutions of the block.
        fc_units: width of the fully-connected bottleneck, or `None` for none.
        residual_convs: residual 3x3 convolutions after the last decoding block
            (the paper's tail of 4), each `x + relu(conv(x))`.
        noise_stddev: Gaussian noise before each encoding block (training only).
        dropout_rate: dropout after the last encoding block, in the FC bottleneck
            and after every decoding block.
        name: model name, also the prefix of every layer name.
        upsample_activation: activation of the decoder's 2x2 transposed
            convolutions: `"relu"` (the paper: ReLU everywhere but the output) or
            `None` (linear, as in models built before this argument existed).
        standardization: `"per_image"` (the paper: the input is already
            standardized per image and channel) or `"fixed"` (the network takes
            pixel values in [0, 255] and scales them to [-1, 1] itself, keeping
            absolute colour); see `blocks.input_standardization`.

    Returns:
        A functional `keras.Model` with output shape `(None, height, width, 1)`.

    Example:
    >>> import numpy as np
    >>> model = build_dense_residual_unet(
    ...     input_shape=(32, 32, 3), filters=(4, 8, 16), fc_units=10)
    >>> model.predict(np.zeros((1, 32, 32, 3)), verbose=0).shape
    (1, 32, 32, 1)
    """
    filters = tuple(int(f) for f in filters)
    if len(filters) < 2 or min(filters) < 1:
        raise ValueError(
            f"`filters` needs at least two positive entries. Received: filters={filters}"
        )
    if convs_per_block < 1:
        raise ValueError(
            f"`convs_per_block` must be at least 1. Received: convs_per_block={convs_per_block}"
        )
    if residual_convs < 0:
        raise ValueError(
            f"`residual_convs` must be 0 or more. Received: residual_convs={residual_convs}"
        )
    if fc_units is not None and int(fc_units) < 1:
        raise ValueError(f"`fc_units` must be positive or None. Received: fc_units={fc_units}")
    blocks.validate_input_shape(input_shape, len(filters) - 1)
    block = functools.partial(blocks.dense_conv_block, num_convs=convs_per_block)
    inputs = keras.Input(shape=input_shape, name=f"{name}_image")
    x = blocks.input_standardization(inputs, standardization, name)
    x = blocks.encoder_decoder(
        x, filters, block, fc_units, noise_stddev, dropout_rate, name,
        upsample_activation=upsample_activation,
    )
    x = blocks.residual_tail(x, residual_convs, f"{name}_tail")
    outputs = blocks.confidence_head(x, name)
    return keras.Model(inputs, outputs, name=name)
