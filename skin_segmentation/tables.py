"""Tables: the CSV tables and Table I of a results folder, assembled from its cell records.

`runs.csv` has one row per cell (`RUN_COLUMNS`), `per_image.csv` one row per
evaluated image (with its pixel counts), and `table1.csv` / `table1.md` put this
replication's scores beside the paper's Table I (`models.presets` holds the
paper's figures), with the paper's findings checked below it (`findings`).

Each cell has two Jaccard (Dice) scores: pooled over all pixels of the evaluation
set, and the mean of per-image scores. The pooled ones stand beside the paper's,
because every Dice of the paper's Table I is 2J/(1+J) of its Jaccard, which only
pooled scores satisfy. A cell whose predictions are degenerate (all skin, no skin,
or within `metrics.DEGENERATE_MARGIN` of all skin) is marked so.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from skin_segmentation.atomic_files import write_csv_atomic, write_text_atomic
from skin_segmentation.findings import findings_markdown, table1_findings
from skin_segmentation.models import PAPER_EPOCH_IMAGES, PRESETS, SCENARIOS
from skin_segmentation.records import RECORD_NAME, read_record

RUN_COLUMNS = (
    "preset",
    "scenario",
    "pooled_jaccard",
    "pooled_dice",
    "mean_jaccard",
    "mean_dice",
    "degenerate",
    "parameters",
    "seconds_per_epoch",
    "epochs",
    "best_epoch",
    "train_images",
    "epoch_train_images",
    "validation_images",
    "eval_images",
    "learning_rate",
    "profile",
    "seed",
)
# `replicate` scores detectors without a network on the same images, for scale.
BASELINES_NAME = "baselines.csv"
BASELINE_COLUMNS = ("baseline", "pooled_jaccard", "pooled_dice", "mean_jaccard", "mean_dice",
                    "eval_images")
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
    """Per-image scores of every record: `preset, scenario, stem, jaccard, dice`, and
    the pixel counts `tp, fp, fn, tn` of records that have them."""
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

    Columns: `preset`, for each scenario `<scenario>_pooled_jaccard`,
    `<scenario>_pooled_dice` (the scores beside the paper's), `<scenario>_mean_jaccard`,
    `<scenario>_mean_dice` (means of per-image scores), `<scenario>_degenerate`
    (`metrics.degeneracy`, "" when not), `paper_<scenario>_jaccard`,
    `paper_<scenario>_dice`; then `parameters`,
    `paper_parameters`, `seconds_per_epoch` (of the pre-training, the longest
    training, taken from the direct-transfer cell, else the direct-training one),
    `pretrain_images` (the pre-training split's training images),
    `seconds_per_paper_epoch` (ours scaled to the paper's epoch, its 2620-image
    pool: 2096 trained on and 524 validated, `models.PAPER_EPOCH_IMAGES`, against
    the images our epoch trained on and validated), `paper_seconds_per_epoch` and
    `baseline` (False for the networks).

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
            for column in ("pooled_jaccard", "pooled_dice", "mean_jaccard", "mean_dice"):
                value = _cell(cells, scenario, column)
                row[f"{scenario}_{column}"] = np.nan if value is None or pd.isna(value) else float(value)
            degenerate = _cell(cells, scenario, "degenerate")
            row[f"{scenario}_degenerate"] = degenerate if isinstance(degenerate, str) else ""
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
        row["seconds_per_paper_epoch"] = _per_paper_epoch(cells, timing, row["seconds_per_epoch"])
        row["paper_seconds_per_epoch"] = _figure(paper and paper.seconds_per_epoch)
        row["baseline"] = False
        rows.append(row)
    for baseline in [] if baselines is None else pd.DataFrame(baselines).to_dict("records"):
        row = {"preset": baseline["baseline"]}
        for scenario in SCENARIOS:
            for column in ("pooled_jaccard", "pooled_dice", "mean_jaccard", "mean_dice"):
                row[f"{scenario}_{column}"] = float(baseline.get(column, np.nan))
            row.update({f"{scenario}_degenerate": "", f"paper_{scenario}_jaccard": np.nan,
                        f"paper_{scenario}_dice": np.nan})
        row.update({"parameters": 0, "paper_parameters": np.nan, "seconds_per_epoch": np.nan,
                    "pretrain_images": np.nan, "seconds_per_paper_epoch": np.nan,
                    "paper_seconds_per_epoch": np.nan, "baseline": True})
        rows.append(row)
    return pd.DataFrame(rows)


def _per_paper_epoch(cells, timing, seconds):
    """Seconds of one of our epochs scaled to the paper's (`models.PAPER_EPOCH_IMAGES`).

    Both count the images an epoch trains on and then validates: the paper's
    2096 + 524, ours `epoch_train_images` (older records: `train_images`) +
    `validation_images`.
    """
    if timing is None:
        return np.nan
    trained = _cell(cells, timing, "epoch_train_images")
    if trained is None or pd.isna(trained):
        trained = _cell(cells, timing, "train_images")
    images = (trained or 0) + (_cell(cells, timing, "validation_images") or 0)
    return seconds * PAPER_EPOCH_IMAGES / images if images and not pd.isna(images) else np.nan


def _cell(cells, scenario, column):
    """One value of a preset's runs (indexed by scenario), `None` when absent."""
    if scenario not in cells.index or column not in cells.columns:
        return None
    return cells.loc[scenario, column]


