"""Table I end to end with the tiny profile on the sample shipped with the package:
nine cells, their records, pre-trained weights reused, resuming, the command line."""

import json
import os

import h5py
import keras
import numpy as np
import pandas as pd
import pytest

from skin_segmentation import metrics
from skin_segmentation.cli import main
from skin_segmentation.data import read_splits, sample_datasets
from skin_segmentation.models import PRESETS, SCENARIOS
from skin_segmentation.profiles import get_profile
from skin_segmentation.records import read_record, record_path
from skin_segmentation.replicate import TABLE_BASELINES, prepare_splits, replicate
from skin_segmentation.tables import RUN_COLUMNS
from skin_segmentation.training import read_state, weights_fingerprint

TINY = get_profile("tiny")
CELLS = [(preset, scenario) for preset in PRESETS for scenario in SCENARIOS]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("table1")
    pool, target = sample_datasets()
    table = replicate(pool, target, out, profile="tiny", command="pytest", verbose=0)
    return out, table


def test_all_nine_cells_write_records_with_the_documented_fields(results):
    out, _ = results
    for preset, scenario in CELLS:
        path = record_path(out, preset, scenario)
        with h5py.File(path) as handle:
            for key in ("preset", "scenario", "profile", "config", "parameters",
                        "seconds_per_epoch", "seed", "mean_jaccard", "mean_dice"):
                assert key in handle.attrs, (path, key)
            assert set(handle["per_image"]) == {"stem", "jaccard", "dice", "tp", "fp", "fn", "tn"}
            assert set(handle["eval"]) == {"images", "masks", "confidence", "predicted"}
            assert {"train", "validation", "eval"} <= set(handle["splits"])
            assert {"epoch", "loss", "val_loss", "seconds"} <= set(handle["history"])
        record = read_record(path)
        assert (record["preset"], record["scenario"], record["profile"]) == (preset, scenario, "tiny")
        assert record["seed"] == 0
        assert record["config"]["profile"]["name"] == "tiny"
        assert record["parameters"] > 0 and record["seconds_per_epoch"] > 0
        assert 1 <= len(record["history"]) <= TINY.epochs
        assert len(record["per_image"]) == TINY.target_eval
        assert record["eval_images"].shape == (TINY.target_eval, 32, 32, 3)
        assert record["eval_masks"].shape == (TINY.target_eval, 32, 32)
        assert set(np.unique(record["eval_masks"])) <= {0, 1}
        # The stored scores are those of the stored predicted masks...
        for row, mask, predicted in zip(record["per_image"].itertuples(),
                                        record["eval_masks"], record["eval_predicted"]):
            assert row.jaccard == pytest.approx(metrics.jaccard_index(mask, predicted))
            assert row.dice == pytest.approx(metrics.dice_coefficient(mask, predicted))
        # ...which are the stored confidences at 0.5 (up to float16 rounding).
        confidence = record["eval_confidence"].astype("float32")
        clear = np.abs(confidence - 0.5) > 1e-3
        np.testing.assert_array_equal(record["eval_predicted"][clear], (confidence >= 0.5)[clear])
        assert record["mean_jaccard"] == pytest.approx(record["per_image"]["jaccard"].mean())
        counts = record["per_image"]
        assert (counts.tp + counts.fp + counts.fn + counts.tn == 32 * 32).all()
        assert (record["pooled_jaccard"], record["pooled_dice"]) == pytest.approx(
            metrics.pooled_scores(counts.tp, counts.fp, counts.fn))
        assert record["degenerate"] == metrics.degeneracy(counts.tp, counts.fp, counts.fn, counts.tn)
        assert (out / preset / scenario / "per_image.csv").is_file()
        assert (out / preset / scenario / "history.csv").is_file()


def test_fine_tuning_starts_from_the_pretrained_weights(results):
    out, _ = results
    for preset in PRESETS:
        pretrained = keras.models.load_model(out / "pretrained" / preset / "model.keras")
        fingerprint = weights_fingerprint(pretrained)
        transfer = read_record(record_path(out, preset, "direct_transfer"), arrays=False)
        direct = read_record(record_path(out, preset, "direct_training"), arrays=False)
        tuned = read_record(record_path(out, preset, "fine_tuning"), arrays=False)
        # Direct transfer evaluates the pre-trained network itself.
        assert transfer["evaluated_weights_sha256"] == fingerprint
        # Fine-tuning starts from exactly those weights, at the fine-tuning rate...
        assert tuned["initial_weights_sha256"] == fingerprint
        assert tuned["init_weights"].endswith(f"pretrained/{preset}/model.keras")
        assert read_state(out / preset / "fine_tuning")["initial_weights_sha256"] == fingerprint
        assert tuned["learning_rate"] == TINY.fine_tune_learning_rate
        assert tuned["evaluated_weights_sha256"] != fingerprint  # ...and trains them.
        # Direct training starts from random weights at the initial rate.
        assert direct["initial_weights_sha256"] != fingerprint
        assert direct["learning_rate"] == TINY.learning_rate
        assert direct["init_weights"] == ""


