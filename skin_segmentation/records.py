"""Records: the HDF5 record of one Table I cell, in the results folder of a replication.

A results folder written by `skinseg replicate` (see docs/CONTRACTS.md):

    RESULTS/
      splits.json                     stems of every split, with the seed
      runs.csv                        one row per cell
      per_image.csv                   preset, scenario, stem, jaccard, dice, tp, fp, fn, tn
      table1.csv, table1.md           ours beside the paper's Table I
      pretrained/<preset>/            model.keras, history.csv
      <preset>/<scenario>/record.h5   everything about one cell
      <preset>/<scenario>/history.csv, per_image.csv

Every file is written atomically (`atomic_files`, whose helpers this module
also offers), so a reader or a run killed half-way never sees half a file. The
CSV files are plain `pandas.read_csv` material; `tables` assembles `runs.csv`,
`per_image.csv` and Table I from the records.
"""

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from skin_segmentation import metrics
from skin_segmentation.atomic_files import (  # noqa: F401  (part of this module's interface)
    TEMPORARY_PREFIX,
    atomic_folder,
    atomic_path,
    json_default,
    remove_stale_temporaries,
    write_csv_atomic,
    write_json_atomic,
    write_text_atomic,
)
from skin_segmentation.metrics import THRESHOLD
from skin_segmentation.models import SCENARIOS

RECORD_NAME = "record.h5"
# Per-image pixel counts a record keeps when `per_image` has them (pooled scores).
COUNT_COLUMNS = ("tp", "fp", "fn", "tn")


def write_record(
    path,
    *,
    preset,
    scenario,
    profile,
    config,
    parameters,
    seconds_per_epoch,
    seed,
    history,
    splits,
    per_image,
    eval_images,
    eval_masks,
    eval_confidence,
    attributes=None,
):
    """Write one cell's record (HDF5) atomically.

    Args:
        path: destination, conventionally `RESULTS/<preset>/<scenario>/record.h5`.
        preset: network preset name.
        scenario: one of `SCENARIOS`.
        profile: the profile's name.
        config: JSON-ready dict of every setting of the run (profile, learning
            rate, initial weights, data folders, ...), stored as a JSON string.
        parameters: the network's parameter count.
        seconds_per_epoch: mean wall-clock seconds of one training epoch.
        seed: the run's seed.
        history: DataFrame, one row per epoch (`epoch`, `loss`, `val_loss`, ...).
        splits: split name -> list of stems (e.g. `train`, `validation`, `eval`).
        per_image: DataFrame with `stem`, `jaccard`, `dice` of the evaluation images
            and, optionally, their pixel counts `tp`, `fp`, `fn`, `tn`; with them
            the record also holds the pooled Jaccard and Dice of the set and its
            `metrics.degeneracy` (attributes `pooled_jaccard`, `pooled_dice`,
            `degenerate`).
        eval_images: uint8 `(N, S, S, 3)`, the evaluation images as the network saw them.
        eval_masks: uint8 `(N, S, S)` true masks in {0, 1} at the same size.
        eval_confidence: `(N, S, S)` predicted skin confidence in [0, 1], stored as
            float16 (`eval/confidence`) and, thresholded at 0.5 before rounding,
            as the uint8 predicted masks the scores were computed from
            (`eval/predicted`).
        attributes: further scalar attributes (numbers or strings).

    Example:
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "record.h5"
    >>> write_record(path, preset="unet", scenario="direct_training", profile="tiny",
    ...     config={}, parameters=10, seconds_per_epoch=1.5, seed=0,
    ...     history=pd.DataFrame({"epoch": [0], "loss": [0.5], "val_loss": [0.6]}),
    ...     splits={"eval": ["a"]},
    ...     per_image=pd.DataFrame({"stem": ["a"], "jaccard": [0.5], "dice": [2 / 3]}),
    ...     eval_images=np.zeros((1, 4, 4, 3), "uint8"), eval_masks=np.zeros((1, 4, 4), "uint8"),
    ...     eval_confidence=np.zeros((1, 4, 4), "float32"))
    >>> read_record(path)["mean_jaccard"]
    0.5
    """
    if scenario not in SCENARIOS and scenario != "pretraining":
        raise ValueError(f"Unknown scenario {scenario!r}. Choose one of: {', '.join(SCENARIOS)}.")
    per_image = pd.DataFrame(per_image)
    missing = {"stem", "jaccard", "dice"} - set(per_image.columns)
    if missing:
        raise ValueError(
            f"`per_image` needs columns stem, jaccard, dice. Received: {list(per_image.columns)}"
        )
    count = len(per_image)
    arrays = _evaluation_arrays(eval_images, eval_masks, eval_confidence, count)
    history = pd.DataFrame(history)
    attrs = {
        "preset": preset,
        "scenario": scenario,
        "profile": profile,
        "config": json.dumps(config, sort_keys=True, default=json_default),
        "parameters": int(parameters),
        "seconds_per_epoch": float(seconds_per_epoch),
        "seed": int(seed),
        "mean_jaccard": float(per_image["jaccard"].mean()) if count else float("nan"),
        "mean_dice": float(per_image["dice"].mean()) if count else float("nan"),
        "epochs": int(len(history)),
    }
    attrs.update(_pooled_attributes(per_image))
    attrs.update(attributes or {})
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w") as handle:
            for key, value in attrs.items():
                handle.attrs[key] = "" if value is None else value
            _write_tables(handle, history, splits, per_image)
            group = handle.create_group("eval")
            for name, array in arrays.items():
                group.create_dataset(name, data=array, compression="gzip", compression_opts=4)


