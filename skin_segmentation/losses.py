"""The Jaccard distance loss of Yuan, Chao and Lo (IEEE TMI 2017).

For a true mask `t` and a predicted confidence `p`, per image:

    J(t, p) = 1 - sum(t * p) / (sum(t^2) + sum(p^2) - sum(t * p))

It is differentiable in `p`, needs no threshold, and does not care how much of
the image is skin, which matters for photographs from 5% to 95% skin.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="skin_segmentation")
def jaccard_distance(y_true, y_pred, smooth=1e-6):
    """Per-image Jaccard distance, shape `(batch,)`.

    Args:
        y_true: masks in {0, 1}, shape `(batch, ...)`.
        y_pred: confidences in [0, 1], same shape.
        smooth: added to numerator and denominator so that an empty mask predicted
            empty costs 0 (not 0/0) and gradients stay finite.

    Example:
    >>> import numpy as np
    >>> t = np.zeros((1, 4, 4, 1), "float32"); t[0, :2] = 1
    >>> float(jaccard_distance(t, t)[0])
    0.0
    >>> round(float(jaccard_distance(t, 1 - t)[0]), 6)
    1.0
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    axes = tuple(range(1, len(y_pred.shape)))
    intersection = ops.sum(y_true * y_pred, axis=axes)
    union = ops.sum(ops.square(y_true), axis=axes) + ops.sum(ops.square(y_pred), axis=axes)
    return 1.0 - (intersection + smooth) / (union - intersection + smooth)


@keras.saving.register_keras_serializable(package="skin_segmentation")
class JaccardDistance(keras.losses.Loss):
    """Jaccard distance averaged over the images of a batch.

    Args:
        smooth: see `jaccard_distance`.
        name: loss name.

    Example:
    >>> model.compile(optimizer="sgd", loss=JaccardDistance())  # doctest: +SKIP
    """

    def __init__(self, smooth=1e-6, name="jaccard_distance", **kwargs):
        super().__init__(name=name, **kwargs)
        if smooth <= 0:
            raise ValueError(f"`smooth` must be positive. Received: smooth={smooth}")
        self.smooth = float(smooth)

    def call(self, y_true, y_pred):
        return jaccard_distance(y_true, y_pred, smooth=self.smooth)

    def get_config(self):
        return {**super().get_config(), "smooth": self.smooth}