def _figure(value):
    return np.nan if value is None or value is False else float(value)


def _score(jaccard, dice, degenerate=""):
    if pd.isna(jaccard) and pd.isna(dice):
        return "n/a"
    text = "n/a" if pd.isna(jaccard) else f"{jaccard:.2f}"
    mark = f" degenerate ({degenerate})" if isinstance(degenerate, str) and degenerate else ""
    return f"{text} ({'n/a' if pd.isna(dice) else f'{dice:.2f}'}){mark}"


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


def _ours(row, scenario):
    """Our pooled and per-image scores of one cell of a Table I row (NaN when absent)."""
    return {column: row.get(f"{scenario}_{column}", np.nan) for column in
            ("pooled_jaccard", "pooled_dice", "mean_jaccard", "mean_dice", "degenerate")}


def table1_markdown(table, notes=(), below=()):
    """Render `make_table1`'s DataFrame as Markdown, `notes` as lines above it.

    Per scenario: our pooled Jaccard (Dice), marked "degenerate (why)" when it is,
    our mean of per-image scores, the paper's. Cells not run print as "n/a";
    `below` are lines put under the table (the findings).
    """
    header = ["network"]
    for scenario in SCENARIOS:
        title = SCENARIO_TITLES[scenario]
        header += [f"{title}: ours pooled J (D)", f"{title}: ours per-image J (D)",
                   f"{title}: paper J (D)"]
    header += ["parameters: ours", "parameters: paper", "s/epoch: ours",
               f"s/epoch: ours at {PAPER_EPOCH_IMAGES} images", "s/epoch: paper"]
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    for _, row in table.iterrows():
        if _is_baseline(row):  # no paper figure, no training: "-", not "n/a"
            ours = _ours(row, SCENARIOS[0])
            scores = [_score(ours["pooled_jaccard"], ours["pooled_dice"]),
                      _score(ours["mean_jaccard"], ours["mean_dice"]), "-"]
            cells = [f"{row['preset']} (baseline)", *scores * len(SCENARIOS), "0", "-", "-", "-", "-"]
            lines.append(f"| {' | '.join(cells)} |")
            continue
        cells = [row["preset"]]
        for scenario in SCENARIOS:
            ours = _ours(row, scenario)
            cells.append(_score(ours["pooled_jaccard"], ours["pooled_dice"], ours["degenerate"]))
            cells.append(_score(ours["mean_jaccard"], ours["mean_dice"]))
            cells.append(_score(row[f"paper_{scenario}_jaccard"], row[f"paper_{scenario}_dice"]))
        cells += [
            _millions(row["parameters"]),
            _millions(row["paper_parameters"]),
            _seconds(row["seconds_per_epoch"]),
            _seconds(row.get("seconds_per_paper_epoch", np.nan)),
            _seconds(row["paper_seconds_per_epoch"]),
        ]
        lines.append(f"| {' | '.join(map(str, cells))} |")
    below = [*([""] if below else []), *below]
    return "\n".join([*notes, *([""] if notes else []), *lines, *below]) + "\n"


def write_results_tables(results_dir, notes=()):
    """Write `runs.csv`, `per_image.csv`, `table1.csv`, `findings.csv` and `table1.md`.

    `table1.md` holds the notes, Table I and, under it, the paper's findings as
    this run shows them (`findings.table1_findings`).

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
    findings = table1_findings(table)
    write_csv_atomic(results_dir / "findings.csv", pd.DataFrame(findings))
    below = ["The paper's findings in this run (pooled Jaccard):", "", *findings_markdown(findings)]
    write_text_atomic(results_dir / "table1.md", table1_markdown(table, notes, below))
    return table


def load_table1(results_dir):
    """`results_dir/table1.csv` as a DataFrame (see `make_table1` for the columns)."""
    path = Path(results_dir) / "table1.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no Table I here; run `skinseg replicate` first")
    return pd.read_csv(path)
