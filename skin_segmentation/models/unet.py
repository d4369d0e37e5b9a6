"""U-Net (Ronneberger et al. 2015) as used by Codella et al. 2018, with an
optional fully-connected bottleneck (the paper's "U-Net Large")."""

import keras

from skin_segmentation.models import blocks


def build_unet(
    input_shape=(128, 128, 3),
    filters=(32, 64, 128, 256, 512),
    fc_units=None,
    noise_stddev=0.025,
    dropout_rate=0.5,
    name="unet",
    upsample_activation="relu",
    standardization="per_image",
):
    """Build a U-Net that maps an RGB image to a skin confidence map in [0, 1].

    Args:
        input_shape: `(height, width, 3)`; height and width must be multiples of
            `2 ** (len(filters) - 1)`. The paper uses `(128, 128, 3)`.
        filters: convolution filters per level, shallowest first. Each level is two
            3x3 convolutions with ReLU. `(32, 64, 128, 256, 512)` gives the paper's
            7.5M-parameter U-Net; `(45, 90, 180, 360, 720)` with `fc_units=1450` its
            150M-parameter U-Net Large.
        fc_units: width of the fully-connected bottleneck after the deepest block,
            or `None` for none.
        noise_stddev: standard deviation of the Gaussian noise added (in training
            only) before each encoding block; inputs are standardized (or scaled
            to [-1, 1]), so 0.025 is 2.5% of a channel's spread (1.25% of its range).
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
    >>> model = build_unet(input_shape=(32, 32, 3), filters=(4, 8, 16))
    >>> model.predict(np.zeros((2, 32, 32, 3)), verbose=0).shape
    (2, 32, 32, 1)
    """
    filters = tuple(int(f) for f in filters)
    if len(filters) < 2 or min(filters) < 1:
        raise ValueError(
            f"`filters` needs at least two positive entries. Received: filters={filters}"
        )
    if fc_units is not None and int(fc_units) < 1:
        raise ValueError(f"`fc_units` must be positive or None. Received: fc_units={fc_units}")
    blocks.validate_input_shape(input_shape, len(filters) - 1)
    inputs = keras.Input(shape=input_shape, name=f"{name}_image")
    x = blocks.input_standardization(inputs, standardization, name)
    x = blocks.encoder_decoder(
        x,
        filters,
        blocks.conv_pair,
        fc_units,
        noise_stddev,
        dropout_rate,
        name,
        upsample_activation=upsample_activation,
    )
    outputs = blocks.confidence_head(x, name)
    return keras.Model(inputs, outputs, name=name)
