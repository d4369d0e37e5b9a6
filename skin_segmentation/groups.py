"""Scores per group of images (skin tone, Fitzpatrick type, source), side by side.

From a per-image table (one row per image and model, as `evaluation` writes it:
`jaccard`, `dice`, `tp`, `fp`, `fn`, plus a grouping column such as
`tone.skin_tones`' `ita_category`), `metrics_by_group` gives for each model and
group: the number of images, the mean of the per-image Jaccard indices, the
Jaccard index pooled over all the group's pixels, and the pooled pixel
precision, recall and F1. `group_gaps` gives each model's spread between its best
and worst group; `write_group_tables` writes both as CSV and Markdown.
"""

import numpy as np
import pandas as pd

from skin_segmentation.metrics import pixel_f1
from skin_segmentation.tone import FITZPATRICK_TYPES, TONE_ORDER, UNKNOWN

GROUP_COLUMNS = (
    "model", "group", "n", "mean_jaccard", "pooled_jaccard",
    "pixel_f1", "pixel_precision", "pixel_recall",
)
GAP_COLUMNS = ("model", "best_group", "best_mean_jaccard", "worst_group", "worst_mean_jaccard", "gap")
# The natural order of the groups of the columns `evaluate --by` knows.
GROUP_ORDERS = {"ita_category": TONE_ORDER, "fitzpatrick_type": (*FITZPATRICK_TYPES, UNKNOWN)}


def _pooled(frame):
    if not {"tp", "fp", "fn"} <= set(frame.columns):
        return {"pooled_jaccard": np.nan, "pixel_f1": np.nan,
                "pixel_precision": np.nan, "pixel_recall": np.nan}
    tp, fp, fn = (int(frame[column].sum()) for column in ("tp", "fp", "fn"))
    precision, recall, f1 = pixel_f1(tp, fp, fn)
    union = tp + fp + fn
    return {"pooled_jaccard": tp / union if union else 1.0, "pixel_f1": f1,
            "pixel_precision": precision, "pixel_recall": recall}


def _ordered(values, order):
    known = [value for value in order if value in values]
    return known + sorted(set(values) - set(known), key=str)


def metrics_by_group(per_image, by, model_column="model", order=None):
    """Scores of each model on each group of images.

    Args:
        per_image: a DataFrame with `jaccard` and the column `by`; with `tp`,
            `fp`, `fn` the pooled figures are filled (else NaN); with
            `model_column`, one block of rows per model (else one model, "model").
            Missing values of `by` form the group "unknown".
        by: the grouping column, e.g. `"ita_category"` or `"fitzpatrick_type"`.
        model_column: the column naming the model of each row.
        order: the groups' order; default `GROUP_ORDERS[by]`, then the rest sorted.

    Returns:
        A DataFrame with `GROUP_COLUMNS`, models in order of appearance.

    Raises:
        ValueError: a required column is missing.

    Example:
    >>> per_image = pd.DataFrame({"jaccard": [1.0, 0.5, 0.0], "tp": [4, 1, 0],
    ...     "fp": [0, 1, 2], "fn": [0, 0, 2], "ita_category": ["light", "light", "dark"]})
    >>> metrics_by_group(per_image, "ita_category")[["group", "n", "mean_jaccard", "pooled_jaccard"]]
       group  n  mean_jaccard  pooled_jaccard
    0  light  2          0.75        0.833333
    1   dark  1          0.00        0.000000
    """
    missing = [column for column in ("jaccard", by) if column not in per_image.columns]
    if missing:
        raise ValueError(
            f"The per-image table lacks column(s) {missing}; it has {list(per_image.columns)}."
        )
    frame = per_image.copy()
    if model_column not in frame.columns:
        frame[model_column] = "model"
    frame["_group"] = frame[by].astype(object).where(frame[by].notna(), UNKNOWN)
    order = GROUP_ORDERS.get(by, ()) if order is None else order
    rows = []
    for model in dict.fromkeys(frame[model_column]):
        of_model = frame[frame[model_column] == model]
        for group in _ordered(set(of_model["_group"]), order):
            part = of_model[of_model["_group"] == group]
            rows.append({"model": model, "group": group, "n": len(part),
                         "mean_jaccard": float(part["jaccard"].mean()), **_pooled(part)})
    return pd.DataFrame(rows, columns=list(GROUP_COLUMNS))


def group_gaps(table, min_images=1):
    """Each model's best and worst group by mean Jaccard, and the gap between them.

    Groups named "unknown" and groups of fewer than `min_images` images are left out.

    Args:
        table: the DataFrame of `metrics_by_group`.
        min_images: the fewest images a group needs to count.

    Returns:
        A DataFrame with `GAP_COLUMNS`, one row per model with at least one group.

    Example:
    >>> table = pd.DataFrame({"model": ["m", "m"], "group": ["light", "dark"],
    ...     "n": [2, 1], "mean_jaccard": [0.75, 0.5]})
    >>> group_gaps(table)["gap"].tolist()
    [0.25]
    """
    rows = []
    for model in dict.fromkeys(table["model"]):
        part = table[(table["model"] == model) & (table["group"] != UNKNOWN) & (table["n"] >= min_images)]
        if part.empty:
            continue
        best = part.loc[part["mean_jaccard"].idxmax()]
        worst = part.loc[part["mean_jaccard"].idxmin()]
        rows.append({
            "model": model,
            "best_group": best["group"],
            "best_mean_jaccard": float(best["mean_jaccard"]),
            "worst_group": worst["group"],
            "worst_mean_jaccard": float(worst["mean_jaccard"]),
            "gap": float(best["mean_jaccard"] - worst["mean_jaccard"]),
        })
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return "n/a" if np.isnan(value) else f"{value:.3f}"
    return str(value)


def _markdown(frame):
    lines = [f"| {' | '.join(frame.columns)} |", f"|{'---|' * len(frame.columns)}"]
    for row in frame.itertuples(index=False):
        lines.append(f"| {' | '.join(_cell(value) for value in row)} |")
    return "\n".join(lines)


def groups_markdown(table, gaps, title=None):
    """The group table and the gaps as Markdown (figures to 3 decimals, NaN as "n/a").

    Example:
    >>> table = pd.DataFrame({"model": ["m"], "group": ["dark"], "n": [3], "mean_jaccard": [0.5]})
    >>> print(groups_markdown(table, group_gaps(table)).splitlines()[2])
    | m | dark | 3 | 0.500 |
    """
    parts = [f"# {title}", ""] if title else []
    parts += [_markdown(table), "", "Gap between the best and the worst group (mean Jaccard):", "",
              _markdown(gaps)]
    return "\n".join(parts) + "\n"


def write_group_tables(table, gaps, out, title=None):
    """Write `<out>.csv` (groups), `<out>_gaps.csv` and `<out>.md` (both), atomically.

    Args:
        table, gaps: from `metrics_by_group` and `group_gaps`.
        out: the path without suffix, e.g. `results/by_tone`.
        title: a heading for the Markdown.

    Returns:
        The paths written: `{"csv": ..., "gaps_csv": ..., "markdown": ...}`.
    """
    from pathlib import Path

    from skin_segmentation.atomic_files import write_csv_atomic, write_text_atomic

    out = Path(out)
    paths = {
        "csv": out.with_name(f"{out.name}.csv"),
        "gaps_csv": out.with_name(f"{out.name}_gaps.csv"),
        "markdown": out.with_name(f"{out.name}.md"),
    }
    write_csv_atomic(paths["csv"], table)
    write_csv_atomic(paths["gaps_csv"], gaps)
    write_text_atomic(paths["markdown"], groups_markdown(table, gaps, title))
    return paths
