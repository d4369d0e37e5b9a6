"""Building blocks shared by the paper's networks.

Each function takes a Keras tensor and returns one, naming every layer after the
``name`` prefix it is given, so that two builds of the same preset have identical
layer names and weights can be moved between them by name.
"""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="skin_segmentation")
class RescaledTanh(layers.Layer):
    """`tanh` mapped from [-1, 1] to [0, 1], kept so that older `.keras` files load.

    Models saved before version 0.2 end in this layer; `confidence_head` now
    builds the same function from Keras's own layers, so that a saved model
    loads in any Keras 3 without this package. ``(tanh(x) + 1) / 2`` equals
    ``sigmoid(2 x)``; the layer computes in float32.

    Example:
    >>> import numpy as np
    >>> RescaledTanh()(np.array([[-100.0, 0.0, 100.0]])).numpy().tolist()
    [[0.0, 0.5, 1.0]]
    """

    def __init__(self, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)

    def call(self, inputs):
        inputs = keras.ops.cast(inputs, "float32")
        return (keras.ops.tanh(inputs) + 1.0) * 0.5

    def compute_output_shape(self, input_shape):
        return input_shape


STANDARDIZATIONS = ("per_image", "fixed")
PIXEL_SCALING_SUFFIX = "_pixel_scaling"


def check_standardization(standardization):
    """`standardization` itself, or a ValueError showing it when it is not a known one."""
    if standardization not in STANDARDIZATIONS:
        raise ValueError(
            f"`standardization` must be one of {STANDARDIZATIONS}. "
            f"Received: standardization={standardization!r}"
        )
    return standardization


def input_standardization(x, standardization, name):
    """The network's first step: nothing, or pixel values scaled to [-1, 1].

    `"per_image"` (the paper) leaves the input as it is: the caller has already
    standardized every image per channel (`data.pipeline.standardize`), which
    also removes its absolute colour. `"fixed"` makes the network take raw
    pixel values in [0, 255] and scale them by the same constants for every
    image, so that colour, which tells skin from a skin-toned wall in a
    close-up, reaches the network. `standardization_of` reads the choice back
    from a built or loaded model.

    Example:
    >>> import numpy as np
    >>> inputs = keras.Input((1, 1, 3))
    >>> scale = keras.Model(inputs, input_standardization(inputs, "fixed", "demo"))
    >>> scale.predict(np.array([0.0, 127.5, 255.0]).reshape(1, 1, 1, 3), verbose=0).ravel().tolist()
    [-1.0, 0.0, 1.0]
    """
    if check_standardization(standardization) == "per_image":
        return x
    return layers.Rescaling(1 / 127.5, offset=-1.0, name=f"{name}{PIXEL_SCALING_SUFFIX}")(x)


def standardization_of(model):
    """`"fixed"` when `model` scales raw pixels itself, else `"per_image"`.

    Example:
    >>> inputs = keras.Input((1, 1, 3))
    >>> standardization_of(keras.Model(inputs, input_standardization(inputs, "fixed", "demo")))
    'fixed'
    """
    names = (layer.name for layer in getattr(model, "layers", ()))
    return "fixed" if any(name.endswith(PIXEL_SCALING_SUFFIX) for name in names) else "per_image"


def conv_relu(x, filters, name, kernel_size=3):
    """A 'same'-padded convolution followed by ReLU, He-initialized."""
    return layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        activation="relu",
        kernel_initializer="he_normal",
        name=name,
    )(x)


def conv_pair(x, filters, name):
    """The classical U-Net block: two 3x3 convolutions with ReLU."""
    x = conv_relu(x, filters, f"{name}_conv1")
    return conv_relu(x, filters, f"{name}_conv2")


def dense_conv_block(x, filters, name, num_convs=2):
    """Densely connected convolutions (DenseNet-style concatenation).

    Every convolution sees the concatenation of the block input and the outputs
    of all convolutions before it in the block; the block returns the output of
    its last convolution, so it has ``filters`` channels like a U-Net block and
    the two networks share their skip and bottleneck shapes.
    """
    features = [x]
    for index in range(1, num_convs + 1):
        inputs = (
            features[0]
            if len(features) == 1
            else layers.Concatenate(name=f"{name}_concat{index}")(features)
        )
        features.append(conv_relu(inputs, filters, f"{name}_conv{index}"))
    return features[-1]


