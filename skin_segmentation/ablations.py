"""The ablation table of issue 9: the robust recipe with one switch changed at a time, beside `full`.

`experiments/ablations.sh` trains every variant from the same start into
`RESULTS/<variant>/` (a `skinseg train` run folder, `training.state`) and scores
it on the sets of `comparison` into `RESULTS/<variant>/compare.csv`; it scores
the start and the colour baselines once, into `RESULTS/start/compare.csv`.
`ablation_table` gathers them: per variant the figures issue 9 judges a recipe
by (`ABLATION_SCORES`), its training (`TRAINING_COLUMNS`), and the difference of
each figure to the `full` variant's; `write_ablation_table` writes it as CSV and
Markdown.
"""

import string
from pathlib import Path

import pandas as pd

from skin_segmentation.atomic_files import write_csv_atomic, write_text_atomic
from skin_segmentation.comparison import CLINICAL_SET, TARGET_SET, validation_set
from skin_segmentation.training.state import HISTORY_NAME, read_state

# Every switch of the robust profile off in turn (the jitter also halved), then the input sizes
# (experiments/profiles/ablation_<variant>.json; `no_negatives` drops a folder).
ABLATION_VARIANTS = ("full", "no_closeup", "no_photometric", "half_photometric", "no_lesions",
                     "no_balance", "no_negatives", "size192", "size256")
REFERENCE = "full"
COMPARISON_NAME = "compare.csv"
START = "start"
# Rows for scale, scored once in RESULTS/start/: the network every variant starts
# from and the colour baselines.
SCALE_MODELS = (START, "ycrcb", "all_skin")
# Table column: (set, score of `comparison.SCORE_COLUMNS`).
ABLATION_SCORES = {
    "abdomen_mean_jaccard": (TARGET_SET, "mean_jaccard"),
    "clinical_miou_per_image": (CLINICAL_SET, "mean_two_class_miou"),
    "clinical_miou_pooled": (CLINICAL_SET, "two_class_miou"),
    "ecu_f1": (validation_set("ecu"), "pixel_f1"),
    "ecu_precision": (validation_set("ecu"), "pixel_precision"),
    "ecu_recall": (validation_set("ecu"), "pixel_recall"),
    "negatives_skin_share": (validation_set("negatives_indoor"), "predicted_skin_share"),
}
TRAINING_COLUMNS = ("best_val_loss", "best_epoch", "steps", "train_minutes", "seconds_per_step")
# Markdown: each header's cell, a template of columns (scores get their difference to
# the reference in brackets); three decimals unless `_FORMATS` says otherwise.
_MARKDOWN = {
    "abdomen 300, mean J": "{abdomen_mean_jaccard}",
    "clinical_ft13, 2-class mIoU per image / pooled":
        "{clinical_miou_per_image} / {clinical_miou_pooled}",
    "ECU validation, pixel F1 / precision / recall": "{ecu_f1} / {ecu_precision} / {ecu_recall}",
    "negatives_indoor validation: share called skin": "{negatives_skin_share}",
    "best validation loss (epoch)": "{best_val_loss} ({best_epoch})",
    "SGD steps": "{steps}",
    "training minutes (s/step)": "{train_minutes} ({seconds_per_step})",
}
_FORMATS = {"best_epoch": "{:.0f}", "steps": "{:.0f}", "train_minutes": "{:.0f}",
            "seconds_per_step": "{:.1f}"}


def comparison_scores(scores, model):
    """`ABLATION_SCORES` of one model from a comparison's per-set rows (`nan` for a missing set).

    Example:
    >>> scores = pd.DataFrame({"model": ["full", "full"], "set": ["abdomen_eval", "ecu_validation"],
    ...                        "mean_jaccard": [0.83, 0.5], "pixel_f1": [0.9, 0.65]})
    >>> row = comparison_scores(scores, "full")
    >>> row["abdomen_mean_jaccard"], row["ecu_f1"], pd.isna(row["clinical_miou_pooled"])
    (0.83, 0.65, True)
    """
    rows = scores[scores["model"] == model].set_index("set")
    return {column: float(rows.at[set_name, score])
            if set_name in rows.index and score in rows.columns else float("nan")
            for column, (set_name, score) in ABLATION_SCORES.items()}


