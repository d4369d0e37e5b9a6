"""Records: HDF5 round trip, atomic writes, run tables and Table I beside the paper."""

import h5py
import numpy as np
import pandas as pd
import pytest

from skin_segmentation import metrics
from skin_segmentation.models import PRESETS
from skin_segmentation.records import atomic_path, read_record, record_path, write_record
from skin_segmentation.tables import (
    collect_per_image,
    collect_runs,
    load_table1,
    make_table1,
    table1_markdown,
    write_results_tables,
)


def image_counts(found, false_skin, skin=(60, 20), pixels=100):
    """Pixel counts of images with `skin` skin pixels each: `found` of it detected,
    `false_skin` non-skin pixels called skin."""
    rows = []
    for area in skin:
        tp = round(found * area)
        rows.append((tp, false_skin, area - tp, pixels - area - false_skin))
    return rows


def fake_record(path, preset="unet", scenario="fine_tuning", jaccards=(0.5, 1.0), seconds=2.0,
                counts=None):
    scores = {}
    if counts is not None:
        tp, fp, fn, tn = (np.array(column) for column in zip(*counts))
        jaccards = metrics.jaccard_from_counts(tp, fp, fn)
        scores = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    count = len(jaccards)
    rng = np.random.default_rng(0)
    write_record(
        path,
        preset=preset,
        scenario=scenario,
        profile="tiny",
        config={"learning_rate": 0.001, "filters": (4, 8, 16)},
        parameters=1234,
        seconds_per_epoch=seconds,
        seed=3,
        history=pd.DataFrame({"epoch": [1, 2], "loss": [0.6, 0.4], "val_loss": [0.7, 0.5]}),
        splits={"train": ["t1", "t2"], "validation": ["v1"], "eval": [f"e{i}" for i in range(count)]},
        per_image=pd.DataFrame({
            "stem": [f"e{i}" for i in range(count)],
            "jaccard": list(jaccards),
            "dice": [2 * j / (1 + j) for j in jaccards],
            **scores,
        }),
        eval_images=rng.integers(0, 255, (count, 8, 8, 3), dtype=np.uint8),
        eval_masks=rng.integers(0, 2, (count, 8, 8), dtype=np.uint8),
        eval_confidence=rng.random((count, 8, 8, 1)).astype("float32"),
        attributes={"best_epoch": 2, "train_images": 2, "validation_images": 1, "eval_images": count,
                    "learning_rate": 0.001, "initial_weights_sha256": "abc"},
    )


def test_record_round_trip_holds_every_documented_field(tmp_path):
    path = tmp_path / "record.h5"
    fake_record(path)
    with h5py.File(path) as handle:
        for key in ("preset", "scenario", "profile", "config", "parameters",
                    "seconds_per_epoch", "seed", "mean_jaccard", "mean_dice"):
            assert key in handle.attrs, key
        for name in ("history/loss", "history/val_loss", "splits/train", "per_image/stem",
                     "per_image/jaccard", "per_image/dice", "eval/images", "eval/masks",
                     "eval/confidence", "eval/predicted"):
            assert name in handle, name
    record = read_record(path)
    assert record["preset"] == "unet" and record["scenario"] == "fine_tuning"
    assert record["config"] == {"learning_rate": 0.001, "filters": [4, 8, 16]}
    assert record["parameters"] == 1234 and record["seed"] == 3
    assert record["mean_jaccard"] == pytest.approx(0.75)
    assert record["mean_dice"] == pytest.approx((2 / 3 + 1) / 2)
    assert record["history"]["loss"].tolist() == [0.6, 0.4]
    assert record["splits"] == {"train": ["t1", "t2"], "validation": ["v1"], "eval": ["e0", "e1"]}
    assert record["per_image"]["stem"].tolist() == ["e0", "e1"]
    assert record["eval_images"].shape == (2, 8, 8, 3)
    assert record["eval_confidence"].shape == (2, 8, 8)
    assert record["best_epoch"] == 2 and record["initial_weights_sha256"] == "abc"


