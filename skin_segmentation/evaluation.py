"""Evaluation: score a model on a dataset at full resolution (Jaccard and Dice pooled over
all pixels of the set and as means of per-image scores, pixel precision, recall and F1),
on all of it or on a split, and, with `evaluate_by_tone`, per skin-tone group beside the
colour baselines.

The masks come from `inference.predict_confidence`, at each photograph's own size;
with `fill_holes` (and `fill_enclosed` for islands that skin encloses), small
non-skin islands of the thresholded mask are filled (`postprocess.fill_small_holes`)
before it is counted, as `skinseg predict` does.
A photograph's tone is that of its ground-truth skin (`tone.skin_tone`), so every
model is grouped the same way.
"""

from pathlib import Path

import numpy as np

from skin_segmentation import metrics
from skin_segmentation.data.splits import TARGET_EVAL_IMAGES, TARGET_TRAIN_IMAGES
from skin_segmentation.groups import group_gaps, metrics_by_group, write_group_tables
from skin_segmentation.inference import BATCH_SIZE, check_batch_size, predict_confidence, progress_bar
from skin_segmentation.postprocess import check_fill_shares, fill_small_holes
from skin_segmentation.tone import FITZPATRICK_COLUMN, TONE_COLUMNS, fitzpatrick_for_pairs, skin_tone