def test_splits_are_recorded_and_disjoint(results):
    out, _ = results
    splits, seed = read_splits(out / "splits.json", with_seed=True)
    assert seed == 0
    sizes = {name: len(stems) for name, stems in splits.items()}
    assert sizes == {"pool_train": 10, "pool_validation": 2, "target_train": 8,
                     "target_validation": 2, "target_eval": 6}
    target = splits["target_train"] + splits["target_validation"] + splits["target_eval"]
    assert len(set(target)) == len(target)
    pool = splits["pool_train"] + splits["pool_validation"]
    assert len(set(pool)) == len(pool)
    record = read_record(record_path(out, "unet", "fine_tuning"), arrays=False)
    assert record["splits"]["train"] == splits["target_train"]
    assert record["splits"]["eval"] == splits["target_eval"]
    transfer = read_record(record_path(out, "unet", "direct_transfer"), arrays=False)
    assert transfer["splits"]["train"] == splits["pool_train"]


def test_tables_are_readable_by_pandas_and_match_the_records(results):
    out, table = results
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns[: len(RUN_COLUMNS)]) == list(RUN_COLUMNS)
    assert list(zip(runs["preset"], runs["scenario"])) == CELLS
    for row in runs.itertuples():
        record = read_record(out / row.record, arrays=False)
        assert row.mean_jaccard == pytest.approx(record["mean_jaccard"])
        assert row.best_epoch == record["best_epoch"]
    per_image = pd.read_csv(out / "per_image.csv")
    assert len(per_image) == 9 * TINY.target_eval
    table1 = pd.read_csv(out / "table1.csv")
    assert table1["preset"].tolist() == [*PRESETS, *TABLE_BASELINES]
    assert table1["baseline"].tolist() == [False] * len(PRESETS) + [True] * len(TABLE_BASELINES)
    unet = table1.set_index("preset").loc["unet"]
    cell = runs.set_index(["preset", "scenario"]).loc[("unet", "fine_tuning")]
    assert unet["fine_tuning_pooled_jaccard"] == pytest.approx(cell["pooled_jaccard"])
    assert unet["fine_tuning_mean_jaccard"] == pytest.approx(cell["mean_jaccard"])
    assert unet["paper_fine_tuning_jaccard"] == 0.89
    markdown = (out / "table1.md").read_text()
    assert "pytest" in markdown and "`tiny`" in markdown
    assert "32x32" in markdown and "not at full resolution" in markdown
    # Header, one row per preset, one per baseline; the findings under the table.
    assert markdown.count("\n| ") == 1 + len(PRESETS) + len(TABLE_BASELINES)
    assert "| ycrcb (baseline) |" in markdown
    assert (out / "table1.png").stat().st_size > 0 and (out / "training_curves.png").stat().st_size > 0
    assert "pooled over all pixels" in markdown
    findings = [line for line in markdown.splitlines() if line.startswith("- F")]
    assert [line[:4] for line in findings] == ["- F1", "- F2", "- F3", "- F4"]
    assert all("**" in line for line in findings) and "ycrcb" not in "".join(findings)


def test_baselines_are_scored_on_the_cells_images(results):
    out, _ = results
    masks = read_record(record_path(out, "unet", "fine_tuning"))["eval_masks"]
    baselines = pd.read_csv(out / "baselines.csv").set_index("baseline")
    assert list(baselines.index) == list(TABLE_BASELINES)
    # Calling every pixel skin scores each image's skin fraction (0 for an image without
    # skin), and pooled, the skin fraction of all pixels.
    assert baselines.loc["all_skin", "mean_jaccard"] == pytest.approx(np.mean(masks.mean(axis=(1, 2))))
    assert baselines.loc["all_skin", "pooled_jaccard"] == pytest.approx(masks.mean())
    assert (baselines["eval_images"] == TINY.target_eval).all()
    table1 = pd.read_csv(out / "table1.csv").set_index("preset")
    for scenario in SCENARIOS:
        for column in ("mean_jaccard", "pooled_jaccard"):
            assert table1.loc["all_skin", f"{scenario}_{column}"] == baselines.loc["all_skin", column]