def test_record_refuses_mismatched_arrays_and_unknown_scenarios(tmp_path):
    with pytest.raises(ValueError, match="Unknown scenario 'transfer'"):
        fake_record(tmp_path / "a.h5", scenario="transfer")
    with pytest.raises(ValueError, match="one entry per image"):
        write_record(
            tmp_path / "b.h5", preset="unet", scenario="direct_training", profile="tiny",
            config={}, parameters=1, seconds_per_epoch=1, seed=0, history={}, splits={},
            per_image={"stem": ["a"], "jaccard": [1.0], "dice": [1.0]},
            eval_images=np.zeros((2, 4, 4, 3)), eval_masks=np.zeros((2, 4, 4)),
            eval_confidence=np.zeros((2, 4, 4)),
        )
    assert not list(tmp_path.iterdir())


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_results_tables_put_ours_beside_the_paper(tmp_path):
    # unet: direct transfer predicts all skin (degenerate); the rest improve with the scenario.
    cells = {
        ("unet", "direct_transfer"): image_counts(1.0, 40),
        ("unet", "direct_training"): image_counts(0.7, 5),
        ("unet", "fine_tuning"): image_counts(0.9, 2),
        ("dense_residual_unet", "direct_transfer"): image_counts(0.8, 5),
        ("dense_residual_unet", "direct_training"): image_counts(0.85, 4),
        ("dense_residual_unet", "fine_tuning"): image_counts(0.95, 1),
    }
    cells[("unet", "direct_transfer")] = [(60, 40, 0, 0), (20, 80, 0, 0)]  # every pixel skin
    for index, ((preset, scenario), counts) in enumerate(cells.items()):
        fake_record(record_path(tmp_path, preset, scenario), preset, scenario,
                    counts=counts, seconds=10.0 + index % 3)
    table = write_results_tables(tmp_path, notes=["# Title", "profile line"])

    runs = pd.read_csv(tmp_path / "runs.csv", keep_default_na=False)
    assert list(zip(runs["preset"], runs["scenario"])) == list(cells)
    per_image = pd.read_csv(tmp_path / "per_image.csv")
    assert list(per_image.columns) == ["preset", "scenario", "stem", "jaccard", "dice",
                                       "tp", "fp", "fn", "tn"]
    assert len(per_image) == 12
    for (preset, scenario), run in zip(cells, runs.itertuples()):
        part = per_image[(per_image.preset == preset) & (per_image.scenario == scenario)]
        # Pooled scores are recomputed from the per-image counts of per_image.csv ...
        assert (run.pooled_jaccard, run.pooled_dice) == pytest.approx(
            metrics.pooled_scores(part.tp, part.fp, part.fn))
        # ... satisfy the paper's identity exactly, and differ from the per-image means.
        assert run.pooled_dice == pytest.approx(2 * run.pooled_jaccard / (1 + run.pooled_jaccard),
                                                rel=1e-12)
        assert run.mean_jaccard == pytest.approx(part.jaccard.mean())
        assert run.degenerate == ("all skin" if (preset, scenario) == ("unet", "direct_transfer") else "")
    fine = runs.iloc[2]
    assert fine.pooled_jaccard == pytest.approx(72 / (72 + 4 + 8))  # tp 54+18, fp 2+2, fn 6+2
    assert fine.mean_jaccard == pytest.approx((54 / 62 + 18 / 22) / 2)

    reread = load_table1(tmp_path)
    pd.testing.assert_frame_equal(reread.fillna(""), table.fillna(""), check_dtype=False)
    unet = table.set_index("preset").loc["unet"]
    assert unet["fine_tuning_pooled_jaccard"] == pytest.approx(fine.pooled_jaccard)
    assert unet["fine_tuning_mean_jaccard"] == pytest.approx(fine.mean_jaccard)
    assert unet["direct_transfer_degenerate"] == "all skin"
    assert unet["paper_fine_tuning_jaccard"] == PRESETS["unet"].paper.jaccard["fine_tuning"]
    assert unet["paper_parameters"] == PRESETS["unet"].paper.parameters
    # Pre-training time, from the direct-transfer cell, and scaled to the paper's 2620 images.
    assert unet["seconds_per_epoch"] == pytest.approx(10.0)
    assert unet["seconds_per_paper_epoch"] == pytest.approx(10.0 * 2620 / 3)
    assert unet["paper_fine_tuning_dice"] == 0.94
    assert unet["paper_direct_transfer_jaccard"] == 0.44  # the 7.5M U-Net, not the abstract's 0.51

    markdown = (tmp_path / "table1.md").read_text()
    assert markdown.startswith("# Title\nprofile line\n")
    row = next(line for line in markdown.splitlines() if line.startswith("| unet |"))
    assert "| 0.40 (0.57) degenerate (all skin) | 0.40 (0.54) | 0.44 (0.61) |" in row
    assert "| 0.86 (0.92) | 0.84 (0.92) | 0.89 (0.94) |" in row  # pooled, per-image, paper
    assert "7.5" in row and "363" in row and "8733" in row
    assert "unet_large" not in markdown.split("findings")[0]  # only presets that ran
    findings = pd.read_csv(tmp_path / "findings.csv")
    assert findings["finding"].tolist() == ["F1", "F2", "F3", "F4"]
    assert findings["shown"].tolist() == ["yes", "yes", "yes", "no"]
    assert "- F2. Direct training on the target's images beats direct transfer: **yes**" in markdown
    assert "[degenerate: all skin]" in markdown.split("- F2.")[1].splitlines()[0]


def test_markdown_prints_cells_not_run_as_na():
    runs = pd.DataFrame([{
        "preset": "unet_large", "scenario": "direct_training", "mean_jaccard": 0.7,
        "mean_dice": 0.8, "parameters": 48_000_000, "seconds_per_epoch": 30.0,
        "train_images": 80,
    }])
    markdown = table1_markdown(make_table1(runs))
    row = markdown.splitlines()[-1]
    # Runs without pixel counts (older records) have per-image means only.
    assert row.startswith(
        "| unet_large | n/a | n/a | 0.51 (0.67) | n/a | 0.70 (0.80) | 0.83 (0.91) | n/a | n/a "
        "| 0.89 (0.94) |"
    )
    assert "48.00M" in row and "150.0M" in row and "697" in row


def test_empty_results_folder(tmp_path):
    assert collect_runs(tmp_path).empty
    assert collect_per_image(tmp_path).empty
    with pytest.raises(FileNotFoundError, match="table1.csv"):
        load_table1(tmp_path)
