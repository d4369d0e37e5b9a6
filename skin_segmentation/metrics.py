"""Jaccard index and Dice coefficient of masks thresholded at 0.5.

Two forms of each: Keras metrics (mean over the images seen, for `model.fit`),
and NumPy functions for evaluating one image at its native resolution. An image
whose true and predicted masks are both empty scores 1 (a perfect answer).

A set of images has two scores of each kind. The *per-image mean* averages the
images' scores, each image counting once. The *pooled* score computes the index
once from the true/false positive and false negative pixels summed over the set
(large skin areas weigh more); only the pooled scores satisfy Dice = 2J / (1 + J)
exactly, as every figure of the paper's Table I does. `pixel_counts` and
`per_image_counts` give the counts that both are computed from. Pixel-level
precision, recall and F1 over the pooled counts are what skin-detection papers
report.
"""

import keras
import numpy as np
from keras import ops

THRESHOLD = 0.5
# A set's pooled Jaccard this close to that of calling every pixel skin is degenerate.
DEGENERATE_MARGIN = 0.02


def _per_image_overlap(y_true, y_pred, threshold):
    y_true = ops.cast(ops.greater_equal(ops.cast(y_true, "float32"), 0.5), "float32")
    y_pred = ops.cast(ops.greater_equal(ops.cast(y_pred, "float32"), threshold), "float32")
    axes = tuple(range(1, len(y_pred.shape)))
    intersection = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return intersection, total


def jaccard_from_overlap(intersection, total):
    union = total - intersection
    return ops.where(union > 0, intersection / ops.maximum(union, 1.0), 1.0)


def dice_from_overlap(intersection, total):
    return ops.where(total > 0, 2.0 * intersection / ops.maximum(total, 1.0), 1.0)


class _MeanPerImage(keras.metrics.Metric):
    def __init__(self, threshold=THRESHOLD, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"`threshold` must be in (0, 1). Received: threshold={threshold}")
        self.threshold = float(threshold)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def _score(self, intersection, total):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        scores = self._score(*_per_image_overlap(y_true, y_pred, self.threshold))
        self.total.assign_add(ops.cast(ops.sum(scores), self.dtype))
        self.count.assign_add(ops.cast(ops.shape(scores)[0], self.dtype))

    def result(self):
        return ops.divide_no_nan(self.total, self.count)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="skin_segmentation")
class JaccardIndex(_MeanPerImage):
    """Mean per-image Jaccard index (intersection over union) at a threshold.

    Example:
    >>> import numpy as np
    >>> m = JaccardIndex()
    >>> m.update_state(np.array([[1, 1, 0, 0]]), np.array([[0.9, 0.2, 0.7, 0.1]]))
    >>> float(m.result())  # 1 shared pixel of 3 in the union
    0.3333333432674408
    """

    def __init__(self, threshold=THRESHOLD, name="jaccard", dtype=None):
        super().__init__(threshold=threshold, name=name, dtype=dtype)

    def _score(self, intersection, total):
        return jaccard_from_overlap(intersection, total)


@keras.saving.register_keras_serializable(package="skin_segmentation")
class DiceCoefficient(_MeanPerImage):
    """Mean per-image Dice coefficient at a threshold."""

    def __init__(self, threshold=THRESHOLD, name="dice", dtype=None):
        super().__init__(threshold=threshold, name=name, dtype=dtype)

    def _score(self, intersection, total):
        return dice_from_overlap(intersection, total)


def _binary(array, threshold):
    array = np.asarray(array)
    if array.dtype == bool:
        return array
    return array >= threshold


def pixel_counts(y_true, y_pred, threshold=THRESHOLD):
    """True positives, false positives, false negatives of one image's pixels.

    `y_true` holds {0, 1} (or bool), `y_pred` confidences thresholded at
    `threshold`. Shapes must match.
    """
    y_true = _binary(y_true, 0.5)
    y_pred = _binary(y_pred, threshold)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Mask shapes differ: y_true {y_true.shape} vs y_pred {y_pred.shape}."
        )
    tp = int(np.count_nonzero(y_true & y_pred))
    fp = int(np.count_nonzero(~y_true & y_pred))
    fn = int(np.count_nonzero(y_true & ~y_pred))
    return tp, fp, fn


def per_image_counts(y_true, y_pred, threshold=THRESHOLD):
    """True/false positive and false/true negative pixels of each image of a batch.

    Args:
        y_true: `(N, ...)` masks of {0, 1} (or bool), one image per leading index.
        y_pred: `(N, ...)` confidences (thresholded at `threshold`) or bool masks,
            the shape of `y_true`.
        threshold: a confidence at or above it is skin.

    Returns:
        A dict of four int64 arrays of shape `(N,)`: `tp`, `fp`, `fn`, `tn`.

    Raises:
        ValueError: when the shapes differ.

    Example:
    >>> counts = per_image_counts([[1, 1, 0, 0], [0, 0, 0, 1]], [[0.9, 0.2, 0.7, 0.1], [0, 0, 0, 0.8]])
    >>> {name: values.tolist() for name, values in counts.items()}
    {'tp': [1, 1], 'fp': [1, 0], 'fn': [1, 0], 'tn': [1, 3]}
    """
    y_true = _binary(y_true, 0.5)
    y_pred = _binary(y_pred, threshold)
    if y_true.shape != y_pred.shape or y_true.ndim < 1:
        raise ValueError(
            f"Mask batches must have the same (N, ...) shape: y_true {y_true.shape} vs "
            f"y_pred {y_pred.shape}."
        )
    axes = tuple(range(1, y_true.ndim))
    return {
        "tp": np.count_nonzero(y_true & y_pred, axis=axes).astype(np.int64),
        "fp": np.count_nonzero(~y_true & y_pred, axis=axes).astype(np.int64),
        "fn": np.count_nonzero(y_true & ~y_pred, axis=axes).astype(np.int64),
        "tn": np.count_nonzero(~y_true & ~y_pred, axis=axes).astype(np.int64),
    }


