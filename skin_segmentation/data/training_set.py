"""The images one training run learns from and validates on, and the ones it leaves unseen.

A run of `skinseg train` learns from the profile's draw of its pre-training
folders (`splits.select_pool`) and, with a target folder, from the target's
training split, never from its evaluation images (`add_target_training`). The
profile's validation share is held out for early stopping, or an earlier run's
validation images are kept in validation (`split_training`). Every other image
of the folders is left unseen (`unseen_pairs`), and the three lists are recorded
in the run's `splits.json` (`record_training_splits`), so that a model card can
be computed on images the weights never saw.
"""

from pathlib import Path

from skin_segmentation.data.splits import split_target, split_validation, split_validation_keeping
from skin_segmentation.data.splits_file import write_splits


def _key(pair):
    return pair.source, pair.stem


def target_split(target, profile):
    """The target's training and evaluation pairs, drawn as the profile says.

    Args:
        target: the target set, a list of `SkinPair`.
        profile: a `Profile` or its name: its `target_train`, `target_eval`,
            `seed` and `target_selection` (`splits.split_target`).

    Returns:
        `(train, evaluation)`, two disjoint lists of `SkinPair`.

    Raises:
        ValueError: the target set has no more than `profile.target_train` pairs.

    Example:
    >>> from skin_segmentation.data import read_folder, sample_datasets
    >>> train, evaluation = target_split(read_folder(sample_datasets()[1]), "tiny")
    >>> len(train), len(evaluation)
    (10, 6)
    """
    from skin_segmentation.profiles import get_profile

    profile = get_profile(profile)
    return split_target(
        target, n_train=profile.target_train, n_eval=profile.target_eval, seed=profile.seed,
        selection=profile.target_selection,
    )


def add_target_training(pairs, target, profile):
    """Add the target's training split to `pairs` and take out its evaluation images.

    A pair is known by `(source, stem)`: a target training pair already in
    `pairs` is not added twice, and a target evaluation pair that `pairs` holds
    (the target folder also drawn from as a pre-training folder) is removed.

    Args:
        pairs: the pairs drawn so far (`splits.select_pool`), a list of `SkinPair`.
        target: every pair of the target folder.
        profile: a `Profile` or its name; it draws the target's split (`target_split`).

    Returns:
        `(pairs, target_train, target_eval)`: the pairs to learn from (`pairs`
        in their order, then the target's new training pairs), and the target's
        training and evaluation splits.

    Raises:
        ValueError: the target set has no more than `profile.target_train` pairs.

    Example:
    >>> from skin_segmentation.data import read_datasets, read_folder, sample_datasets
    >>> from skin_segmentation.data.splits import select_pool
    >>> pool, target = sample_datasets()
    >>> drawn = select_pool(read_datasets(pool), "tiny")
    >>> pairs, target_train, target_eval = add_target_training(drawn, read_folder(target), "tiny")
    >>> len(drawn), len(target_train), len(target_eval), len(pairs)
    (12, 10, 6, 22)
    >>> set(target_eval) & set(pairs)
    set()
    """
    target_train, target_eval = target_split(target, profile)
    evaluated = {_key(pair) for pair in target_eval}
    seen = {_key(pair) for pair in pairs}
    kept = [pair for pair in pairs if _key(pair) not in evaluated]
    kept += [pair for pair in target_train if _key(pair) not in seen]
    return kept, target_train, target_eval


def split_training(pairs, profile, validation_from=None):
    """Hold out the profile's validation share of `pairs` for early stopping.

    Args:
        pairs: the pairs to learn from, a list of `SkinPair`.
        profile: a `Profile` or its name: its `validation_fraction` and `seed`.
        validation_from: an earlier run's `splits.json`, or `None`. When given,
            its validation images stay in validation and its training images
            in training, and only the pairs it never had are split
            (`splits.split_validation_keeping`).

    Returns:
        `(train, validation)`, two disjoint lists of `SkinPair`.

    Raises:
        ValueError: fewer than 2 pairs to split.
        DataError: `validation_from` is not the splits file of a training run.

    Example:
    >>> from pathlib import Path
    >>> from skin_segmentation.data import SkinPair
    >>> pairs = [SkinPair(Path(f"{i}.jpg"), Path(f"{i}.png"), f"p{i}", "abdomen") for i in range(10)]
    >>> train, validation = split_training(pairs, "tiny")
    >>> len(train), len(validation), set(train) & set(validation)
    (8, 2, set())
    """
    from skin_segmentation.profiles import get_profile

    profile = get_profile(profile)
    if validation_from:
        return split_validation_keeping(
            pairs, validation_from, fraction=profile.validation_fraction, seed=profile.seed
        )
    return split_validation(pairs, fraction=profile.validation_fraction, seed=profile.seed)


def unseen_pairs(pairs, train_pairs):
    """The pairs of `pairs` a run does not train on, in their order.

    The validation split is among them: the weights never learn from it.

    Args:
        pairs: every pair of the run's folders (pre-training and target).
        train_pairs: the pairs the run trains on.

    Returns:
        A list of `SkinPair`: those of `pairs` whose `(source, stem)` is not
        in `train_pairs`.

    Example:
    >>> from pathlib import Path
    >>> from skin_segmentation.data import SkinPair
    >>> pairs = [SkinPair(Path(f"{i}.jpg"), Path(f"{i}.png"), f"p{i}", "abdomen") for i in range(4)]
    >>> [pair.stem for pair in unseen_pairs(pairs, pairs[1:3])]
    ['p0', 'p3']
    """
    trained = {_key(pair) for pair in train_pairs}
    return [pair for pair in pairs if _key(pair) not in trained]


def record_training_splits(path, train_pairs, validation_pairs, every_pair, seed=None):
    """Write which images a run trains and validates on, and which it leaves unseen.

    The file (`splits_file.write_splits`, written atomically) lists `train`,
    `validation` and `held_out`: every pair of `every_pair` not trained on
    (`unseen_pairs`): the validation split, the pool images not drawn, and the
    target's evaluation images.

    Args:
        path: the JSON file to write (a run's `splits.json`).
        train_pairs: the pairs trained on.
        validation_pairs: the pairs validated on.
        every_pair: every pair of the run's folders.
        seed: the seed the splits were drawn with.

    Returns:
        The path written.

    Example:
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from skin_segmentation.data import SkinPair, read_splits
    >>> pairs = [SkinPair(Path(f"{i}.jpg"), Path(f"{i}.png"), f"p{i}", "abdomen") for i in range(4)]
    >>> path = record_training_splits(os.path.join(tempfile.mkdtemp(), "splits.json"),
    ...                               pairs[:2], pairs[2:3], pairs, seed=0)
    >>> read_splits(path)
    {'train': ['p0', 'p1'], 'validation': ['p2'], 'held_out': ['p2', 'p3']}
    """
    from skin_segmentation.atomic_files import atomic_path

    with atomic_path(Path(path)) as temporary:
        write_splits(
            temporary, seed=seed, train=train_pairs, validation=validation_pairs,
            held_out=unseen_pairs(every_pair, train_pairs),
        )
    return Path(path)
