"""Tables: the CSV tables and Table I of a results folder, assembled from its cell records.

`runs.csv` has one row per cell (`RUN_COLUMNS`), `per_image.csv` one row per
evaluated image, and `table1.csv` / `table1.md` put this replication's scores
beside the paper's Table I (`models.presets` holds the paper's figures).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from skin_segmentation.models import PRESETS, SCENARIOS
from skin_segmentation.records import (
    RECORD_NAME,
    read_record,
    write_csv_atomic,
    write_text_atomic,
)

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
# `replicate` scores detectors without a network on the same images, for scale.
BASELINES_NAME = "baselines.csv"
BASELINE_COLUMNS = ("baseline", "mean_jaccard", "mean_dice", "eval_images")
SCENARIO_TITLES = {
    "direct_transfer": "direct transfer",
    "direct_training": "direct training",
    "fine_tuning": "fine-tuning",
}


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


def make_table1(runs, baselines=None):
    """Table I as a DataFrame: ours beside the paper's, one row per preset.

    Columns: `preset`, for each scenario `<scenario>_jaccard`, `<scenario>_dice`,
    `paper_<scenario>_jaccard`, `paper_<scenario>_dice`; then `parameters`,
    `paper_parameters`, `seconds_per_epoch` (of the pre-training, the longest
    training, taken from the direct-transfer cell, else the direct-training one),
    `pretrain_images` (training images per pre-training epoch),
    `paper_seconds_per_epoch` and `baseline` (False for the networks). Figures
    the paper does not give are NaN.

    Args:
        runs: the DataFrame of `collect_runs`.
        baselines: a DataFrame of `BASELINE_COLUMNS`, or None; each baseline is a
            row after the networks' with its one score in every scenario (it
            trains on nothing) and `baseline` True.
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
        row["baseline"] = False
        rows.append(row)
    for baseline in [] if baselines is None else pd.DataFrame(baselines).itertuples():
        row = {"preset": baseline.baseline}
        for scenario in SCENARIOS:
            row.update({f"{scenario}_jaccard": float(baseline.mean_jaccard),
                        f"{scenario}_dice": float(baseline.mean_dice),
                        f"paper_{scenario}_jaccard": np.nan, f"paper_{scenario}_dice": np.nan})
        row.update({"parameters": 0, "paper_parameters": np.nan, "seconds_per_epoch": np.nan,
                    "pretrain_images": np.nan, "paper_seconds_per_epoch": np.nan, "baseline": True})
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


def _is_baseline(row):
    value = row.get("baseline", False)  # tables written before baselines have no such column
    return not pd.isna(value) and bool(value)


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
        if _is_baseline(row):  # no paper figure, no training: "-", not "n/a"
            score = _score(row[f"{SCENARIOS[0]}_jaccard"], row[f"{SCENARIOS[0]}_dice"])
            cells = [f"{row['preset']} (baseline)", *[score, "-"] * len(SCENARIOS), "0", "-", "-", "-"]
            lines.append(f"| {' | '.join(cells)} |")
            continue
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
        results_dir: the folder holding `<preset>/<scenario>/record.h5` files
            (and `BASELINES_NAME`, whose rows join the table, when present).
        notes: Markdown lines put above the table in `table1.md` (title, profile,
            data, command).

    Returns:
        The Table I DataFrame.
    """
    results_dir = Path(results_dir)
    runs = collect_runs(results_dir)
    write_csv_atomic(results_dir / "runs.csv", runs)
    write_csv_atomic(results_dir / "per_image.csv", collect_per_image(results_dir))
    baselines = results_dir / BASELINES_NAME
    table = make_table1(runs, pd.read_csv(baselines) if baselines.is_file() else None)
    write_csv_atomic(results_dir / "table1.csv", table)
    write_text_atomic(results_dir / "table1.md", table1_markdown(table, notes))
    return table


def load_table1(results_dir):
    """`results_dir/table1.csv` as a DataFrame (see `make_table1` for the columns)."""
    path = Path(results_dir) / "table1.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no Table I here; run `skinseg replicate` first")
    return pd.read_csv(path)
