"""Candidate networks and the colour baselines, side by side, on the sets a recipe is judged on.

The sets a bundled-weights candidate (or an ablation of its recipe) is judged
on, each at native resolution and on images the candidates never trained on:

- `abdomen_eval`: abdomen's 300 evaluation photographs (the paper's target);
- `clinical_ft13_all`: all 13 clinical close-ups (only for candidates that never saw them);
- `<source>_validation`: the validation split of each pool source in a training
  run's `splits.json` (ecu and ccp are people in the wild; negatives_indoor has
  no skin at all, so its `predicted_skin_share` is the share of an empty room
  called skin).

`score_sets` gives one row per model and set (`evaluation.set_scores` and
`predicted_skin_share`) and the per-image rows; `write_comparison` writes both
(`experiments/compare_models.py` is its command line).
"""

from pathlib import Path

import pandas as pd

from skin_segmentation.atomic_files import write_csv_atomic
from skin_segmentation.data.readers import read_dataset
from skin_segmentation.evaluation import evaluate_models, select_split, set_scores
from skin_segmentation.inference import load_detector

POOL_SOURCES = ("ecu", "ccp", "negatives_indoor", "sfa", "fasseg", "hgr_subset")
BASELINES = ("all_skin", "ycrcb")
TARGET_SET = "abdomen_eval"
CLINICAL_SET = "clinical_ft13_all"
SCORE_COLUMNS = ("two_class_miou", "mean_two_class_miou", "pooled_jaccard", "mean_jaccard",
                 "pixel_f1", "pixel_precision", "pixel_recall", "predicted_skin_share", "n")


def validation_set(source):
    """The name of a pool source's validation set, e.g. `"ecu_validation"`."""
    return f"{source}_validation"


def comparison_sets(data_root, splits_file, sources=POOL_SOURCES):
    """`{set name: pairs}`: abdomen's 300, clinical_ft13, each source's validation split.

    Args:
        data_root: the folder holding `abdomen`, `clinical_ft13` and the `sources`.
        splits_file: a training run's `splits.json`; a source none of whose
            images it validates on is left out.
        sources: the pool sources whose validation images are scored.

    Returns:
        A dict in the order `abdomen_eval`, `clinical_ft13_all`, then `sources`.

    Raises:
        DataError: `splits_file` is not a splits file with a `validation`
            split, or a folder is missing.
    """
    from skin_segmentation.data.readers import DataError
    from skin_segmentation.data.splits_file import read_splits

    validation = read_splits(splits_file).get("validation")
    if validation is None:
        raise DataError(splits_file, "has no `validation` split (a training run's splits.json has)")
    validation, data_root = set(validation), Path(data_root)
    sets = {TARGET_SET: select_split(read_dataset(data_root / "abdomen"), "eval"),
            CLINICAL_SET: read_dataset(data_root / "clinical_ft13")}
    for source in sources:
        pairs = [pair for pair in read_dataset(data_root / source) if pair.stem in validation]
        if pairs:
            sets[validation_set(source)] = pairs
    return sets


def predicted_skin_share(per_image):
    """The share of all pixels of a set that a model calls skin, `(tp + fp) / pixels`.

    Example:
    >>> frame = pd.DataFrame({"height": [10, 10], "width": [10, 30], "tp": [0, 0], "fp": [20, 0]})
    >>> predicted_skin_share(frame)
    0.05
    """
    pixels = float((per_image["height"] * per_image["width"]).sum())
    return float(per_image["tp"].sum() + per_image["fp"].sum()) / pixels if pixels else float("nan")


def load_detectors(named, baselines=BASELINES):
    """`{name: detector}`: the colour `baselines`, then networks given as `NAME=PATH.keras`.

    Raises:
        ValueError: an entry of `named` without `=`, or a name given twice.
        FileNotFoundError: a `.keras` file that does not exist.
    """
    detectors = {name: load_detector(name).model for name in baselines}
    for entry in named:
        name, separator, path = str(entry).partition("=")
        if not separator or not name or not path:
            raise ValueError(f"A model is given as NAME=PATH.keras. Received: {entry!r}")
        if name in detectors:
            raise ValueError(f"Model name {name!r} is given twice; names label the rows.")
        detectors[name] = load_detector(weights=path).model
    return detectors


def score_sets(detectors, sets, progress=False, report=None, fill_holes=0.0, fill_enclosed=0.0):
    """Score every detector on every set at native resolution.

    Args:
        detectors: `{name: detector}` (`load_detectors`).
        sets: `{set name: pairs}` (`comparison_sets`).
        progress: draw a progress bar per set.
        report: called with each finished row (a dict), e.g. `print`.
        fill_holes: predicted non-skin regions smaller than this share of
            their photograph are made skin before scoring
            (`postprocess.fill_small_holes`; `0`: none).
        fill_enclosed: regions that skin encloses are filled up to this
            larger share (`0`: as any other region).

    Returns:
        `(scores, per_image)`: one row per model and set (`model`, `set`,
        `SCORE_COLUMNS`), and `evaluation.evaluate_models`'s per-image rows with
        their `set`.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> pairs = read_dataset(sample_datasets()[0][0])[:2]
    >>> scores, _ = score_sets(load_detectors([], ("all_skin",)), {"sfa_two": pairs})
    >>> scores[["model", "set", "pixel_recall", "predicted_skin_share", "n"]].to_dict("records")
    [{'model': 'all_skin', 'set': 'sfa_two', 'pixel_recall': 1.0, 'predicted_skin_share': 1.0, 'n': 2}]
    """
    rows, per_image = [], []
    for set_name, pairs in sets.items():
        scored = evaluate_models(detectors, pairs, progress=progress, fill_holes=fill_holes,
                                 fill_enclosed=fill_enclosed).assign(set=set_name)
        per_image.append(scored)
        for model_name, frame in scored.groupby("model", sort=False):
            rows.append({"model": model_name, "set": set_name, **set_scores(frame),
                         "predicted_skin_share": predicted_skin_share(frame)})
            if report is not None:
                report(rows[-1])
    scores = pd.DataFrame(rows, columns=["model", "set", *SCORE_COLUMNS])
    return scores, pd.concat(per_image, ignore_index=True)


def per_image_path(out):
    """Where `write_comparison` puts the per-image rows beside `out`: `<stem>_per_image.csv`."""
    out = Path(out)
    return out.with_name(f"{out.stem}_per_image.csv")


def write_comparison(out, scores, per_image):
    """Write the per-image rows, then the per-set `scores`, each atomically.

    The per-set CSV is written last, so its presence means the comparison finished.

    Returns:
        `(out, per_image_path(out))`.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(per_image_path(out), per_image)
    write_csv_atomic(out, scores)
    return out, per_image_path(out)