def jaccard_from_counts(tp, fp, fn):
    """Jaccard index `tp / (tp + fp + fn)` of each count (NumPy), 1 where that is 0/0.

    Example:
    >>> jaccard_from_counts([1, 0], [1, 0], [1, 0]).tolist()
    [0.3333333333333333, 1.0]
    """
    tp, fp, fn = (np.asarray(value, dtype=np.float64) for value in (tp, fp, fn))
    union = tp + fp + fn
    return np.where(union > 0, tp / np.maximum(union, 1.0), 1.0)


def dice_from_counts(tp, fp, fn):
    """Dice coefficient `2 tp / (2 tp + fp + fn)` of each count (NumPy), 1 where 0/0.

    Example:
    >>> dice_from_counts([1, 0], [1, 0], [1, 0]).tolist()
    [0.5, 1.0]
    """
    tp, fp, fn = (np.asarray(value, dtype=np.float64) for value in (tp, fp, fn))
    total = 2.0 * tp + fp + fn
    return np.where(total > 0, 2.0 * tp / np.maximum(total, 1.0), 1.0)


def pooled_scores(tp, fp, fn):
    """Jaccard and Dice of a set from its images' pixel counts, summed first.

    The pooled Dice equals `2 J / (1 + J)` of the pooled Jaccard (to floating
    point), which a mean of per-image scores does not.

    Args:
        tp, fp, fn: per-image counts (e.g. from `per_image_counts`), any shape.

    Returns:
        `(pooled_jaccard, pooled_dice)`, two floats.

    Example:
    >>> pooled_scores([1, 1], [1, 0], [1, 0])  # 2 shared pixels of 4 in the union
    (0.5, 0.6666666666666666)
    """
    totals = [int(np.sum(np.asarray(value, dtype=np.int64))) for value in (tp, fp, fn)]
    return float(jaccard_from_counts(*totals)), float(dice_from_counts(*totals))


def degeneracy(tp, fp, fn, tn, margin=DEGENERATE_MARGIN):
    """Whether a set's predictions say nothing beyond "all skin" or "no skin".

    A network that has not learned (too few epochs, say) predicts every pixel
    as skin, or none; on photographs mostly of skin "all skin" already scores
    well, so such a score must not be read as a result.

    Args:
        tp, fp, fn, tn: per-image pixel counts of the set (any shape).
        margin: a pooled Jaccard this close to that of calling every pixel skin
            on the same images counts as degenerate too.

    Returns:
        `"all skin"`, `"no skin"`, `"near all-skin"` (within `margin`), or `""`
        for predictions that are none of these.

    Example:
    >>> degeneracy(tp=[6, 2], fp=[4, 0], fn=[0, 0], tn=[0, 0])
    'all skin'
    >>> degeneracy(tp=[6, 2], fp=[1, 0], fn=[0, 0], tn=[3, 0])
    ''
    """
    tp, fp, fn, tn = (int(np.sum(np.asarray(value, dtype=np.int64))) for value in (tp, fp, fn, tn))
    pixels = tp + fp + fn + tn
    if pixels == 0:
        return ""
    if tp + fp == pixels:
        return "all skin"
    if tp + fp == 0:
        return "no skin"
    all_skin = float(jaccard_from_counts(tp + fn, fp + tn, 0))
    return "near all-skin" if abs(float(jaccard_from_counts(tp, fp, fn)) - all_skin) <= margin else ""


def jaccard_index(y_true, y_pred, threshold=THRESHOLD):
    """Jaccard index of one image (NumPy): |T n P| / |T u P|, 1 when both empty.

    Example:
    >>> jaccard_index([1, 1, 0, 0], [0.9, 0.2, 0.7, 0.1])
    0.3333333333333333
    """
    tp, fp, fn = pixel_counts(y_true, y_pred, threshold)
    union = tp + fp + fn
    return tp / union if union else 1.0


def dice_coefficient(y_true, y_pred, threshold=THRESHOLD):
    """Dice coefficient of one image (NumPy): 2|T n P| / (|T| + |P|), 1 when both empty.

    Example:
    >>> dice_coefficient([1, 1, 0, 0], [0.9, 0.2, 0.7, 0.1])
    0.5
    """
    tp, fp, fn = pixel_counts(y_true, y_pred, threshold)
    total = 2 * tp + fp + fn
    return 2 * tp / total if total else 1.0


def pixel_f1(tp, fp, fn):
    """Precision, recall and F1 from pixel counts pooled over a dataset."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