def fc_bottleneck(x, units, dropout_rate, name):
    """Flatten, a fully-connected layer, a fully-connected layer back, reshape.

    The dense layer sees the whole image at once, which is how the large presets
    get their global context (and almost all of their 150M parameters).
    """
    height, width, channels = x.shape[1:]
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(units, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(dropout_rate, name=f"{name}_fc_dropout")(x)
    x = layers.Dense(height * width * channels, activation="relu", name=f"{name}_fc_back")(x)
    return layers.Reshape((height, width, channels), name=f"{name}_reshape")(x)


def residual_tail(x, num_convs, name):
    """``num_convs`` residual 3x3 convolutions: ``x + relu(conv(x))`` each."""
    channels = x.shape[-1]
    for index in range(1, num_convs + 1):
        residual = conv_relu(x, channels, f"{name}_res{index}_conv")
        x = layers.Add(name=f"{name}_res{index}_add")([x, residual])
    return x


def confidence_head(x, name):
    """1x1 convolution to one logit, then the paper's tanh rescaled to [0, 1].

    Built from Keras's own `tanh` activation and `Rescaling(0.5, offset=0.5)`,
    all in float32 (a mixed-precision model still emits float32 confidences), so
    a saved model needs no custom object to load.

    Example:
    >>> import numpy as np
    >>> inputs = keras.Input((1, 1, 1))
    >>> head = keras.Model(inputs, confidence_head(inputs, "demo"))
    >>> head.get_layer("demo_logit").set_weights([np.ones((1, 1, 1, 1)), np.zeros(1)])
    >>> head.predict(np.array([-100.0, 0.0, 100.0]).reshape(3, 1, 1, 1), verbose=0).ravel().tolist()
    [0.0, 0.5, 1.0]
    """
    logit = layers.Conv2D(1, 1, dtype="float32", name=f"{name}_logit")(x)
    tanh = layers.Activation("tanh", dtype="float32", name=f"{name}_tanh")(logit)
    return layers.Rescaling(0.5, offset=0.5, dtype="float32", name=f"{name}_confidence")(tanh)


def validate_input_shape(input_shape, depth):
    """Check an (H, W, 3) shape whose sides survive ``depth`` 2x poolings."""
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(
            f"`input_shape` must be (height, width, 3) for RGB photographs. "
            f"Received: input_shape={input_shape}"
        )
    factor = 2**depth
    for side in input_shape[:2]:
        if side is None or side % factor:
            raise ValueError(
                f"Height and width must be known multiples of {factor} "
                f"(2 ** number of poolings, {depth}). Received: input_shape={input_shape}"
            )


def encoder_decoder(
    x, filters, block, fc_units, noise_stddev, dropout_rate, name, upsample_activation=None
):
    """The U shape both networks share.

    Encoding: for each entry of ``filters`` Gaussian noise, then ``block``; every
    level but the last is kept as a skip connection and max-pooled. The last
    encoding block is followed by dropout, then (when ``fc_units`` is set) the
    fully-connected bottleneck. Decoding: 2x2 transposed convolution (with
    ``upsample_activation``, `None` for linear), concatenation with the skip of
    the same size, ``block``, dropout.
    """
    skips = []
    last_level = len(filters) - 1
    for level, level_filters in enumerate(filters):
        prefix = f"{name}_enc{level + 1}"
        x = layers.GaussianNoise(noise_stddev, name=f"{prefix}_noise")(x)
        x = block(x, level_filters, prefix)
        if level < last_level:
            skips.append(x)
            x = layers.MaxPooling2D(2, name=f"{prefix}_pool")(x)
    x = layers.Dropout(dropout_rate, name=f"{name}_enc{last_level + 1}_dropout")(x)
    if fc_units:
        x = fc_bottleneck(x, fc_units, dropout_rate, f"{name}_bottleneck")
    for level in reversed(range(last_level)):
        prefix = f"{name}_dec{level + 1}"
        x = layers.Conv2DTranspose(
            filters[level],
            2,
            strides=2,
            padding="same",
            activation=upsample_activation,
            kernel_initializer="he_normal" if upsample_activation == "relu" else "glorot_uniform",
            name=f"{prefix}_up",
        )(x)
        x = layers.Concatenate(name=f"{prefix}_concat")([x, skips[level]])
        x = block(x, filters[level], prefix)
        x = layers.Dropout(dropout_rate, name=f"{prefix}_dropout")(x)
    return x
