"""Small models with known outputs, shared by the inference tests."""

import numpy as np


def red_detector(size=32):
    """Confidence sigmoid(8 x standardized red): a half-red photo gives its red half."""
    import keras

    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid", name="red")(inputs)
    model = keras.Model(inputs, outputs, name="red_detector")
    model.get_layer("red").set_weights([np.array([8.0, 0.0, 0.0]).reshape(1, 1, 3, 1), np.zeros(1)])
    return model
