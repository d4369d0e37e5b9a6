"""Which pairs each pass over a training set visits, in which order, with which keys.

A pass is one iteration over a dataset (one Keras epoch), or one round of a
repeated dataset. Every random draw of a pass (the order, the source of each
draw, the key of each element's augmentation) is stateless, keyed by the
dataset's seed and the number of the pass, so TensorFlow's global seed
(`tf.random.set_seed`, `keras.utils.set_random_seed`) changes nothing: two
datasets built with the same seed give the same passes in the same process or
another. The only state is a counter of the passes begun, so each new pass
draws a new order and new augmentations.
"""

import tensorflow as tf

# The rows of `pass_keys`: one independent key per kind of draw.
ORDER, SOURCES, AUGMENTATION = range(3)


def pass_keys(seed, pass_number):
    """Three independent stateless keys of one pass: `int64 (3, 2)`.

    Rows `ORDER`, `SOURCES` and `AUGMENTATION` key the shuffles, the sources
    drawn and the elements' augmentation.

    Example:
    >>> keys = pass_keys(0, 1)
    >>> keys.shape, bool(tf.reduce_all(keys == pass_keys(0, 1))), bool(tf.reduce_any(keys != pass_keys(0, 2)))
    (TensorShape([3, 2]), True, True)
    """
    seed = tf.stack([tf.cast(seed, tf.int64), tf.cast(pass_number, tf.int64)])
    return tf.random.experimental.stateless_split(seed, num=3)


def _cycles(members, key, shuffle):
    """Endless members: whole cycles through them, each in a new order when `shuffle`."""
    members = tf.constant(members, tf.int64)
    if not shuffle:
        return tf.data.Dataset.from_tensor_slices(members).repeat()

    def cycle(number):
        order_key = tf.random.experimental.stateless_fold_in(key, number)
        return tf.data.Dataset.from_tensor_slices(tf.random.experimental.stateless_shuffle(members, seed=order_key))

    return tf.data.Dataset.counter().flat_map(cycle)


def _one_pass(groups, keys, length, shuffle, keyed):
    """`length` indices, each group drawn as often as the others (one group: its cycles)."""
    streams = [
        _cycles(members, tf.random.experimental.stateless_fold_in(keys[ORDER], number), shuffle)
        for number, members in enumerate(groups)
    ]
    if len(streams) == 1:
        indices = streams[0].take(length)
    else:
        choices = tf.random.stateless_uniform([length], seed=keys[SOURCES], maxval=len(streams), dtype=tf.int64)
        indices = tf.data.Dataset.choose_from_datasets(streams, tf.data.Dataset.from_tensor_slices(choices))
    if not keyed:
        return indices
    return indices.enumerate().map(
        lambda position, index: (index, tf.random.experimental.stateless_fold_in(keys[AUGMENTATION], position))
    )


def index_passes(groups, seed, length, shuffle=True, repeat=False, keyed=False):
    """Indices in training order, a new draw on every pass.

    Args:
        groups: lists of indices; with several, each draw picks a group
            uniformly at random (the per-source balancing), then that group's
            next member.
        seed: non-negative integer keying every draw.
        length: indices per pass.
        shuffle: go through each group in a new random order on every cycle
            through it (else in the given order).
        repeat: pass after pass forever (else one pass per iteration).
        keyed: yield `(index, key)`, `key` an `int64 (2,)` stateless seed for the
            element's random draws, instead of bare indices.

    Returns:
        A `tf.data.Dataset` of `int64` indices (or `(index, key)` pairs), of
        known length: `length`, or infinite with `repeat`.

    Example:
    >>> passes = index_passes([[0, 1, 2]], seed=0, length=3)
    >>> first, second = [sorted(int(i) for i in passes) for _ in range(2)]
    >>> first, second
    ([0, 1, 2], [0, 1, 2])
    """
    counter = tf.Variable(0, dtype=tf.int64, trainable=False)
    starts = tf.data.Dataset.range(1)
    starts = starts.repeat() if repeat else starts
    # Sequential (no num_parallel_calls): passes are numbered in the order they are read.
    numbers = starts.map(lambda _: counter.assign_add(1) - 1)
    indices = numbers.flat_map(lambda number: _one_pass(groups, pass_keys(seed, number), length, shuffle, keyed))
    cardinality = tf.data.INFINITE_CARDINALITY if repeat else length
    return indices.apply(tf.data.experimental.assert_cardinality(cardinality))