def training_summary(run_dir):
    """`TRAINING_COLUMNS` of a run folder: its best epoch, SGD steps and training time.

    The minutes add up the epochs of `history.csv` (validation included, start-up
    and any time lost to an interruption left out), so a resumed run counts each
    epoch once; `seconds_per_step` divides them by the optimizer's steps.
    """
    state = read_state(run_dir)
    history_path = Path(run_dir) / HISTORY_NAME
    if state is None or not history_path.is_file():
        return dict.fromkeys(TRAINING_COLUMNS, float("nan"))
    seconds = float(pd.read_csv(history_path)["seconds"].head(state["epochs_done"]).sum())
    steps = state.get("optimizer_iterations", float("nan"))
    return {"best_val_loss": float(state.get("best_val_loss", float("nan"))),
            "best_epoch": state.get("best_epoch", float("nan")),
            "steps": steps,
            "train_minutes": seconds / 60,
            "seconds_per_step": seconds / steps if steps else float("nan")}


def _read_scores(path):
    return pd.read_csv(path) if Path(path).is_file() else pd.DataFrame(columns=["model", "set"])


def ablation_table(results_dir, variants=ABLATION_VARIANTS, reference=REFERENCE,
                   scale=SCALE_MODELS):
    """One row per variant (then the rows for scale): its figures, and their difference to `reference`.

    Args:
        results_dir: the folder of `experiments/ablations.sh` (`RESULTS/<variant>/`
            run folders with their `compare.csv`, and `RESULTS/start/compare.csv`).
        variants: the variants, in the table's order; one not finished yet
            (no `compare.csv`) gets `nan` figures.
        reference: the variant the differences are taken to, the table's first row.
        scale: models of `RESULTS/start/compare.csv` added below, without training
            columns (the start network and the colour baselines).

    Returns:
        A DataFrame indexed by `variant`: `kind` (`"variant"` or `"scale"`),
        `finished` (its `compare.csv` exists), `ABLATION_SCORES`,
        `TRAINING_COLUMNS` and `<score>_vs_<reference>` (variant minus reference).

    Example:
    >>> table = ablation_table("runs/ablations-e4")  # doctest: +SKIP
    >>> table.loc["no_lesions", "clinical_miou_per_image_vs_full"]  # doctest: +SKIP
    """
    results_dir = Path(results_dir)
    rows = []
    for variant in dict.fromkeys([reference, *variants]):
        path = results_dir / variant / COMPARISON_NAME
        rows.append({"variant": variant, "kind": "variant", "finished": path.is_file(),
                     **comparison_scores(_read_scores(path), variant),
                     **training_summary(results_dir / variant)})
    path = results_dir / START / COMPARISON_NAME
    rows += [{"variant": model, "kind": "scale", "finished": path.is_file(),
              **comparison_scores(_read_scores(path), model)} for model in scale]
    table = pd.DataFrame(rows).set_index("variant")
    for column in ABLATION_SCORES:
        table[f"{column}_vs_{reference}"] = table[column] - table.at[reference, column]
    return table


def _cell(row, template, reference):
    """One Markdown cell: `template`'s columns of `row`, "-" when none has a value."""
    columns = [field for _, field, _, _ in string.Formatter().parse(template) if field]
    if all(pd.isna(row.get(column)) for column in columns):
        return "-"
    shown = {}
    for column in columns:
        value = row.get(column)
        shown[column] = "n/a" if pd.isna(value) else _FORMATS.get(column, "{:.3f}").format(value)
        difference = row.get(f"{column}_vs_{reference}", float("nan"))
        if row["kind"] == "variant" and row.name != reference and not pd.isna(difference):
            shown[column] += f" ({difference:+.3f})"
    return template.format(**shown)


def ablation_markdown(table, reference=REFERENCE):
    """The table as Markdown: each variant's figures with their difference to `reference` in brackets."""
    lines = ["| variant | " + " | ".join(_MARKDOWN) + " |",
             "|---|" + "---:|" * len(_MARKDOWN)]
    for name, row in table.iterrows():
        label = f"**{name}**" if name == reference else name
        cells = [_cell(row, template, reference) for template in _MARKDOWN.values()]
        lines.append(f"| {label}{'' if row['finished'] else ' (not run yet)'} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_ablation_table(results_dir, variants=ABLATION_VARIANTS, reference=REFERENCE):
    """Write `RESULTS/ablations.csv` and `RESULTS/ablations.md` (atomically); return the table."""
    table = ablation_table(results_dir, variants, reference)
    write_csv_atomic(Path(results_dir) / "ablations.csv", table.reset_index())
    write_text_atomic(Path(results_dir) / "ablations.md", ablation_markdown(table, reference))
    return table
