"""Splits and sampling, deterministic from a seed.

The paper's protocol (Codella et al. 2018): the 400 target photographs (taken
from a larger collection "in MD5 sorted order") are split into 100 for training
or fine-tuning and 300 for evaluation; 20% of any training set is held out for
validation; pre-training draws from several public sets (the paper drew 1000
from LFW, 721 from LVS and 899 from HGR, 2620 in all).

Every function orders the pairs by `(source, stem)` before drawing, so the
result depends on the seed and the set of pairs, not on the order the pairs were
listed in. Each function mixes its own constant into the seed, so that, for one
seed, the validation split is not a function of the target split's permutation.

The splits a run drew are recorded by stem in a splits file (`splits_file`).
"""

import hashlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from skin_segmentation.data.readers import DataError, SkinPair
from skin_segmentation.data.splits_file import read_splits

TARGET_SELECTIONS = ("seeded", "md5")

# The paper's target split: 100 photographs to train or fine-tune on, 300 to evaluate on.
TARGET_TRAIN_IMAGES = 100
TARGET_EVAL_IMAGES = 300

_TARGET_STREAM = 101
_VALIDATION_STREAM = 202
_POOL_STREAM = 303
# The package's folder, as its code objects name their files (`_caller_outside_package`).
_PACKAGE_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "")


def _canonical(pairs):
    pairs = list(pairs)
    stems = [pair.stem for pair in pairs]
    if len(set(stems)) != len(stems):
        duplicated = sorted({s for s in stems if stems.count(s) > 1})
        raise ValueError(f"`pairs` holds a stem more than once. Received duplicates: {duplicated[:5]}")
    return sorted(pairs, key=lambda pair: (pair.source, pair.stem))


def _rng(seed, stream):
    if int(seed) < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed}")
    return np.random.default_rng([int(seed), stream])


def split_target(
    pairs, n_train=TARGET_TRAIN_IMAGES, n_eval=TARGET_EVAL_IMAGES, seed=0, selection="seeded"
):
    """The paper's target split: `n_train` training and `n_eval` evaluation pairs.

    With `selection="seeded"` the pairs are permuted by `seed`; the first
    `n_train` train, the next `n_eval` evaluate and the rest (217 of the 617
    abdominal photographs here) are left out. With `selection="md5"` the
    `n_train + n_eval` pairs whose image files come first in the MD5 order of
    their bytes are kept, as the paper took its 400 clinical photographs, and
    `seed` divides them into training and evaluation (the paper does not say
    how it divided its 400). With fewer than `n_train + n_eval` pairs,
    evaluation gets whatever follows the `n_train` training pairs and a
    `UserWarning` says so.

    Args:
        pairs: the target set, a list of `SkinPair`.
        n_train: training (and fine-tuning) pairs.
        n_eval: evaluation pairs.
        seed: non-negative integer.
        selection: `"seeded"` or `"md5"`.

    Returns:
        `(train, evaluation)`, two disjoint lists of `SkinPair`, each in the
        order drawn.

    Raises:
        ValueError: when there are not more than `n_train` pairs.

    Example:
    >>> from skin_segmentation.data import read_folder, sample_datasets
    >>> train, evaluation = split_target(read_folder(sample_datasets()[1]), seed=0)
    >>> len(train), len(evaluation)
    (100, 300)
    """
    if n_train < 1 or n_eval < 1:
        raise ValueError(f"`n_train` and `n_eval` must be positive. Received: n_train={n_train}, n_eval={n_eval}")
    if selection not in TARGET_SELECTIONS:
        raise ValueError(
            f"`selection` must be one of {TARGET_SELECTIONS}. Received: selection={selection!r}"
        )
    ordered = _canonical(pairs)
    if selection == "md5":
        ordered = _canonical(sorted(ordered, key=image_md5)[: n_train + n_eval])
    if len(ordered) <= n_train:
        raise ValueError(
            f"The target set needs more than n_train={n_train} pairs to leave any for "
            f"evaluation. Received: {len(ordered)} pairs"
        )
    if len(ordered) < n_train + n_eval:
        warnings.warn(
            f"The target set has {len(ordered)} pairs, fewer than n_train + n_eval = "
            f"{n_train + n_eval}; evaluating on the remaining {len(ordered) - n_train}.",
            UserWarning,
            stacklevel=_caller_outside_package(),
        )
    order = _rng(seed, _TARGET_STREAM).permutation(len(ordered))
    train = [ordered[i] for i in order[:n_train]]
    evaluation = [ordered[i] for i in order[n_train:n_train + n_eval]]
    return train, evaluation