def _evaluation_arrays(images, masks, confidence, count):
    """The `eval` group's arrays by name, checked to hold `count` images (none when 0)."""
    images, masks, confidence = np.asarray(images), np.asarray(masks), np.asarray(confidence)
    if confidence.ndim == 4 and confidence.shape[-1] == 1:
        confidence = confidence[..., 0]
    if not (len(images) == len(masks) == len(confidence) == count):
        raise ValueError(
            "Evaluation arrays and per-image scores must have one entry per image. Received: "
            f"{len(images)} images, {len(masks)} masks, "
            f"{len(confidence)} confidences, {count} scores."
        )
    if not count:
        return {}
    return {
        "images": images.astype("uint8"),
        "masks": masks.astype("uint8"),
        "confidence": confidence.astype("float16"),
        # Thresholded before rounding to float16: the masks the scores were computed from.
        "predicted": (confidence >= THRESHOLD).astype("uint8"),
    }


def _pooled_attributes(per_image):
    """`pooled_jaccard`, `pooled_dice` and `degenerate` when `per_image` has every pixel count."""
    if not (set(COUNT_COLUMNS) <= set(per_image.columns) and len(per_image)):
        return {}
    tp, fp, fn, tn = (per_image[column].to_numpy("int64") for column in COUNT_COLUMNS)
    pooled_jaccard, pooled_dice = metrics.pooled_scores(tp, fp, fn)
    return {"pooled_jaccard": pooled_jaccard, "pooled_dice": pooled_dice,
            "degenerate": metrics.degeneracy(tp, fp, fn, tn)}


def _write_tables(handle, history, splits, per_image):
    """The `history`, `splits` and `per_image` groups (the latter with any pixel counts)."""
    group = handle.create_group("history")
    for column in history.columns:
        group.create_dataset(str(column), data=history[column].to_numpy())
    group = handle.create_group("splits")
    for name, stems in splits.items():
        group.create_dataset(name, data=list(map(str, stems)), dtype=h5py.string_dtype())
    group = handle.create_group("per_image")
    group.create_dataset("stem", data=per_image["stem"].astype(str).tolist(), dtype=h5py.string_dtype())
    group.create_dataset("jaccard", data=per_image["jaccard"].to_numpy("float64"))
    group.create_dataset("dice", data=per_image["dice"].to_numpy("float64"))
    for column in COUNT_COLUMNS:
        if column in per_image.columns:
            group.create_dataset(column, data=per_image[column].to_numpy("int64"))


def read_record(path, arrays=True):
    """Read a record written by `write_record`.

    Args:
        path: a `record.h5`.
        arrays: also load `eval_images`, `eval_masks`, `eval_confidence` and
            `eval_predicted` (the largest part of the file).

    Returns:
        A dict: every attribute (`config` parsed from JSON), `history` and
        `per_image` DataFrames, `splits` (name -> list of stems) and, with
        `arrays`, the evaluation arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such record")
    with h5py.File(path, "r") as handle:
        record = {key: _python_scalar(value) for key, value in handle.attrs.items()}
        record["config"] = json.loads(record.get("config") or "{}")
        record["history"] = pd.DataFrame(
            {name: handle["history"][name][()] for name in handle["history"]}
        )
        if "epoch" in record["history"]:
            record["history"] = record["history"].sort_values("epoch").reset_index(drop=True)
        record["splits"] = {
            name: list(handle["splits"][name].asstr()[()]) for name in handle["splits"]
        }
        per_image = handle["per_image"]
        record["per_image"] = pd.DataFrame(
            {
                "stem": list(per_image["stem"].asstr()[()]),
                "jaccard": per_image["jaccard"][()],
                "dice": per_image["dice"][()],
                **{column: per_image[column][()] for column in COUNT_COLUMNS if column in per_image},
            }
        )
        if arrays:
            group = handle["eval"]
            for name in ("images", "masks", "confidence", "predicted"):
                record[f"eval_{name}"] = group[name][()] if name in group else None
    record["path"] = str(path)
    return record


def _python_scalar(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def record_path(results_dir, preset, scenario):
    """`results_dir/<preset>/<scenario>/record.h5`."""
    return Path(results_dir) / preset / scenario / RECORD_NAME
