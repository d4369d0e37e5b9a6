"""What a run leaves behind: HDF5 records, CSV tables and Table I.

A results folder written by `skinseg replicate` (see docs/CONTRACTS.md):

    RESULTS/
      splits.json                     stems of every split, with the seed
      runs.csv                        one row per cell
      per_image.csv                   preset, scenario, stem, jaccard, dice
      table1.csv, table1.md           ours beside the paper's Table I
      pretrained/<preset>/            model.keras, history.csv
      <preset>/<scenario>/record.h5   everything about one cell
      <preset>/<scenario>/history.csv, per_image.csv

Every file is written to a temporary name beside its destination and moved into
place with `os.replace`, so a reader (or a run killed half-way) never sees half a
file. The CSV files are plain `pandas.read_csv` material.
"""

import contextlib
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from skin_segmentation.metrics import THRESHOLD
from skin_segmentation.models import PRESETS, SCENARIOS

RECORD_NAME = "record.h5"
RUN_COLUMNS = (
    "preset",
    "scenario",
    "mean_jaccard",
    "mean_dice",
    "parameters",
    "seconds_per_epoch",
    "epochs",
    "best_epoch",
    "train_images",
    "eval_images",
    "learning_rate",
    "profile",
    "seed",
)
SCENARIO_TITLES = {
    "direct_transfer": "direct transfer",
    "direct_training": "direct training",
    "fine_tuning": "fine-tuning",
}


# --------------------------------------------------------------------------- atomic files


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; move it onto `path` on success.

    On an exception the temporary file is removed and `path` is untouched.

    Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as temporary:
    ...     _ = temporary.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the real suffix last: Keras and h5py choose the format by it.
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _fsync(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def write_text_atomic(path, text):
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json_atomic(path, data):
    """Write `data` as indented JSON to `path` atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_csv_atomic(path, frame):
    """Write a DataFrame as CSV (no index) to `path` atomically."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (Path,)):
        return str(value)
    if isinstance(value, (tuple, set, np.ndarray)):
        return list(value)
    raise TypeError(f"Not JSON serializable: {type(value).__name__} {value!r}")


# --------------------------------------------------------------------------- HDF5 records


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
        per_image: DataFrame with `stem`, `jaccard`, `dice` of the evaluation images.
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
    eval_images = np.asarray(eval_images)
    eval_masks = np.asarray(eval_masks)
    eval_confidence = np.asarray(eval_confidence)
    if eval_confidence.ndim == 4 and eval_confidence.shape[-1] == 1:
        eval_confidence = eval_confidence[..., 0]
    eval_predicted = (eval_confidence >= THRESHOLD).astype("uint8")
    count = len(per_image)
    if not (len(eval_images) == len(eval_masks) == len(eval_confidence) == count):
        raise ValueError(
            "Evaluation arrays and per-image scores must have one entry per image. Received: "
            f"{len(eval_images)} images, {len(eval_masks)} masks, "
            f"{len(eval_confidence)} confidences, {count} scores."
        )
    history = pd.DataFrame(history)
    attrs = {
        "preset": preset,
        "scenario": scenario,
        "profile": profile,
        "config": json.dumps(config, sort_keys=True, default=_json_default),
        "parameters": int(parameters),
        "seconds_per_epoch": float(seconds_per_epoch),
        "seed": int(seed),
        "mean_jaccard": float(per_image["jaccard"].mean()) if count else float("nan"),
        "mean_dice": float(per_image["dice"].mean()) if count else float("nan"),
        "epochs": int(len(history)),
    }
    attrs.update(attributes or {})
    compression = {"compression": "gzip", "compression_opts": 4}
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w") as handle:
            for key, value in attrs.items():
                handle.attrs[key] = "" if value is None else value
            group = handle.create_group("history")
            for column in history.columns:
                group.create_dataset(str(column), data=history[column].to_numpy())
            group = handle.create_group("splits")
            for name, stems in splits.items():
                group.create_dataset(name, data=list(map(str, stems)), dtype=h5py.string_dtype())
            group = handle.create_group("per_image")
            group.create_dataset("stem", data=per_image["stem"].astype(str).tolist(),
                                 dtype=h5py.string_dtype())
            group.create_dataset("jaccard", data=per_image["jaccard"].to_numpy("float64"))
            group.create_dataset("dice", data=per_image["dice"].to_numpy("float64"))
            group = handle.create_group("eval")
            if count:
                group.create_dataset("images", data=eval_images.astype("uint8"), **compression)
                group.create_dataset("masks", data=eval_masks.astype("uint8"), **compression)
                group.create_dataset(
                    "confidence", data=eval_confidence.astype("float16"), **compression
                )
                group.create_dataset("predicted", data=eval_predicted, **compression)


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


# --------------------------------------------------------------------------- tables


def _records(results_dir):
    results_dir = Path(results_dir)
    order = {name: index for index, name in enumerate(PRESETS)}
    scenario_order = {name: index for index, name in enumerate(SCENARIOS)}
    paths = sorted(results_dir.glob(f"*/*/{RECORD_NAME}"))
    paths = [p for p in paths if p.parent.name in scenario_order]
    paths.sort(
        key=lambda p: (order.get(p.parent.parent.name, len(order)), p.parent.parent.name,
                       scenario_order[p.parent.name])
    )
    return paths


def collect_runs(results_dir):
    """One row per record under `results_dir`: `RUN_COLUMNS` (and the record path).

    Presets and scenarios come in Table I order.
    """
    rows = []
    for path in _records(results_dir):
        record = read_record(path, arrays=False)
        row = {column: record.get(column) for column in RUN_COLUMNS}
        row["best_epoch"] = record.get("best_epoch")
        row["record"] = str(Path(path).relative_to(results_dir))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, "record"])


