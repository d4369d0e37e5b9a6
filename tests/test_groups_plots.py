"""Scores per group (skin tone, Fitzpatrick type) and the figures of results."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skin_segmentation.groups import (
    GROUP_COLUMNS,
    group_gaps,
    metrics_by_group,
    write_group_tables,
)
from skin_segmentation.models import SCENARIOS
from skin_segmentation.plots import read_histories, table1_bars, tone_boxplot, training_curves


@pytest.fixture
def per_image():
    """Two models on four images: two light, one dark, one of unknown tone."""
    return pd.DataFrame({
        "model": ["net"] * 4 + ["ycrcb"] * 4,
        "stem": ["a", "b", "c", "d"] * 2,
        "ita_category": ["light", "light", "dark", "unknown"] * 2,
        "jaccard": [1.0, 0.5, 0.25, 0.0, 0.5, 0.5, 0.0, 1.0],
        "tp": [4, 2, 1, 0, 2, 2, 0, 0],
        "fp": [0, 2, 1, 3, 2, 2, 4, 0],
        "fn": [0, 0, 2, 0, 0, 0, 4, 0],
    })


def test_metrics_by_group_hand_computed(per_image):
    table = metrics_by_group(per_image, "ita_category")
    assert list(table.columns) == list(GROUP_COLUMNS)
    assert list(zip(table["model"], table["group"], table["n"])) == [
        ("net", "light", 2), ("net", "dark", 1), ("net", "unknown", 1),
        ("ycrcb", "light", 2), ("ycrcb", "dark", 1), ("ycrcb", "unknown", 1),
    ]
    light = table.iloc[0]
    # Pooled over the two light images: tp 6, fp 2, fn 0 -> J 6/8, precision 0.75, recall 1.
    assert light["mean_jaccard"] == 0.75 and light["pooled_jaccard"] == 0.75
    assert light["pixel_precision"] == 0.75 and light["pixel_recall"] == 1.0
    assert light["pixel_f1"] == pytest.approx(2 * 0.75 / 1.75)
    dark = table.iloc[4]  # ycrcb on the dark image: nothing right
    assert dark["pooled_jaccard"] == 0.0 and dark["pixel_f1"] == 0.0


def test_metrics_by_group_without_counts_or_models_and_missing_groups():
    frame = pd.DataFrame({"jaccard": [0.2, 0.4, 0.9], "fitzpatrick_type": pd.array([2, None, 2], "Int64")})
    table = metrics_by_group(frame, "fitzpatrick_type")
    assert table["group"].tolist() == [2, "unknown"] and table["model"].tolist() == ["model"] * 2
    assert table["mean_jaccard"].tolist() == pytest.approx([0.55, 0.4])
    assert table["pooled_jaccard"].isna().all()
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['ita_category'\]"):
        metrics_by_group(frame, "ita_category")


def test_group_gaps_leave_out_unknown_and_small_groups(per_image):
    table = metrics_by_group(per_image, "ita_category")
    gaps = group_gaps(table)
    net = gaps.iloc[0]
    assert (net["best_group"], net["worst_group"]) == ("light", "dark")
    assert net["gap"] == pytest.approx(0.5)  # unknown's 0.0 does not count
    assert gaps.iloc[1]["gap"] == pytest.approx(0.5)
    only_light = group_gaps(table, min_images=2)  # dark has one image: left out
    assert only_light["best_group"].tolist() == only_light["worst_group"].tolist() == ["light"] * 2
    assert only_light["gap"].tolist() == [0.0, 0.0]
    assert gaps["model"].tolist() == ["net", "ycrcb"]


def test_write_group_tables(per_image, tmp_path):
    table = metrics_by_group(per_image.drop(columns=["tp", "fp", "fn"]), "ita_category")
    paths = write_group_tables(table, group_gaps(table), tmp_path / "by_tone", title="By skin tone")
    assert pd.read_csv(paths["csv"]).shape == (6, len(GROUP_COLUMNS))
    assert pd.read_csv(paths["gaps_csv"])["gap"].tolist() == pytest.approx([0.5, 0.5])
    markdown = paths["markdown"].read_text()
    assert markdown.startswith("# By skin tone")
    assert "| net | light | 2 | 0.750 | n/a | n/a | n/a | n/a |" in markdown


# --------------------------------------------------------------------------- plots


def read_png(path):
    with Image.open(path) as image:
        return image.format, image.size


def test_tone_boxplot_one_box_per_model_and_group(per_image, tmp_path):
    figure = tone_boxplot(per_image, tmp_path / "tone.png")
    ax = figure.axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "light\n(n=2)", "dark\n(n=1)", "unknown\n(n=1)"
    ]
    assert len(ax.patches) == 2 * 3  # a box per model in each group
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["net", "ycrcb"]
    format_, size = read_png(tmp_path / "tone.png")
    assert format_ == "PNG" and size[0] > 300


def table1(presets, ours, paper):
    return pd.DataFrame({
        "preset": presets,
        **{f"{scenario}_pooled_jaccard": ours for scenario in SCENARIOS},
        **{f"paper_{scenario}_jaccard": paper for scenario in SCENARIOS},
    })


def test_table1_bars_networks_beside_paper_and_baselines_as_lines(tmp_path):
    table = table1(["unet", "dense_residual_unet", "all_skin", "ycrcb"],
                   [0.7, 0.8, 0.6, 0.4], [0.5, np.nan, np.nan, np.nan])
    figure = table1_bars(table, tmp_path / "table1.png", baselines=["all_skin", "ycrcb"])
    for ax in figure.axes:
        assert len(ax.patches) == 4  # ours and paper for each of the two networks
        assert [line.get_ydata()[0] for line in ax.get_lines()] == [0.6, 0.4]
        assert [text.get_text() for text in ax.texts] == ["n/a"]  # the missing paper figure
    assert read_png(tmp_path / "table1.png")[0] == "PNG"


def test_table1_bars_hatch_and_label_a_degenerate_cell():
    table = table1(["unet", "dense_residual_unet"], [0.65, 0.8], [0.44, 0.55])
    table["direct_training_degenerate"] = ["all skin", ""]
    figure = table1_bars(table)
    training = figure.axes[SCENARIOS.index("direct_training")]
    ours = training.patches[:2]
    assert [bar.get_hatch() for bar in ours] == ["//", None]
    assert [text.get_text() for text in training.texts] == ["all skin"]
    other = figure.axes[SCENARIOS.index("fine_tuning")]
    assert [bar.get_hatch() for bar in other.patches] == [None] * 4 and not other.texts


def test_training_curves_from_a_results_folder(tmp_path):
    history = pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.5, 0.4, 0.3], "val_loss": [0.6, 0.45, 0.5]})
    for folder in ("pretrained/unet", "unet/direct_training", "unet/fine_tuning", "unet/direct_transfer"):
        (tmp_path / folder).mkdir(parents=True)
        history.to_csv(tmp_path / folder / "history.csv", index=False)
    histories = read_histories(tmp_path)
    assert list(histories) == ["unet"]
    assert list(histories["unet"]) == ["pre-training", "direct training", "fine-tuning"]
    figure = training_curves(histories, tmp_path / "curves.png")
    assert [ax.get_title() for ax in figure.axes] == [
        "unet: pre-training", "unet: direct training", "unet: fine-tuning"
    ]
    kept = [line for line in figure.axes[0].get_lines() if line.get_label() == "kept"]
    assert kept[0].get_xdata()[0] == 2  # lowest validation loss
    assert read_png(tmp_path / "curves.png")[0] == "PNG"
    with pytest.raises(ValueError, match="No training history"):
        training_curves(read_histories(tmp_path / "empty"))