PER_IMAGE_COLUMNS = ("stem", "source", "height", "width", "jaccard", "dice", "tp", "fp", "fn")
# The groupings of `evaluate_by_tone`, with the suffix of their files.
TONE_GROUPINGS = {"ita_category": "", FITZPATRICK_COLUMN: "_fitzpatrick"}
SPLITS = ("all", "eval", "train")
SET_SCORES = (
    "two_class_miou", "mean_two_class_miou", "pooled_jaccard", "mean_jaccard", "pixel_f1", "pixel_precision", "pixel_recall", "n",
)
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
        splits_file: a JSON file written by `data.splits_file.write_splits` (e.g. a
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
        from skin_segmentation.data.splits_file import read_splits

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
        `pixel_precision`, `pixel_recall`, `pixel_f1`, `n`; and, when
        `per_image` has each image's `height` and `width`, the two-class mIoU
        pooled and per image (`two_class_miou`, `mean_two_class_miou`, as
        `set_scores`).

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
    summary = {
        "pooled_jaccard": pooled_jaccard,
        "pooled_dice": pooled_dice,
        "mean_jaccard": float(per_image["jaccard"].mean()),
        "mean_dice": float(per_image["dice"].mean()),
        "pixel_precision": float(precision),
        "pixel_recall": float(recall),
        "pixel_f1": float(f1),
    }
    if {"height", "width"} <= set(per_image.columns):
        scores = set_scores(per_image)
        summary.update(two_class_miou=scores["two_class_miou"],
                       mean_two_class_miou=scores["mean_two_class_miou"])
    summary["n"] = int(len(per_image))
    return summary


def set_scores(per_image):
    """Scores of a set of images from their per-image pixel counts.

    Args:
        per_image: a DataFrame with `height`, `width`, `tp`, `fp`, `fn` and
            `jaccard` per image (as `evaluation.evaluate_pairs` returns).

    Returns:
        A dict of `SET_SCORES`. `two_class_miou` is the mean of the skin and
        non-skin IoU pooled over all pixels of the set; `mean_two_class_miou`
        averages each image's own two-class mIoU, where a class absent from
        both its truth and its prediction (no background in a close-up that is
        all skin) is left out of that image's mean. A ratio with nothing to
        count (no skin predicted, say, for precision) is `nan`; the pixel F1,
        2TP / (2TP + FP + FN), is 0 for a network that calls nothing skin where
        there is skin, and `nan` only where neither truth nor prediction has any.

    Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"height": [2], "width": [2], "tp": [1], "fp": [1], "fn": [0],
    ...                       "jaccard": [0.5]})
    >>> scores = set_scores(frame)
    >>> scores["pooled_jaccard"], scores["two_class_miou"], scores["pixel_f1"]
    (0.5, 0.5833333333333333, 0.6666666666666666)
    """
    pixels = per_image["height"] * per_image["width"]
    with np.errstate(invalid="ignore", divide="ignore"):
        image_skin_iou = per_image["tp"] / (per_image["tp"] + per_image["fp"] + per_image["fn"])
        image_tn = pixels - per_image["tp"] - per_image["fp"] - per_image["fn"]
        image_non_skin_iou = image_tn / (image_tn + per_image["fp"] + per_image["fn"])
    image_miou = np.nanmean(np.stack([image_skin_iou, image_non_skin_iou]).astype(float), axis=0)
    tp, fp, fn = (float(per_image[column].sum()) for column in ("tp", "fp", "fn"))
    tn = float((per_image["height"] * per_image["width"]).sum()) - tp - fp - fn

    def ratio(numerator, denominator):
        return numerator / denominator if denominator else float("nan")

    skin_iou, non_skin_iou = ratio(tp, tp + fp + fn), ratio(tn, tn + fp + fn)
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {
        "two_class_miou": float(np.nanmean([skin_iou, non_skin_iou])),
        "mean_two_class_miou": float(np.mean(image_miou)),
        "pooled_jaccard": skin_iou,
        "mean_jaccard": float(per_image["jaccard"].mean()),
        "pixel_f1": ratio(2 * tp, 2 * tp + fp + fn),
        "pixel_precision": precision,
        "pixel_recall": recall,
        "n": int(len(per_image)),
    }


def _usable(pairs, on_error):
    """`(pair, image, mask)` of each pair that loads; the others go to `on_error`."""
    from skin_segmentation.data.readers import DataError, load_pair

    loaded = []
    for pair in pairs:
        try:
            loaded.append((pair, *load_pair(pair)))
        except DataError as error:
            if on_error is None:
                raise
            on_error(error, pair.image)
    return loaded


def evaluate_pairs(model, pairs, batch_size=BATCH_SIZE, progress=False, tone=False, on_error=None,
                   fill_holes=0.0, fill_enclosed=0.0):
    """Per-image Jaccard and Dice of a model, each at the image's native resolution.

    Args:
        model: a skin model or a baseline (see `inference.predict_confidence`).
        pairs: `SkinPair`s (`data.readers.read_dataset`); read a batch at a time.
        batch_size: images per network call.
        progress: draw a progress bar on stderr.
        tone: add each image's skin tone (`tone.TONE_COLUMNS`, from its
            ground-truth skin) and `fitzpatrick_type` (where `pairs.tsv` gives it).
        on_error: called as `on_error(error, pair.image)` for a pair that cannot
            be used (`DataError`: unreadable image or mask, sizes that differ, a
            mask that is not two-valued), which is then left out
            (`problems.ProblemLog.add`); `None`: the error is raised.
        fill_holes: non-skin regions of a prediction smaller than this share
            of its photograph are made skin before counting
            (`postprocess.fill_small_holes`); `0`: none (Table I).
        fill_enclosed: non-skin regions that skin encloses (touching no edge)
            are filled up to this larger share; `0`: as any other region.

    Returns:
        `(per_image, summary)`: a pandas DataFrame with columns `stem`, `source`,
        `height`, `width`, `jaccard`, `dice`, `tp`, `fp`, `fn` (one row per pair
        used, in order), and `summarize(per_image)`.

    Example:
    >>> per_image, summary = evaluate_pairs(model, read_dataset("data/abdomen"))  # doctest: +SKIP
    >>> summary["mean_jaccard"], summary["pixel_f1"], summary["n"]  # doctest: +SKIP
    """
    per_image = evaluate_models({"model": model}, pairs, batch_size, progress, tone, on_error,
                                fill_holes, fill_enclosed)
    per_image = per_image.drop(columns="model")
    return per_image, summarize(per_image)


def _prediction(confidence, fill_holes, fill_enclosed):
    """What is scored: `confidence` itself, or its mask with small holes filled."""
    if not fill_holes:  # 0 turns the post-processing off, the enclosed share included
        return confidence
    return fill_small_holes(confidence >= metrics.THRESHOLD, fill_holes, in_place=True,
                            enclosed_fraction=fill_enclosed)


def _score_row(name, pair, mask, confidence):
    tp, fp, fn = metrics.pixel_counts(mask, confidence)
    return {
        "model": name,
        "stem": pair.stem,
        "source": pair.source,
        "height": int(mask.shape[0]),
        "width": int(mask.shape[1]),
        "jaccard": metrics.jaccard_index(mask, confidence),
        "dice": metrics.dice_coefficient(mask, confidence),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def evaluate_models(detectors, pairs, batch_size=BATCH_SIZE, progress=False, tone=False, on_error=None,
                    fill_holes=0.0, fill_enclosed=0.0):
    """Per-image scores of several detectors on the same pairs, each pair read once.

    Args:
        detectors: `{name: detector}`, each a skin model or a baseline.
        pairs: `SkinPair`s.
        batch_size: images per network call.
        progress: draw a progress bar on stderr.
        tone: add `tone.TONE_COLUMNS` and `fitzpatrick_type` (see `evaluate_pairs`).
        on_error: what to do with a pair that cannot be used (see `evaluate_pairs`).
        fill_holes, fill_enclosed: the shares below which a predicted non-skin
            region is filled (see `evaluate_pairs`).

    Returns:
        A DataFrame: `model`, then `PER_IMAGE_COLUMNS` (and the tone columns),
        one row per model and pair, model by model in the order given.

    Raises:
        ValueError: no pairs or no detectors, or a fill share not in [0, 1).
    """
    import pandas as pd

    batch_size = check_batch_size(batch_size)
    fill = check_fill_shares(fill_holes, fill_enclosed)
    pairs = list(pairs)
    if not pairs:
        raise ValueError("No image/mask pairs to evaluate. Received: pairs=[]")
    if not detectors:
        raise ValueError("No detector to evaluate. Received: detectors={}")
    rows = {name: [] for name in detectors}
    tones, used = [], []
    with progress_bar(len(pairs), enabled=progress) as advance:
        for start in range(0, len(pairs), batch_size):
            loaded = _usable(pairs[start : start + batch_size], on_error)
            used += [pair for pair, _, _ in loaded]
            images = [image for _, image, _ in loaded]
            for name, detector in detectors.items():
                confidences = predict_confidence(detector, images, batch_size) if loaded else []
                rows[name] += [
                    _score_row(name, pair, mask, _prediction(confidence, **fill))
                    for (pair, _, mask), confidence in zip(loaded, confidences)
                ]
            if tone:
                tones += [skin_tone(image, mask) for _, image, mask in loaded]
            advance(min(batch_size, len(pairs) - start))
    columns = ["model", *PER_IMAGE_COLUMNS]
    frames = [pd.DataFrame(found, columns=columns) for found in rows.values()]
    if tone:
        tone_frame = pd.DataFrame(tones, columns=list(TONE_COLUMNS))
        types = fitzpatrick_for_pairs(used)
        tone_frame[FITZPATRICK_COLUMN] = pd.array([types.get(pair.stem) for pair in used], dtype="Int64")
        frames = [pd.concat([frame, tone_frame], axis=1) for frame in frames]
    return pd.concat(frames, ignore_index=True)


def evaluate_by_tone(detectors, pairs, out=None, batch_size=BATCH_SIZE, progress=False, title=None,
                     on_error=None, fill_holes=0.0, fill_enclosed=0.0):
    """Scores per skin-tone group (ITA category; Fitzpatrick type where known), model by model.

    Args:
        detectors: `{name: detector}` (a network and baselines, say).
        pairs: `SkinPair`s.
        out: a path prefix, or None to write nothing. Written: `<out>.csv`,
            `<out>_gaps.csv`, `<out>.md` and `<out>.png` (by ITA category),
            the same with `_fitzpatrick` when some pair has a Fitzpatrick type,
            and `<out>_per_image.csv`.
        batch_size, progress: as `evaluate_models`.
        title: the heading of the Markdown files.
        on_error, fill_holes, fill_enclosed: see `evaluate_pairs`.

    Returns:
        `(per_image, reports, paths)`: the per-image DataFrame of
        `evaluate_models(..., tone=True)`; `{grouping: (table, gaps)}` of
        `groups.metrics_by_group` and `groups.group_gaps`; the files written.

    Example:
    >>> detectors = {"unet": load_skin_model(), "ycrcb": get_baseline("ycrcb")}  # doctest: +SKIP
    >>> _, reports, _ = evaluate_by_tone(detectors, pairs, out="abdomen_by_tone")  # doctest: +SKIP
    >>> reports["ita_category"][1]  # best and worst group of each model  # doctest: +SKIP
    """
    from skin_segmentation.plots import tone_boxplot
    from skin_segmentation.atomic_files import write_csv_atomic

    per_image = evaluate_models(detectors, pairs, batch_size, progress, tone=True, on_error=on_error,
                                fill_holes=fill_holes, fill_enclosed=fill_enclosed)
    reports, paths = {}, {}
    for by, suffix in TONE_GROUPINGS.items():
        if per_image[by].isna().all():
            continue
        table = metrics_by_group(per_image, by)
        reports[by] = (table, group_gaps(table))
        if out is not None:
            prefix = Path(f"{out}{suffix}")
            heading = f"{title or 'Scores'} by {by.replace('_', ' ')}"
            paths[by] = write_group_tables(*reports[by], prefix, title=heading)
            paths[by]["figure"] = prefix.with_name(f"{prefix.name}.png")
            tone_boxplot(per_image, paths[by]["figure"], by=by)
    if out is not None:
        paths["per_image"] = Path(f"{out}_per_image.csv")
        write_csv_atomic(paths["per_image"], per_image)
    return per_image, reports, paths