def collect_per_image(results_dir):
    """Per-image scores of every record: `preset, scenario, stem, jaccard, dice`."""
    frames = []
    for path in _records(results_dir):
        record = read_record(path, arrays=False)
        frame = record["per_image"].copy()
        frame.insert(0, "scenario", record["scenario"])
        frame.insert(0, "preset", record["preset"])
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["preset", "scenario", "stem", "jaccard", "dice"])
    return pd.concat(frames, ignore_index=True)


def make_table1(runs):
    """Table I as a DataFrame: ours beside the paper's, one row per preset.

    Columns: `preset`, for each scenario `<scenario>_jaccard`, `<scenario>_dice`,
    `paper_<scenario>_jaccard`, `paper_<scenario>_dice`; then `parameters`,
    `paper_parameters`, `seconds_per_epoch` (of the pre-training, the longest
    training, taken from the direct-transfer cell, else the direct-training one),
    `pretrain_images` (training images per pre-training epoch) and
    `paper_seconds_per_epoch`. Figures the paper does not give are NaN.

    Args:
        runs: the DataFrame of `collect_runs`.
    """
    runs = pd.DataFrame(runs)
    rows = []
    presets = [p for p in PRESETS if p in set(runs.get("preset", []))]
    presets += sorted(set(runs.get("preset", [])) - set(presets))
    for preset in presets:
        cells = runs[runs["preset"] == preset].set_index("scenario")
        paper = PRESETS[preset].paper if preset in PRESETS else None
        row = {"preset": preset}
        for scenario in SCENARIOS:
            row[f"{scenario}_jaccard"] = (
                float(cells.loc[scenario, "mean_jaccard"]) if scenario in cells.index else np.nan
            )
            row[f"{scenario}_dice"] = (
                float(cells.loc[scenario, "mean_dice"]) if scenario in cells.index else np.nan
            )
            row[f"paper_{scenario}_jaccard"] = _figure(paper and paper.jaccard.get(scenario))
            row[f"paper_{scenario}_dice"] = _figure(paper and paper.dice.get(scenario))
        timing = next((s for s in ("direct_transfer", "direct_training", "fine_tuning")
                       if s in cells.index), None)
        row["parameters"] = int(cells["parameters"].iloc[0]) if len(cells) else np.nan
        row["paper_parameters"] = _figure(paper and paper.parameters)
        row["seconds_per_epoch"] = (
            float(cells.loc[timing, "seconds_per_epoch"]) if timing else np.nan
        )
        row["pretrain_images"] = (
            float(cells.loc[timing, "train_images"]) if timing else np.nan
        )
        row["paper_seconds_per_epoch"] = _figure(paper and paper.seconds_per_epoch)
        rows.append(row)
    return pd.DataFrame(rows)


def _figure(value):
    return np.nan if value is None or value is False else float(value)


def _score(jaccard, dice):
    if pd.isna(jaccard) and pd.isna(dice):
        return "n/a"
    text = "n/a" if pd.isna(jaccard) else f"{jaccard:.2f}"
    return f"{text} ({'n/a' if pd.isna(dice) else f'{dice:.2f}'})"


def _millions(value):
    if pd.isna(value):
        return "n/a"
    if value < 1e5:
        return f"{int(value):,}"
    return f"{value / 1e6:.2f}M" if value < 1e8 else f"{value / 1e6:.1f}M"


def _seconds(value):
    return "n/a" if pd.isna(value) else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def table1_markdown(table, notes=()):
    """Render `make_table1`'s DataFrame as Markdown, `notes` as lines above it.

    Figures the paper does not give print as "n/a".
    """
    header = ["network"]
    for scenario in SCENARIOS:
        title = SCENARIO_TITLES[scenario]
        header += [f"{title}: ours J (D)", f"{title}: paper J (D)"]
    header += ["parameters: ours", "parameters: paper", "s/epoch: ours", "s/epoch: paper"]
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    for _, row in table.iterrows():
        cells = [row["preset"]]
        for scenario in SCENARIOS:
            cells.append(_score(row[f"{scenario}_jaccard"], row[f"{scenario}_dice"]))
            cells.append(_score(row[f"paper_{scenario}_jaccard"], row[f"paper_{scenario}_dice"]))
        cells += [
            _millions(row["parameters"]),
            _millions(row["paper_parameters"]),
            _seconds(row["seconds_per_epoch"]),
            _seconds(row["paper_seconds_per_epoch"]),
        ]
        lines.append(f"| {' | '.join(map(str, cells))} |")
    return "\n".join([*notes, *([""] if notes else []), *lines]) + "\n"


def write_results_tables(results_dir, notes=()):
    """Write `runs.csv`, `per_image.csv`, `table1.csv` and `table1.md` of a results folder.

    Args:
        results_dir: the folder holding `<preset>/<scenario>/record.h5` files.
        notes: Markdown lines put above the table in `table1.md` (title, profile,
            data, command).

    Returns:
        The Table I DataFrame.
    """
    results_dir = Path(results_dir)
    runs = collect_runs(results_dir)
    write_csv_atomic(results_dir / "runs.csv", runs)
    write_csv_atomic(results_dir / "per_image.csv", collect_per_image(results_dir))
    table = make_table1(runs)
    write_csv_atomic(results_dir / "table1.csv", table)
    write_text_atomic(results_dir / "table1.md", table1_markdown(table, notes))
    return table


def load_table1(results_dir):
    """`results_dir/table1.csv` as a DataFrame (see `make_table1` for the columns)."""
    path = Path(results_dir) / "table1.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no Table I here; run `skinseg replicate` first")
    return pd.read_csv(path)
