"""Figures of results: Jaccard by skin tone, Table I beside the paper, training curves.

`write_results_figures` draws the last two for a `skinseg replicate` results folder.

Each function takes tables (pandas DataFrames as `evaluation`, `groups` and
`records` write them), returns a `matplotlib.figure.Figure` and, given a path,
writes it as PNG atomically. Figures are made without pyplot, so no GUI
backend is ever needed (Agg renders them) and nothing stays open; a notebook
shows a returned figure with `display(fig)`.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from skin_segmentation.models import SCENARIOS
from skin_segmentation.tables import SCENARIO_TITLES

HISTORY_NAME = "history.csv"  # as training.HISTORY_NAME, without importing Keras
PRETRAINING = "pre-training"
DPI = 120


def _figure(width, height, **subplots):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return figure, figure.subplots(**subplots)


def save_figure(figure, path):
    """Write `figure` to `path` (PNG, or the format of its suffix) atomically; return the path."""
    from skin_segmentation.atomic_files import atomic_path

    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lstrip(".") or "png")
    return path


def _ordered_groups(values, order):
    present = set(values)
    return [group for group in order if group in present] + sorted(present - set(order), key=str)


def tone_boxplot(per_image, path=None, by="ita_category", model_column="model", order=None):
    """Per-image Jaccard index by group (e.g. skin tone): one box per model in each group.

    Args:
        per_image: a DataFrame with `jaccard`, the column `by` and, for several
            models, `model_column` (else one unnamed model).
        path: where to write the PNG, or None.
        by: the grouping column; missing values form the group "unknown".
        model_column: the column naming each row's model.
        order: the groups' order (default `groups.GROUP_ORDERS[by]`, then the rest).

    Returns:
        The `Figure`. Each group's label gives its number of images.

    Example:
    >>> per_image = pd.DataFrame({"jaccard": [0.9, 0.8, 0.4], "model": ["unet"] * 3,
    ...     "ita_category": ["light", "light", "dark"]})
    >>> [label.get_text() for label in tone_boxplot(per_image).axes[0].get_xticklabels()]
    ['light\\n(n=2)', 'dark\\n(n=1)']
    """
    from skin_segmentation.groups import GROUP_ORDERS
    from skin_segmentation.tone import UNKNOWN

    frame = per_image.copy()
    if model_column not in frame.columns:
        frame[model_column] = ""
    frame["_group"] = frame[by].astype(object).where(frame[by].notna(), UNKNOWN)
    groups = _ordered_groups(frame["_group"], GROUP_ORDERS.get(by, ()) if order is None else order)
    models = list(dict.fromkeys(frame[model_column]))
    figure, ax = _figure(max(5.0, 1.2 + len(groups) * (0.5 + 0.35 * len(models))), 4.0)
    width = 0.8 / len(models)
    colours = [f"C{index % 10}" for index in range(len(models))]
    for index, model in enumerate(models):
        offset = (index - (len(models) - 1) / 2) * width
        values = [frame.loc[(frame[model_column] == model) & (frame["_group"] == group), "jaccard"]
                  .dropna().to_numpy() for group in groups]
        positions = [position + offset for position, group_values in enumerate(values) if len(group_values)]
        boxes = ax.boxplot([v for v in values if len(v)], positions=positions, widths=width * 0.85,
                           patch_artist=True, manage_ticks=False, medianprops={"color": "black"},
                           flierprops={"markersize": 3, "markeredgecolor": colours[index]})
        for box in boxes["boxes"]:
            box.set(facecolor=colours[index], alpha=0.6)
        ax.plot([], [], "s", color=colours[index], alpha=0.6, label=str(model))
    sizes = frame.groupby([model_column, "_group"]).size().groupby(level="_group").max()
    labels = [f"{group}\n(n={sizes[group]})" for group in groups]
    ax.set_xticks(range(len(groups)), labels)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(by.replace("_", " "))
    ax.set_ylabel("Jaccard index per image")
    if any(models):
        figure.legend(loc="outside upper center", fontsize=8, ncols=min(len(models), 6))
    if path is not None:
        save_figure(figure, path)
    return figure


def table1_bars(table, path=None, baselines=None):
    """Table I as grouped bars: our pooled Jaccard beside the paper's, per network and scenario.

    Args:
        table: the DataFrame of `records.make_table1` (`preset`,
            `<scenario>_pooled_jaccard`, `paper_<scenario>_jaccard`).
        path: where to write the PNG, or None.
        baselines: presets of `table` drawn as a dashed line across each panel
            (a detector with no training has one score in every scenario);
            default: the rows whose `baseline` column is True.

    Returns:
        The `Figure`; a paper figure the paper does not give is marked "n/a", a
        cell of ours that is degenerate (`<scenario>_degenerate`, e.g. "all skin")
        is drawn hatched grey and labelled with why.

    Example:
    >>> table = pd.DataFrame({"preset": ["unet", "all_skin"],
    ...     **{f"{s}_pooled_jaccard": [0.7, 0.6] for s in SCENARIOS},
    ...     **{f"paper_{s}_jaccard": [0.5, np.nan] for s in SCENARIOS}})
    >>> len(table1_bars(table, baselines=["all_skin"]).axes)
    3
    """
    if baselines is None:
        marked = table["baseline"].astype(bool) if "baseline" in table else False
        baselines = list(table.loc[marked, "preset"]) if "baseline" in table else []
    networks = table[~table["preset"].isin(baselines)].reset_index(drop=True)
    figure, axes = _figure(4.2 * len(SCENARIOS), 3.8, ncols=len(SCENARIOS), sharey=True)
    x = np.arange(len(networks))
    for ax, scenario in zip(axes, SCENARIOS):
        ours = ax.bar(x - 0.2, networks[f"{scenario}_pooled_jaccard"], 0.4, label="ours", color="C0")
        _mark_degenerate(ax, ours, networks.get(f"{scenario}_degenerate", [""] * len(networks)))
        ax.bar(x + 0.2, networks[f"paper_{scenario}_jaccard"], 0.4, label="paper", color="C1")
        for position, value in zip(x, networks[f"paper_{scenario}_jaccard"]):
            if np.isnan(value):
                ax.text(position + 0.2, 0.02, "n/a", ha="center", fontsize=8)
        for index, (_, row) in enumerate(table[table["preset"].isin(baselines)].iterrows()):
            value = row[f"{scenario}_pooled_jaccard"]
            if not np.isnan(value):
                ax.axhline(value, color=f"C{index + 2}", linestyle="--", linewidth=1,
                           label=f"{row['preset']} (baseline)")
        ax.set_xticks(x, networks["preset"], rotation=15)
        ax.set_title(SCENARIO_TITLES[scenario])
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("Jaccard index, pooled")
    axes[0].legend(loc="upper left", fontsize=8)
    figure.suptitle("Table I: ours beside Codella et al. 2018")
    if path is not None:
        save_figure(figure, path)
    return figure


def _mark_degenerate(ax, bars, marks):
    """Hatch and label the bars whose cell is degenerate (a non-empty mark)."""
    for bar, mark in zip(bars, marks):
        if isinstance(mark, str) and mark:
            bar.set_hatch("//")
            bar.set_facecolor("lightgrey")
            ax.text(bar.get_x() + bar.get_width() / 2, 0.02, mark, ha="center", va="bottom",
                    rotation=90, fontsize=7)


def read_histories(results_dir):
    """The `history.csv` of every training in a `skinseg replicate` results folder.

    Returns:
        `{preset: {column: DataFrame}}`, columns `"pre-training"` (from
        `pretrained/<preset>/`, else the direct-transfer cell's copy), then the
        trained scenarios in Table I order, each present only where its file exists.
    """
    results_dir = Path(results_dir)
    histories = {}
    presets = sorted({path.parent.name for path in results_dir.glob(f"pretrained/*/{HISTORY_NAME}")}
                     | {path.parent.parent.name for path in results_dir.glob(f"*/*/{HISTORY_NAME}")
                        if path.parent.name in SCENARIOS})
    for preset in presets:
        found = {}
        # The direct-transfer cell keeps a copy of the pre-training's history.
        for pretraining in (results_dir / "pretrained" / preset / HISTORY_NAME,
                            results_dir / preset / SCENARIOS[0] / HISTORY_NAME):
            if pretraining.is_file():
                found[PRETRAINING] = pd.read_csv(pretraining)
                break
        for scenario in SCENARIOS:
            path = results_dir / preset / scenario / HISTORY_NAME
            if scenario != "direct_transfer" and path.is_file():
                found[SCENARIO_TITLES[scenario]] = pd.read_csv(path)
        if found:
            histories[preset] = found
    return histories


def _plot_history(ax, history, title):
    from matplotlib.ticker import MaxNLocator

    ax.set_title(title, fontsize=9)
    if history is None or len(history) == 0:
        ax.text(0.5, 0.5, "no history recorded", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
        ax.set_xticks([])
        return
    epochs = history["epoch"] if "epoch" in history else np.arange(1, len(history) + 1)
    ax.plot(epochs, history["loss"], marker=".", label="training")
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], marker=".", label="validation")
        best = int(np.nanargmin(history["val_loss"].to_numpy()))
        ax.axvline(np.asarray(epochs)[best], color="grey", linestyle=":", label="kept")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def training_curves(histories, path=None):
    """Training and validation loss per epoch of every training, one panel each.

    Args:
        histories: `{preset: {title: DataFrame}}` as `read_histories` returns;
            each DataFrame has `loss` and optionally `epoch`, `val_loss`.
        path: where to write the PNG, or None.

    Returns:
        The `Figure`: a row per preset, a column per training; a dotted line
        marks the epoch whose weights were kept (lowest validation loss).

    Raises:
        ValueError: no history at all.

    Example:
    >>> history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.5, 0.4, 0.3],
    ...     "val_loss": [0.6, 0.5, 0.55]})
    >>> figure = training_curves({"unet": {"pre-training": history}})
    >>> figure.axes[0].get_title()
    'unet: pre-training'
    """
    if not histories:
        raise ValueError("No training history to plot (no history.csv found).")
    columns = list(dict.fromkeys(title for found in histories.values() for title in found))
    figure, axes = _figure(3.3 * len(columns), 2.8 * len(histories), nrows=len(histories),
                           ncols=len(columns), squeeze=False, sharey=True)
    for row_axes, (preset, found) in zip(axes, histories.items()):
        for ax, title in zip(row_axes, columns):
            _plot_history(ax, found.get(title), f"{preset}: {title}")
        row_axes[0].set_ylabel("Jaccard distance")
    axes[0, 0].legend(fontsize=8)
    if path is not None:
        save_figure(figure, path)
    return figure


def write_results_figures(results_dir, table):
    """Write `table1.png` and `training_curves.png` of a `skinseg replicate` results folder.

    Args:
        results_dir: the results folder.
        table: its Table I (`tables.make_table1`); rows with `baseline` True are
            drawn as lines.

    Returns:
        `{"table1": path, "training_curves": path}` (the latter only when some
        history was recorded).
    """
    results_dir = Path(results_dir)
    paths = {"table1": save_figure(table1_bars(table), results_dir / "table1.png")}
    histories = read_histories(results_dir)
    if histories:
        paths["training_curves"] = save_figure(training_curves(histories),
                                               results_dir / "training_curves.png")
    return paths
