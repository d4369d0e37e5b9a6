"""The generalization report: pooled set scores, folds, and the report's command at tiny scale."""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.evaluation import set_scores
from skin_segmentation.generalization import kfolds
from skin_segmentation.models import build_model

REPO = Path(__file__).resolve().parents[1]


def test_set_scores_pool_pixels_over_images():
    frame = pd.DataFrame({
        "height": [10, 10], "width": [10, 10],
        "tp": [50, 0], "fp": [10, 0], "fn": [0, 20], "jaccard": [50 / 60, 0.0],
    })
    scores = set_scores(frame)
    tn = 200 - 50 - 10 - 20
    assert scores["pooled_jaccard"] == pytest.approx(50 / 80)
    assert scores["two_class_miou"] == pytest.approx((50 / 80 + tn / (tn + 30)) / 2)
    assert scores["pixel_precision"] == pytest.approx(50 / 60)
    assert scores["pixel_recall"] == pytest.approx(50 / 70)
    assert scores["mean_jaccard"] == pytest.approx(25 / 60)


def test_kfolds_hold_every_pair_out_once():
    pairs = [f"p{i:02d}" for i in range(13)]
    folds = kfolds(pairs, 5, seed=3)
    held = [pair for _, fold in folds for pair in fold]
    assert sorted(held) == pairs
    for training, fold in folds:
        assert not set(training) & set(fold) and len(training) + len(fold) == 13
    with pytest.raises(ValueError, match="k"):
        kfolds(pairs, 1)


def small_copy(source, destination, count):
    """The first `count` pairs of a sample folder, as a folder of their own."""
    for part in ("images", "masks"):
        (destination / part).mkdir(parents=True)
    for image in sorted((source / "images").iterdir())[:count]:
        shutil.copy(image, destination / "images" / image.name)
        shutil.copy(source / "masks" / f"{image.stem}.png", destination / "masks" / f"{image.stem}.png")
    return destination


@pytest.mark.slow
def test_report_command_runs_on_the_shipped_sample_at_tiny_scale(tmp_path):
    pretrain, target = sample_datasets()
    root = tmp_path / "data"
    for folder in [*pretrain, target]:
        small_copy(folder, root / folder.name, 12)
    clinical = small_copy(target, root / "clinical", 6)
    stems = sorted(image.stem for image in (clinical / "images").iterdir())
    types = dict(zip(stems, ["1", "2", "2", "5", "6", ""]))  # one photograph without a type
    (clinical / "pairs.tsv").write_text(
        "stem\tfitzpatrick_type\n" + "".join(f"{stem}\t{kind}\n" for stem, kind in types.items()))
    weights = tmp_path / "tiny.keras"
    build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16)).save(weights)
    out = tmp_path / "report"
    command = [sys.executable, str(REPO / "experiments" / "generalization.py"), "--data-root", str(root),
               "--pool", "sfa,fasseg,hgr_subset,abdomen", "--loso", "hgr_subset,abdomen",
               "--loso-profile", "tiny", "--clinical", "clinical", "--weights", str(weights),
               "--finetune-profile", "tiny", "--folds", "3", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = pd.read_csv(out / "generalization.csv")
    loso = rows[rows["experiment"] == "leave_one_source_out"]
    assert set(loso["held_out"]) == {"hgr_subset", "abdomen"}
    assert set(loso["model"]) == {"unet", "all_skin", "ycrcb"}
    kfold = rows[rows["experiment"] == "kfold_finetune"]
    pooled = kfold[kfold["held_out"] == "all folds"].set_index("model")
    assert set(pooled.index) == {"direct", "fine-tuned", "all_skin", "ycrcb"}
    assert (pooled["n"] == 6).all()
    assert pooled.loc["all_skin", "pixel_recall"] == pytest.approx(1.0)
    markdown = (out / "generalization.md").read_text()
    assert "## Leave one source out" in markdown and "## k-fold fine-tuning" in markdown

    # Every held-out image, once per model, with its Fitzpatrick type and ITA category.
    per_image = pd.read_csv(out / "kfold_finetune_per_image.csv", dtype={"fitzpatrick_type": "Int64"})
    assert len(per_image) == 6 * 4 and set(per_image["stem"]) == set(stems)
    assert (per_image.groupby("stem")["fold"].nunique() == 1).all()
    for row in per_image.itertuples():
        assert (str(row.fitzpatrick_type) if not pd.isna(row.fitzpatrick_type) else "") == types[row.stem]
    assert per_image["ita_category"].notna().all()
    by_type = pd.read_csv(out / "kfold_by_fitzpatrick_type.csv")
    for model in ("direct", "fine-tuned", "all_skin", "ycrcb"):
        groups = by_type[by_type["model"] == model].set_index("group")
        assert groups["n"].to_dict() == {"1": 1, "2": 2, "5": 1, "6": 1, "unknown": 1}
        both = per_image[(per_image["model"] == model) & (per_image["fitzpatrick_type"] == 2)]
        tp, fp, fn = both["tp"].sum(), both["fp"].sum(), both["fn"].sum()
        assert groups.loc["2", "pooled_jaccard"] == pytest.approx(tp / (tp + fp + fn))
        assert groups.loc["2", "mean_jaccard"] == pytest.approx(both["jaccard"].mean())
    assert (by_type.loc[by_type["model"] == "all_skin", "pixel_recall"] == 1.0).all()
    by_ita = pd.read_csv(out / "kfold_by_ita_category.csv")
    assert by_ita.groupby("model")["n"].sum().to_dict() == {m: 6 for m in set(by_ita["model"])}
    assert "## k-fold fine-tuning by Fitzpatrick type" in markdown
    assert "## k-fold fine-tuning by ITA category" in markdown

    # Again with the post-processing: the folds are not trained again, only scored after the fill,
    # which turns missed skin into found skin and never the other way.
    filled_run = subprocess.run([*command, "--skip-loso", "--fill-holes", "0.2", "--fill-enclosed", "0.4"],
                                capture_output=True, text=True, cwd=tmp_path, check=False)
    assert filled_run.returncode == 0, filled_run.stderr[-3000:]
    assert "k-fold fine-tuning 1/3" in filled_run.stdout and "Epoch" not in filled_run.stdout
    filled = pd.read_csv(out / "kfold_finetune_per_image.csv").set_index(["model", "stem"]).sort_index()
    plain = per_image.set_index(["model", "stem"]).sort_index()
    assert (filled["tp"] + filled["fn"]).equals(plain["tp"] + plain["fn"])
    assert (filled["fn"] <= plain["fn"]).all() and (filled["fn"] < plain["fn"]).any()
    assert "--fill-holes 0.2 --fill-enclosed 0.4" in (out / "generalization.md").read_text()


def test_the_cpu_leave_one_source_out_profile_changes_only_the_robust_recipes_scale():
    """experiments/generalization.md's LOSO table: the robust recipe at 64 px and a CPU's budget."""
    import dataclasses

    from skin_segmentation.profiles import get_profile

    path = Path(__file__).resolve().parents[1] / "experiments" / "profiles" / "loso_cpu.json"
    loso, robust = get_profile(str(path)), get_profile("robust")
    changed = {field.name for field in dataclasses.fields(loso)
               if getattr(loso, field.name) != getattr(robust, field.name)}
    assert changed == {"name", "description", "image_size", "epochs", "patience", "warmup_epochs",
                       "epoch_images", "validation_fraction"}
    assert (loso.image_size, loso.epochs, loso.patience, loso.warmup_epochs, loso.epoch_images) == (64, 20, 3, 8, 320)
    assert loso.standardization == "fixed" and loso.balance_sources and loso.lesions > 0