def _caller_outside_package():
    """The `stacklevel` at which a warning of the calling function names the user's line.

    `split_target` is called directly and through `training_set.target_split` (and
    the functions above that), so no fixed level names the line that called the
    package; this one skips every frame of the package (as Python 3.12's
    `skip_file_prefixes` does; the package supports 3.10).
    """
    level, frame = 2, sys._getframe(2)  # 1 is the function that warns, 2 its caller
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    return level


def image_md5(pair):
    """The MD5 hex digest of a pair's image file, its bytes as stored.

    Raises:
        DataError: naming the file when it cannot be read.
    """
    try:
        return hashlib.md5(Path(pair.image).read_bytes(), usedforsecurity=False).hexdigest()
    except OSError as error:
        raise DataError(pair.image, f"cannot read the image to hash it ({error.strerror})") from None


def split_validation(pairs, fraction=0.2, seed=0):
    """Hold out `fraction` of a training set for validation.

    `round(fraction * len(pairs))` pairs validate (at least one, and at least one
    is left to train): 20 of the paper's 100.

    Args:
        pairs: a training set, a list of `SkinPair`.
        fraction: in (0, 1).
        seed: non-negative integer.

    Returns:
        `(train, validation)`, two disjoint lists of `SkinPair`.

    Example:
    >>> from skin_segmentation.data import read_folder, sample_datasets
    >>> train, _ = split_target(read_folder(sample_datasets()[1]))
    >>> fit, validation = split_validation(train, fraction=0.2, seed=0)
    >>> len(fit), len(validation)
    (80, 20)
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"`fraction` must lie in (0, 1). Received: fraction={fraction}")
    ordered = _canonical(pairs)
    if len(ordered) < 2:
        raise ValueError(f"Holding out validation needs at least 2 pairs. Received: {len(ordered)} pairs")
    n_validation = min(max(1, int(round(fraction * len(ordered)))), len(ordered) - 1)
    order = _rng(seed, _VALIDATION_STREAM).permutation(len(ordered))
    validation = [ordered[i] for i in order[:n_validation]]
    train = [ordered[i] for i in order[n_validation:]]
    return train, validation


def split_validation_keeping(pairs, splits_file, fraction=0.2, seed=0):
    """Hold out validation as an earlier run did, and split only the pairs it never had.

    An earlier validation pair stays in validation, an earlier training pair in
    training, and only the pairs new to this run are split (`split_validation`):
    a run continued on more data keeps its validation images unseen.

    Args:
        pairs: this run's training set, a list of `SkinPair`.
        splits_file: the earlier run's `splits.json` (`write_splits`), with
            `train` and `validation` lists of stems (else a `DataError`).
        fraction: the share of the new pairs to validate on.
        seed: seed of the new pairs' split.

    Returns:
        `(train, validation)`, two disjoint lists of `SkinPair`.

    Example:
    >>> import os, tempfile
    >>> from skin_segmentation.data import read_folder, sample_datasets, write_splits
    >>> pairs, path = read_folder(sample_datasets()[1])[:30], os.path.join(tempfile.mkdtemp(), "s.json")
    >>> _ = write_splits(path, train=pairs[:16], validation=pairs[16:20])
    >>> train, validation = split_validation_keeping(pairs, path, fraction=0.2)
    >>> len(train), len(validation), set(pairs[16:20]) <= set(validation)
    (24, 6, True)
    """
    earlier = read_splits(splits_file)
    if "train" not in earlier or "validation" not in earlier:
        raise DataError(splits_file, "needs the `train` and `validation` lists of a training run")
    trained, validated = set(earlier["train"]), set(earlier["validation"])
    ordered = _canonical(pairs)
    new = [pair for pair in ordered if pair.stem not in trained | validated]
    new_train, new_validation = split_validation(new, fraction, seed) if len(new) > 1 else (new, [])
    return ([pair for pair in ordered if pair.stem in trained] + new_train,
            [pair for pair in ordered if pair.stem in validated] + new_validation)


def balanced_pool(pairs, per_source=None, seed=0):
    """Draw a pre-training pool balanced across the `source` of each pair.

    Args:
        pairs: pairs of one or more sources.
        per_source: how many pairs to draw from each source:
            - `None`: as many as the smallest source has, from every source
              (strictly balanced);
            - an int `n`: `min(n, size of the source)` from each;
            - a dict `{source: n}`: exactly `n` from each named source (the
              paper's `{"lfw": 1000, "lvs": 721, "hgr": 899}`); sources not named
              are left out, and asking for more than a source has is an error.
        seed: non-negative integer.

    Returns:
        A list of `SkinPair`, grouped by source (sorted by name), each group
        sorted by stem.

    Example:
    >>> from skin_segmentation.data import read_datasets, sample_datasets
    >>> pool = balanced_pool(read_datasets(sample_datasets()[0]), per_source=50)
    >>> from collections import Counter
    >>> sorted(Counter(pair.source for pair in pool).items())
    [('fasseg', 50), ('hgr_subset', 50), ('sfa', 50)]
    """
    by_source = {}
    for pair in _canonical(pairs):
        by_source.setdefault(pair.source, []).append(pair)
    if not by_source:
        raise ValueError("`pairs` is empty; a pre-training pool needs at least one source.")
    if per_source is None:
        wanted = dict.fromkeys(by_source, min(len(group) for group in by_source.values()))
    elif isinstance(per_source, dict):
        unknown = sorted(set(per_source) - set(by_source))
        if unknown:
            raise ValueError(
                f"`per_source` names sources that are not in `pairs`: {unknown}. "
                f"Sources present: {sorted(by_source)}"
            )
        wanted = {}
        for source, count in per_source.items():
            if not 0 <= int(count) <= len(by_source[source]):
                raise ValueError(
                    f"Source {source!r} has {len(by_source[source])} pairs. "
                    f"Received: per_source[{source!r}]={count}"
                )
            wanted[source] = int(count)
    else:
        if int(per_source) < 1:
            raise ValueError(f"`per_source` must be positive. Received: per_source={per_source}")
        wanted = {source: min(int(per_source), len(group)) for source, group in by_source.items()}
    pool = []
    rng = _rng(seed, _POOL_STREAM)
    for source in sorted(by_source):
        group = by_source[source]
        # Every source consumes one permutation, drawn or not, so that one
        # source's count does not change what is drawn from the others.
        chosen = rng.permutation(len(group))[: wanted.get(source, 0)]
        pool.extend(sorted((group[i] for i in chosen), key=lambda pair: pair.stem))
    return pool


def source_counts(pairs):
    """How many pairs come from each source, sorted by source name.

    Example:
    >>> source_counts([SkinPair("a.jpg", "a.png", "a", "sfa"), SkinPair("b.jpg", "b.png", "b", "hgr")])
    {'hgr': 1, 'sfa': 1}
    """
    counts = {}
    for pair in pairs:
        counts[pair.source] = counts.get(pair.source, 0) + 1
    return dict(sorted(counts.items()))


def select_pool(pairs, profile):
    """The pre-training images, drawn equally from every source or in given shares.

    With `profile.pretrain_shares` (one weight per source, in the order the
    sources first appear in `pairs`, i.e. the order of the pre-training folders),
    the largest pool of at most `pretrain_images` in those proportions that the
    data allow (`proportional_counts`; the paper's 1000/721/899). Otherwise, with
    `profile.pretrain_images` set, `pretrain_images // number of sources` come
    from each source (all of a source that has fewer); with `None`, as many from
    each source as the smallest one has (`balanced_pool`). A profile with
    `balance_sources` keeps every image: its training draws the sources equally
    often instead (`pipeline.make_dataset`).

    Args:
        pairs: the `SkinPair`s of every pre-training folder.
        profile: a `Profile` or its name; its `seed` draws the images.

    Raises:
        ValueError: `pairs` is empty, or `pretrain_shares` does not give one
            share per source.
    """
    from skin_segmentation.profiles import get_profile

    profile = get_profile(profile)
    sources = source_counts(pairs)
    if not sources:
        raise ValueError("The pre-training pool is empty: no image/mask pairs were found.")
    if profile.balance_sources:
        return _canonical(pairs)
    if profile.pretrain_shares is not None:
        in_order = list(dict.fromkeys(pair.source for pair in pairs))
        if len(profile.pretrain_shares) != len(in_order):
            raise ValueError(
                f"Profile {profile.name!r} gives {len(profile.pretrain_shares)} pre-training "
                f"shares for {len(in_order)} sources ({', '.join(in_order)}). Received: "
                f"pretrain_shares={profile.pretrain_shares}"
            )
        shares = dict(zip(in_order, profile.pretrain_shares, strict=True))
        counts = proportional_counts(sources, shares, total=profile.pretrain_images)
        return balanced_pool(pairs, per_source=counts, seed=profile.seed)
    per_source = None
    if profile.pretrain_images is not None:
        per_source = max(1, profile.pretrain_images // len(sources))
    return balanced_pool(pairs, per_source=per_source, seed=profile.seed)


def proportional_counts(available, shares, total=None):
    """How many pairs to draw from each source to follow given proportions.

    The paper's pool held 1000, 721 and 899 images of its three sources. This
    gives the largest pool of at most `total` pairs whose per-source counts keep
    the proportions of `shares` (to the nearest image) while no source gives
    more than it has: with the paper's sources and `total=2620` exactly
    1000/721/899; with smaller sources a smaller pool in the same proportions.

    Args:
        available: `{source: number of pairs it has}`.
        shares: `{source: positive weight}`, the same sources.
        total: the most pairs in all, or `None` for as many as the data allow.

    Returns:
        `{source: count}`, to pass as `balanced_pool(..., per_source=...)`.

    Raises:
        ValueError: when the sources differ or a share or `total` is not positive.

    Example:
    >>> proportional_counts({"lfw": 13000, "lvs": 5000, "hgr": 899},
    ...                     {"lfw": 1000, "lvs": 721, "hgr": 899}, total=2620)
    {'lfw': 1000, 'lvs': 721, 'hgr': 899}
    >>> proportional_counts({"sfa": 1118, "fasseg": 208, "hgr": 178},
    ...                     {"sfa": 1000, "fasseg": 721, "hgr": 899}, total=2620)
    {'sfa': 198, 'fasseg': 142, 'hgr': 178}
    """
    if set(available) != set(shares) or not shares:
        raise ValueError(
            f"`shares` must name the sources of the pool. Received: shares for "
            f"{sorted(shares)}, sources {sorted(available)}"
        )
    if min(shares.values()) <= 0 or (total is not None and total < 1):
        raise ValueError(
            f"Shares and `total` must be positive. Received: shares={shares}, total={total}"
        )
    weight = sum(shares.values())
    fitting = min(available[source] * weight / share for source, share in shares.items())
    size = int(min(fitting, total) if total is not None else fitting)
    ideal = {source: size * share / weight for source, share in shares.items()}
    counts = {source: min(int(value), available[source]) for source, value in ideal.items()}
    by_remainder = sorted(shares, key=lambda source: ideal[source] - int(ideal[source]), reverse=True)
    for source in by_remainder[: size - sum(counts.values())]:
        counts[source] = min(counts[source] + 1, available[source])
    return counts