def test_replicate_again_skips_finished_cells_and_reruns_a_missing_one(results, capsys):
    out, _ = results
    record = record_path(out, "unet", "direct_training")
    kept = record_path(out, "unet", "fine_tuning")
    kept_mtime = os.stat(kept).st_mtime_ns
    before = read_record(record, arrays=False)
    record.unlink()
    # The cell's training run is finished: it is reloaded, not trained again.
    pool, target = sample_datasets()
    replicate(pool, target, out, profile="tiny", models=["unet"], command="pytest", verbose=0)
    printed = capsys.readouterr().out
    assert "[1/3] unet direct_transfer: done earlier" in printed
    assert "[3/3] unet fine_tuning: done earlier" in printed
    assert "[2/3] unet direct_training: J" in printed
    after = read_record(record, arrays=False)
    assert after["mean_jaccard"] == pytest.approx(before["mean_jaccard"])
    assert after["evaluated_weights_sha256"] == before["evaluated_weights_sha256"]
    assert os.stat(kept).st_mtime_ns == kept_mtime


def test_other_splits_in_the_same_folder_are_refused(results):
    out, _ = results
    pool, target = sample_datasets()
    with pytest.raises(ValueError, match="other splits"):
        replicate(pool, target, out, profile=TINY.replace(pretrain_images=6), verbose=0)


def test_prepare_splits_draws_the_profile_counts_per_source():
    pool, target = sample_datasets()
    splits = prepare_splits(pool, target, get_profile("tiny"))
    drawn = splits["pool_train"] + splits["pool_validation"]
    counts = pd.Series([pair.source for pair in drawn]).value_counts().to_dict()
    assert counts == {"sfa": 4, "fasseg": 4, "hgr_subset": 4}  # 12, drawn equally
    splits = prepare_splits(pool, target, get_profile("quick"))
    drawn = splits["pool_train"] + splits["pool_validation"]
    counts = pd.Series([pair.source for pair in drawn]).value_counts().to_dict()
    # At most 320 in the paper's 1000 : 721 : 899, as many as 100 of each allow.
    assert counts == {"sfa": 100, "fasseg": 72, "hgr_subset": 90}
    assert len(splits["pool_validation"]) == round(0.2 * 262)
    assert (len(splits["target_train"]), len(splits["target_validation"]),
            len(splits["target_eval"])) == (80, 20, 300)


def test_paper_profile_draws_the_papers_pool_proportions_and_md5_selection():
    pool, target = sample_datasets()
    splits = prepare_splits(pool, target, get_profile("paper"))
    drawn = splits["pool_train"] + splits["pool_validation"]
    counts = pd.Series([pair.source for pair in drawn]).value_counts().to_dict()
    # 100 of each source in the sample: the largest pool in 1000 : 721 : 899.
    assert counts == {"sfa": 100, "fasseg": 72, "hgr_subset": 90}
    assert (len(splits["target_train"]), len(splits["target_validation"]),
            len(splits["target_eval"])) == (80, 20, 300)


def test_cli_replicate_runs_on_the_shipped_sample_by_default(tmp_path, capsys):
    code = main(["replicate", "--profile", "tiny", "--out", str(tmp_path), "--models", "unet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "shipped with the package" in printed
    assert "- F1. Fine-tuning beats direct training and direct transfer" in printed
    assert json.loads(printed.strip().splitlines()[-1])["table1"].endswith("table1.md")
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert runs["scenario"].tolist() == list(SCENARIOS)
    markdown = (tmp_path / "table1.md").read_text()
    assert f"skinseg replicate --profile tiny --out {tmp_path} --models unet" in markdown


def test_cli_replicate_needs_both_data_arguments_or_none(tmp_path, capsys):
    pool, _ = sample_datasets()
    code = main(["replicate", "--profile", "tiny", "--out", str(tmp_path), "--pretrain", str(pool[0])])
    assert code == 2
    assert "--target" in capsys.readouterr().err


def test_cli_train_then_fine_tune_with_init(tmp_path, capsys):
    pool, target = sample_datasets()
    code = main(["train", "--model", "unet", "--data", ",".join(map(str, pool)),
                 "--out", str(tmp_path / "pre"), "--profile", "tiny"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["model"].endswith("model.keras") and summary["seed"] == 0
    code = main(["train", "--model", "unet", "--data", ",".join(map(str, pool[:1])),
                 "--target-train", str(target), "--init", summary["model"],
                 "--out", str(tmp_path / "tuned"), "--profile", "tiny", "--seed", "5"])
    assert code == 0
    state = read_state(tmp_path / "tuned")
    pretrained = keras.models.load_model(summary["model"])
    assert state["initial_weights_sha256"] == weights_fingerprint(pretrained)
    assert state["learning_rate"] == TINY.fine_tune_learning_rate and state["seed"] == 5
    # Without --resume an existing run is not overwritten; with it, it is reused
    # (with the data it was trained on: tests/test_run_identity.py).
    args = ["train", "--model", "unet", "--data", ",".join(map(str, pool)),
            "--out", str(tmp_path / "pre"), "--profile", "tiny"]
    assert main(args) == 2
    assert "already holds a training run" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 0
