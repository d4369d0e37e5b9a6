"""Evaluation: score a model on a dataset at full resolution (Jaccard and Dice pooled over
all pixels of the set and as means of per-image scores, pixel precision, recall and F1),
on all of it or on a split.

The masks come from `inference.predict_confidence`, at each photograph's own size.
"""

from skin_segmentation import metrics
from skin_segmentation.data.splits import TARGET_EVAL_IMAGES, TARGET_TRAIN_IMAGES
from skin_segmentation.inference import BATCH_SIZE, check_batch_size, predict_confidence, progress_bar

PER_IMAGE_COLUMNS = ("stem", "source", "height", "width", "jaccard", "dice", "tp", "fp", "fn")
SPLITS = ("all", "eval", "train")
# The seed `skinseg train` and `skinseg replicate` draw the paper's target split with
# (the profiles' default seed).
SPLIT_SEED = 0


def select_split(pairs, split="all", seed=SPLIT_SEED, splits_file=None):
    """The pairs of a dataset that `skinseg evaluate --split` scores.

    Args:
        pairs: `SkinPair`s of one dataset (`data.readers.read_dataset`).
        split: without `splits_file`: `"all"`; `"eval"`, the target's 300
            evaluation images; or `"train"`, its 100 training images, both as
            `data.splits.split_target` draws them with `seed` (the seed
            `skinseg train` and `replicate` use). With `splits_file`: the name of
            one of its splits.
        seed: the seed of `"eval"` and `"train"`.
        splits_file: a JSON file written by `data.splits.write_splits` (e.g. a
            training run's train/validation stems); the pairs of `pairs` whose
            stems its split `split` lists are kept, in the file's order.

    Returns:
        A list of `SkinPair`s.

    Example:
    >>> train, evaluation = split_target(read_dataset("data/abdomen"))  # doctest: +SKIP
    >>> select_split(read_dataset("data/abdomen"), "eval") == evaluation  # doctest: +SKIP
    True
    """
    pairs = list(pairs)
    if splits_file is not None:
        from skin_segmentation.data.splits import read_splits

        named = read_splits(splits_file)
        if split not in named:
            raise ValueError(
                f"{splits_file}: no split named {split!r}; it has "
                f"{', '.join(sorted(named)) or 'none'}. Received: --split {split}"
            )
        by_stem = {pair.stem: pair for pair in pairs}
        chosen = [by_stem[stem] for stem in named[split] if stem in by_stem]
        if not chosen:
            raise ValueError(
                f"{splits_file}: none of the {len(named[split])} stems of split {split!r} "
                f"is in this dataset (e.g. {named[split][:3]})."
            )
        return chosen
    if split == "all":
        return pairs
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {', '.join(SPLITS)} (or a split of --splits FILE). "
            f"Received: split={split!r}"
        )
    from skin_segmentation.data.splits import split_target

    train, evaluation = split_target(pairs, TARGET_TRAIN_IMAGES, TARGET_EVAL_IMAGES, seed=seed)
    return list(evaluation if split == "eval" else train)


def summarize(per_image):
    """Jaccard and Dice pooled and per-image means, and pixel precision/recall/F1.

    The pooled scores are the ones to set beside the paper's Table I: each of
    its Dice figures is 2J/(1+J) of its Jaccard, which holds for scores pooled
    over all pixels of a set, not for means of per-image scores. (The pooled
    Dice equals the pixel F1.)

    Args:
        per_image: a DataFrame with columns `jaccard`, `dice`, `tp`, `fp`, `fn`
            (as `evaluate_pairs` returns).

    Returns:
        A dict: `pooled_jaccard`, `pooled_dice`, `mean_jaccard`, `mean_dice`,
        `pixel_precision`, `pixel_recall`, `pixel_f1`, `n`.

    Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"jaccard": [0.9, 0.1], "dice": [180 / 190, 2 / 11],
    ...                       "tp": [90, 1], "fp": [10, 3], "fn": [0, 6]})
    >>> summary = summarize(frame)
    >>> round(summary["pooled_jaccard"], 4), round(summary["mean_jaccard"], 4)
    (0.8273, 0.5)
    """
    tp, fp, fn = (int(per_image[column].sum()) for column in ("tp", "fp", "fn"))
    precision, recall, f1 = metrics.pixel_f1(tp, fp, fn)
    pooled_jaccard, pooled_dice = metrics.pooled_scores(tp, fp, fn)
    return {
        "pooled_jaccard": pooled_jaccard,
        "pooled_dice": pooled_dice,
        "mean_jaccard": float(per_image["jaccard"].mean()),
        "mean_dice": float(per_image["dice"].mean()),
        "pixel_precision": float(precision),
        "pixel_recall": float(recall),
        "pixel_f1": float(f1),
        "n": int(len(per_image)),
    }


def evaluate_pairs(model, pairs, batch_size=BATCH_SIZE, progress=False):
    """Per-image Jaccard and Dice of a model, each at the image's native resolution.

    Args:
        model: a skin model (see `predict_confidence`).
        pairs: `SkinPair`s (`data.readers.read_dataset`); read a batch at a time.
        batch_size: images per network call.
        progress: draw a progress bar on stderr.

    Returns:
        `(per_image, summary)`: a pandas DataFrame with columns `stem`, `source`,
        `height`, `width`, `jaccard`, `dice`, `tp`, `fp`, `fn` (one row per pair,
        in order), and `summarize(per_image)`.

    Example:
    >>> per_image, summary = evaluate_pairs(model, read_dataset("data/abdomen"))  # doctest: +SKIP
    >>> summary["mean_jaccard"], summary["pixel_f1"], summary["n"]  # doctest: +SKIP
    """
    import pandas as pd

    from skin_segmentation.data.readers import load_pair

    batch_size = check_batch_size(batch_size)
    pairs = list(pairs)
    if not pairs:
        raise ValueError("No image/mask pairs to evaluate. Received: pairs=[]")
    rows = []
    with progress_bar(len(pairs), enabled=progress) as advance:
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start : start + batch_size]
            loaded = [load_pair(pair) for pair in batch]
            confidences = predict_confidence(model, [image for image, _ in loaded], batch_size)
            for pair, (image, mask), confidence in zip(batch, loaded, confidences):
                tp, fp, fn = metrics.pixel_counts(mask, confidence)
                rows.append({
                    "stem": pair.stem,
                    "source": pair.source,
                    "height": int(mask.shape[0]),
                    "width": int(mask.shape[1]),
                    "jaccard": metrics.jaccard_index(mask, confidence),
                    "dice": metrics.dice_coefficient(mask, confidence),
                    "tp": tp,
                    "fp": fp,
                    "fn": fn,
                })
            advance(len(batch))
    per_image = pd.DataFrame(rows, columns=list(PER_IMAGE_COLUMNS))
    return per_image, summarize(per_image)
