"""Shared by the tests: small models with known outputs, synthetic training data, a weights recorder."""

import keras
import numpy as np
import tensorflow as tf


def red_detector(size=32):
    """Confidence sigmoid(8 x standardized red): a half-red photo gives its red half."""
    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid", name="red")(inputs)
    model = keras.Model(inputs, outputs, name="red_detector")
    model.get_layer("red").set_weights([np.array([8.0, 0.0, 0.0]).reshape(1, 1, 3, 1), np.zeros(1)])
    return model


def synthetic(count=16, invert=False, seed=0, batch=4):
    """Noise images whose mask is 'red channel above zero' (or its inverse)."""
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(count, 32, 32, 3)).astype("float32")
    masks = (images[..., :1] > 0).astype("float32")
    if invert:
        masks = 1.0 - masks
    return tf.data.Dataset.from_tensor_slices((images, masks)).batch(batch)


class WeightSnapshots(keras.callbacks.Callback):
    """Weights at the start of training and at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.at_start = None
        self.after_epoch = {}
        self.iterations_at_start = None

    def on_train_begin(self, logs=None):
        self.at_start = [w.copy() for w in self.model.get_weights()]
        self.iterations_at_start = int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        self.after_epoch[epoch + 1] = [w.copy() for w in self.model.get_weights()]
