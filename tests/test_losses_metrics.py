"""Jaccard distance loss and the Jaccard/Dice metrics against hand-made masks."""

import numpy as np
import pytest
import tensorflow as tf

from skin_segmentation import losses, metrics


def _mask(rows, cols, shape=(4, 4)):
    mask = np.zeros(shape, "float32")
    mask[rows, cols] = 1.0
    return mask[None, ..., None]


def test_perfect_prediction_costs_nothing_and_disjoint_costs_one():
    truth = _mask(slice(0, 2), slice(None))
    loss = losses.JaccardDistance()
    assert float(loss(truth, truth)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(truth, 1.0 - truth)) == pytest.approx(1.0, abs=1e-6)


def test_loss_matches_the_formula_by_hand():
    truth = _mask(slice(0, 2), slice(None))  # 8 skin pixels
    prediction = np.full_like(truth, 0.5)
    # sum(t*p) = 4, sum(t^2) = 8, sum(p^2) = 16 * 0.25 = 4: 1 - 4 / (8 + 4 - 4)
    assert float(losses.jaccard_distance(truth, prediction)[0]) == pytest.approx(0.5, abs=1e-6)


def test_loss_is_per_image_then_averaged():
    truth = np.concatenate([_mask(slice(0, 2), slice(None))] * 2)
    prediction = np.stack([truth[0], 1.0 - truth[1]])
    per_image = losses.jaccard_distance(truth, prediction).numpy()
    np.testing.assert_allclose(per_image, [0.0, 1.0], atol=1e-6)
    assert float(losses.JaccardDistance()(truth, prediction)) == pytest.approx(0.5, abs=1e-6)


def test_empty_masks_are_safe_and_have_finite_gradients():
    truth = tf.zeros((2, 8, 8, 1))
    for start in (tf.zeros((2, 8, 8, 1)), tf.fill((2, 8, 8, 1), 0.3)):
        prediction = tf.Variable(start)
        with tf.GradientTape() as tape:
            value = losses.JaccardDistance()(truth, prediction)
        gradient = tape.gradient(value, prediction)
        assert np.isfinite(float(value))
        assert np.all(np.isfinite(gradient.numpy()))
    assert float(losses.JaccardDistance()(truth, tf.zeros((2, 8, 8, 1)))) == pytest.approx(0.0)


def test_loss_gradient_pushes_towards_the_mask():
    truth = tf.constant(_mask(slice(0, 2), slice(None)))
    prediction = tf.Variable(tf.fill(truth.shape, 0.5))
    with tf.GradientTape() as tape:
        value = losses.JaccardDistance()(truth, prediction)
    gradient = tape.gradient(value, prediction).numpy()
    assert np.all(gradient[truth.numpy() == 1] < 0)
    assert np.all(gradient[truth.numpy() == 0] > 0)


def test_loss_rejects_nonpositive_smoothing():
    with pytest.raises(ValueError, match="smooth=0"):
        losses.JaccardDistance(smooth=0)


def test_numpy_metrics_by_hand():
    truth = np.array([[1, 1, 1, 0], [0, 0, 0, 0]])
    confidence = np.array([[0.9, 0.6, 0.4, 0.8], [0.1, 0.2, 0.3, 0.49]])
    # predicted skin: (0,0), (0,1), (0,3); intersection 2, union 4, |T|+|P| = 6
    assert metrics.jaccard_index(truth, confidence) == pytest.approx(0.5)
    assert metrics.dice_coefficient(truth, confidence) == pytest.approx(4 / 6)
    assert metrics.pixel_counts(truth, confidence) == (2, 1, 1)
    assert metrics.jaccard_index(np.zeros(4), np.zeros(4)) == 1.0
    assert metrics.dice_coefficient(np.zeros(4), np.ones(4)) == 0.0


def test_threshold_is_inclusive_at_one_half():
    assert metrics.jaccard_index([1], [0.5]) == 1.0
    assert metrics.jaccard_index([1], [0.4999]) == 0.0


def test_pixel_f1_pools_counts():
    precision, recall, f1 = metrics.pixel_f1(tp=6, fp=2, fn=4)
    assert precision == pytest.approx(0.75)
    assert recall == pytest.approx(0.6)
    assert f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_numpy_metric_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(2,\) vs y_pred \(3,\)"):
        metrics.jaccard_index(np.ones(2), np.ones(3))


def test_keras_metrics_average_per_image_scores():
    truth = np.concatenate([_mask(slice(0, 2), slice(None)), _mask(slice(0, 1), slice(0, 2))])
    confidence = np.concatenate([_mask(slice(0, 1), slice(None)), _mask(slice(0, 1), slice(0, 2))])
    # image 1: J = 4/8, D = 8/12; image 2: perfect
    jaccard, dice = metrics.JaccardIndex(), metrics.DiceCoefficient()
    jaccard.update_state(truth, confidence * 0.9)
    dice.update_state(truth, confidence * 0.9)
    assert float(jaccard.result()) == pytest.approx((0.5 + 1.0) / 2)
    assert float(dice.result()) == pytest.approx((8 / 12 + 1.0) / 2)
    jaccard.reset_state()
    jaccard.update_state(np.zeros((1, 4, 4, 1)), np.zeros((1, 4, 4, 1)))
    assert float(jaccard.result()) == pytest.approx(1.0)


def test_per_image_counts_match_the_single_image_counts():
    rng = np.random.default_rng(4)
    truth = rng.random((5, 6, 7, 1)) > 0.5
    confidences = rng.random((5, 6, 7, 1))
    counts = metrics.per_image_counts(truth, confidences)
    for index in range(5):
        expected = metrics.pixel_counts(truth[index], confidences[index])
        assert (counts["tp"][index], counts["fp"][index], counts["fn"][index]) == expected
    with pytest.raises(ValueError, match="same"):
        metrics.per_image_counts(truth, confidences[:4])


def test_pooled_scores_weigh_pixels_and_satisfy_the_dice_identity():
    # Image 1: a large skin area found well; image 2: a small one found badly.
    tp, fp, fn = np.array([90, 1]), np.array([10, 3]), np.array([0, 6])
    pooled_jaccard, pooled_dice = metrics.pooled_scores(tp, fp, fn)
    assert pooled_jaccard == pytest.approx(91 / 110)
    assert pooled_dice == pytest.approx(182 / 201)
    assert pooled_dice == pytest.approx(2 * pooled_jaccard / (1 + pooled_jaccard), rel=1e-12)
    per_image_jaccard = metrics.jaccard_from_counts(tp, fp, fn)
    per_image_dice = metrics.dice_from_counts(tp, fp, fn)
    np.testing.assert_allclose(per_image_jaccard, [0.9, 0.1])
    np.testing.assert_allclose(per_image_dice, [180 / 190, 2 / 11])
    # The mean of per-image Dice lies below 2 mean J / (1 + mean J): no identity there.
    mean_jaccard = per_image_jaccard.mean()
    assert per_image_dice.mean() < 2 * mean_jaccard / (1 + mean_jaccard) - 0.01
    # Pixel F1 over pooled counts is the pooled Dice.
    assert metrics.pixel_f1(tp.sum(), fp.sum(), fn.sum())[2] == pytest.approx(pooled_dice)


def test_counts_of_empty_masks_score_one():
    assert metrics.pooled_scores([0, 0], [0, 0], [0, 0]) == (1.0, 1.0)
    assert metrics.jaccard_from_counts(0, 0, 0) == 1.0
