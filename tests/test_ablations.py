"""Issue 9's ablations: the variants' profiles, the comparison sets, the table, and the script."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skin_segmentation.ablations import (
    ABLATION_SCORES,
    ABLATION_VARIANTS,
    ablation_markdown,
    ablation_table,
)
from skin_segmentation.comparison import comparison_sets
from skin_segmentation.data.readers import DataError, read_dataset, read_datasets
from skin_segmentation.data.sample import SAMPLE_ROOT
from skin_segmentation.data.splits import select_pool
from skin_segmentation.data.splits_file import read_splits, write_splits
from skin_segmentation.profiles import get_profile, load_profile

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "experiments" / "profiles"
SCRIPT = REPO / "experiments" / "ablations.sh"
# Each variant's change to `full`; `no_negatives` changes the data, not the profile.
SWITCHED = {
    "no_closeup": {"closeup": 0.0},
    "no_photometric": {"photometric": 0.0},
    "half_photometric": {"photometric": 0.4},
    "no_lesions": {"lesions": 0.0},
    "no_balance": {"balance_sources": False, "pretrain_images": 1_000_000},
    "no_negatives": {},
    "size192": {"image_size": 192},
    "size256": {"image_size": 256},
    "per_image": {"standardization": "per_image"},
}


def changed_fields(before, after):
    """`{field: new value}` of the fields `after` changes, its name and description aside."""
    old, new = before.to_config(), after.to_config()
    return {key: value for key, value in new.items()
            if old[key] != value and key not in ("name", "description")}


def ablation(variant):
    return load_profile(PROFILES / f"ablation_{variant}.json")


# ------------------------------------------------------------------ the profiles


@pytest.mark.parametrize("variant", sorted(SWITCHED))
def test_each_ablation_profile_changes_only_the_switch_it_names(variant):
    profile = ablation(variant)
    assert profile.name == f"ablation_{variant}"
    assert changed_fields(ablation("full"), profile) == SWITCHED[variant]


def test_full_is_the_v2_runs_profile_robust_with_a_cpu_budget():
    full = ablation("full")
    assert changed_fields(load_profile(REPO / "weights" / "unet_fixed_cpu.json"), full) == {}
    assert changed_fields(get_profile("robust"), full) == {
        "epochs": 9, "patience": 4, "epoch_images": 960, "validation_fraction": 0.1,
        "fine_tune_learning_rate": 0.01, "model_overrides": {"unet": {"upsample_activation": None}},
    }
    # Every switch of the recipe is on, so that turning one off is an ablation.
    assert (full.closeup, full.photometric, full.lesions) == (0.5, 0.8, 0.3)
    assert full.balance_sources and full.standardization == "fixed" and full.image_size == 128


def test_the_script_runs_every_variant_and_every_variant_has_a_profile():
    default = re.search(r"^VARIANTS=\$\{VARIANTS:-([^}]*)\}", SCRIPT.read_text(), re.MULTILINE)
    assert tuple(default.group(1).split()) == ABLATION_VARIANTS
    files = {path.stem.removeprefix("ablation_") for path in PROFILES.glob("ablation_*.json")}
    assert files == {"full", *SWITCHED} and set(ABLATION_VARIANTS) <= files


def test_the_budget_file_the_script_writes_loads_from_any_folder(tmp_path, monkeypatch):
    # As ablations.sh writes it: the variant's file by absolute path, with the budget.
    wrapper = tmp_path / "run" / "no_closeup.json"
    wrapper.parent.mkdir()
    wrapper.write_text(json.dumps({"base": str(PROFILES / "ablation_no_closeup.json"),
                                   "epochs": 6, "patience": 6}))
    monkeypatch.chdir(tmp_path)
    profile = load_profile(wrapper)
    assert (profile.name, profile.epochs, profile.patience) == ("ablation_no_closeup", 6, 6)
    assert changed_fields(ablation("full"), profile) == {"closeup": 0.0, "epochs": 6, "patience": 6}
    assert profile.steps_per_epoch(4415) == 60


def test_a_base_file_is_read_beside_the_file_naming_it_and_a_circle_is_refused(tmp_path,
                                                                                monkeypatch):
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"base": "tiny", "name": "a", "epochs": 3}))
    (folder / "b.json").write_text(json.dumps({"base": "a.json", "name": "b", "lesions": 0.5}))
    monkeypatch.chdir(tmp_path)  # not the profiles' folder
    profile = load_profile(folder / "b.json")
    assert (profile.name, profile.epochs, profile.lesions, profile.image_size) == ("b", 3, 0.5, 32)
    (folder / "a.json").write_text(json.dumps({"base": "b.json", "epochs": 3}))
    with pytest.raises(ValueError, match="circle"):
        load_profile(folder / "b.json")
    (folder / "c.json").write_text(json.dumps({"base": "missing.json"}))
    with pytest.raises(ValueError, match="missing.json: not a readable profile"):
        load_profile(folder / "c.json")


def test_no_balance_keeps_every_image_of_full_and_balance_off_alone_would_not():
    pairs = [*read_dataset(SAMPLE_ROOT / "sfa"), *read_dataset(SAMPLE_ROOT / "hgr_subset")[:30]]
    full, no_balance = ablation("full"), ablation("no_balance")
    assert len(select_pool(pairs, full)) == len(select_pool(pairs, no_balance)) == 130
    assert set(select_pool(pairs, no_balance)) == set(pairs)
    # Without the large pretrain_images, every source would be cut to the smallest one's 30.
    assert len(select_pool(pairs, full.replace(balance_sources=False))) == 60


# ------------------------------------------------------------------ the comparison sets


def test_comparison_sets_are_abdomens_300_clinical_and_each_sources_validation(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    for name, target in (("abdomen", "abdomen"), ("clinical_ft13", "fasseg"), ("sfa", "sfa"),
                         ("hgr_subset", "hgr_subset")):
        (root / name).symlink_to(SAMPLE_ROOT / target)
    sfa = read_dataset(root / "sfa")
    splits = write_splits(tmp_path / "splits.json", train=sfa[3:], validation=sfa[:3])
    sets = comparison_sets(root, splits, sources=("sfa", "hgr_subset"))
    # hgr_subset has no validation image in the file: left out.
    assert list(sets) == ["abdomen_eval", "clinical_ft13_all", "sfa_validation"]
    assert [len(pairs) for pairs in sets.values()] == [300, 100, 3]
    assert {pair.stem for pair in sets["sfa_validation"]} == {pair.stem for pair in sfa[:3]}
    no_validation = write_splits(tmp_path / "eval.json", evaluation=sfa)
    with pytest.raises(DataError, match="no `validation` split"):
        comparison_sets(root, no_validation, sources=("sfa",))


# ------------------------------------------------------------------ the table

SETS = ("abdomen_eval", "clinical_ft13_all", "ecu_validation", "negatives_indoor_validation")


def write_comparison_rows(path, model, abdomen_j, clinical_image, clinical_pooled, ecu_f1, ecu_p,
                          ecu_r, empty_room):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"model": model, "set": "abdomen_eval", "mean_jaccard": abdomen_j},
            {"model": model, "set": "clinical_ft13_all", "mean_two_class_miou": clinical_image,
             "two_class_miou": clinical_pooled},
            {"model": model, "set": "ecu_validation", "pixel_f1": ecu_f1, "pixel_precision": ecu_p,
             "pixel_recall": ecu_r},
            {"model": model, "set": "negatives_indoor_validation",
             "predicted_skin_share": empty_room}]
    frame = pd.DataFrame(rows)
    if path.is_file():
        frame = pd.concat([pd.read_csv(path), frame])
    frame.to_csv(path, index=False)


def write_run(run, seconds, steps, best_val_loss, best_epoch):
    (run / "checkpoint").mkdir(parents=True)
    pd.DataFrame({"epoch": range(1, len(seconds) + 1), "seconds": seconds}).to_csv(
        run / "history.csv", index=False)
    (run / "checkpoint" / "state.json").write_text(json.dumps({
        "epochs_done": 2, "optimizer_iterations": steps, "best_val_loss": best_val_loss,
        "best_epoch": best_epoch, "finished": True}))


@pytest.fixture
def results(tmp_path):
    write_comparison_rows(tmp_path / "full" / "compare.csv", "full", 0.830, 0.697, 0.887, 0.649,
                          0.503, 0.913, 0.120)
    write_run(tmp_path / "full", [360.0, 370.0], 120, 0.437, 2)
    write_comparison_rows(tmp_path / "no_lesions" / "compare.csv", "no_lesions", 0.812, 0.650,
                          0.880, 0.640, 0.490, 0.920, 0.150)
    # A third history row that state.json does not vouch for (killed between the two writes).
    write_run(tmp_path / "no_lesions", [300.0, 300.0, 999.0], 120, 0.452, 1)
    for model, figures in (("start", (0.724, 0.383, 0.456, 0.620, 0.474, 0.894, 0.4)),
                           ("ycrcb", (0.786, 0.625, 0.798, 0.577, 0.419, 0.923, 0.3)),
                           ("all_skin", (0.615, 0.642, 0.445, 0.315, 0.187, 1.0, 1.0))):
        write_comparison_rows(tmp_path / "start" / "compare.csv", model, *figures)
    return tmp_path


def test_the_table_puts_each_variant_beside_full(results):
    table = ablation_table(results, ["no_lesions", "no_balance"])
    assert list(table.index) == ["full", "no_lesions", "no_balance", "start", "ycrcb", "all_skin"]
    assert table.loc["no_lesions", "abdomen_mean_jaccard_vs_full"] == pytest.approx(-0.018)
    assert table.loc["no_lesions", "clinical_miou_per_image_vs_full"] == pytest.approx(-0.047)
    assert table.loc["no_lesions", "negatives_skin_share_vs_full"] == pytest.approx(0.030)
    assert table.loc["start", "ecu_f1_vs_full"] == pytest.approx(-0.029)
    assert (table.loc["full", [f"{column}_vs_full" for column in ABLATION_SCORES]] == 0).all()
    assert table.loc["full", "train_minutes"] == pytest.approx(730 / 60)
    assert table.loc["full", "seconds_per_step"] == pytest.approx(730 / 120)
    assert table.loc["no_lesions", "train_minutes"] == pytest.approx(10.0)  # 999 s not counted
    assert not table.loc["no_balance", "finished"]
    assert np.isnan(table.loc["no_balance", "abdomen_mean_jaccard"])
    assert np.isnan(table.loc["ycrcb", "train_minutes"])


def test_the_markdown_shows_differences_to_full_and_what_has_not_run(results):
    markdown = ablation_markdown(ablation_table(results, ["no_lesions", "no_balance"]))
    rows = {line.split(" | ")[0].strip("| *"): line for line in markdown.splitlines()[2:]}
    assert "| 0.812 (-0.018) |" in rows["no_lesions"]
    assert "0.650 (-0.047) / 0.880 (-0.007)" in rows["no_lesions"]
    assert "| 0.452 (1) | 120 | 10 (5.0) |" in rows["no_lesions"]
    assert "| 0.830 | 0.697 / 0.887 | 0.649 / 0.503 / 0.913 | 0.120 |" in rows["full"]
    assert rows["no_balance (not run yet)"].count("| -") == 7
    assert "| 0.724 | 0.383 / 0.456 |" in rows["start"] and "(+" not in rows["start"]


# ------------------------------------------------------------------ the script, at tiny scale


def renamed_copy(source, destination, prefix, count, empty_masks=False):
    """The first `count` pairs of a sample folder under new stems (masks emptied on request)."""
    for part in ("images", "masks"):
        (destination / part).mkdir(parents=True)
    for index, image in enumerate(sorted((source / "images").iterdir())[:count]):
        stem = f"{prefix}_{index:03d}"
        shutil.copy(image, destination / "images" / f"{stem}{image.suffix}")
        mask = Image.open(source / "masks" / f"{image.stem}.png")
        if empty_masks:
            mask = Image.new(mask.mode, mask.size, 0)
        mask.save(destination / "masks" / f"{stem}.png")


TINY_FULL = {"base": "tiny", "name": "ablation_full", "standardization": "fixed",
             "augment": "tf", "closeup": 0.5, "photometric": 0.8, "lesions": 0.3,
             "balance_sources": True, "epoch_images": 8,
             "model_overrides": {"unet": {"filters": [4, 8, 16], "upsample_activation": None}}}


def tiny_ablation_setup(root):
    """A data root like ../shared/data made from the sample, tiny profiles, a start and splits."""
    data = root / "data"
    sources = {"sfa": ("sfa", 12), "fasseg": ("fasseg", 12), "hgr_subset": ("hgr_subset", 12),
               "ecu": ("fasseg", 12), "ccp": ("hgr_subset", 12), "negatives_indoor": ("sfa", 12),
               "clinical_ft13": ("abdomen", 6)}
    for name, (sample, count) in sources.items():
        renamed_copy(SAMPLE_ROOT / sample, data / name, name, count,
                     empty_masks=name == "negatives_indoor")
    (data / "abdomen").symlink_to(SAMPLE_ROOT / "abdomen")  # 400: the 100/300 protocol
    profiles = root / "profiles"
    profiles.mkdir()
    (profiles / "ablation_full.json").write_text(json.dumps(TINY_FULL))
    (profiles / "ablation_no_negatives.json").write_text(
        json.dumps({"base": "ablation_full.json", "name": "ablation_no_negatives"}))
    from skin_segmentation.training.compile import build_for_profile

    build_for_profile("unet", load_profile(profiles / "ablation_full.json")).save(root / "start.keras")
    pool = read_datasets([data / name for name in list(sources)[:6]])
    splits = write_splits(root / "splits.json", train=pool[1::4] + pool[2::4] + pool[3::4],
                          validation=pool[::4])
    return data, profiles, splits


def run_script(root, data, profiles, splits):
    environment = dict(os.environ, DATA=str(data), START=str(root / "start.keras"),
                       SPLITS=str(splits), PROFILES=str(profiles), EPOCHS="1",
                       OUT=str(root / "out"), VARIANTS="full no_negatives", PYTHONPATH=str(REPO),
                       PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["bash", str(SCRIPT)], cwd=REPO, env=environment,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_the_script_trains_each_variant_from_one_start_and_writes_the_table(tmp_path):
    data, profiles, splits = tiny_ablation_setup(tmp_path)
    run_script(tmp_path, data, profiles, splits)
    out = tmp_path / "out"
    table = pd.read_csv(out / "ablations.csv").set_index("variant")
    assert list(table.index) == ["full", "no_negatives", "start", "ycrcb", "all_skin"]
    assert table["finished"].all()
    assert table.loc["all_skin", "ecu_recall"] == 1.0
    assert table.loc["all_skin", "negatives_skin_share"] == 1.0
    for column in ABLATION_SCORES:
        if column == "ecu_precision" and table.loc["no_negatives", "ecu_recall"] == 0.0:
            # Two SGD steps may leave a network that calls nothing skin: no precision.
            assert np.isnan(table.loc["no_negatives", column])
            continue
        assert 0.0 <= table.loc["no_negatives", column] <= 1.0
        assert table.loc["no_negatives", f"{column}_vs_full"] == pytest.approx(
            table.loc["no_negatives", column] - table.loc["full", column])

    # One start, one budget, one seed; only the data of no_negatives differ.
    states = {variant: json.loads((out / variant / "checkpoint" / "state.json").read_text())
              for variant in ("full", "no_negatives")}
    assert states["full"]["initial_weights_sha256"] == states["no_negatives"]["initial_weights_sha256"]
    assert states["full"]["optimizer_iterations"] == states["no_negatives"]["optimizer_iterations"] == 2
    assert {state["identity"]["profile"]["epochs"] for state in states.values()} == {1}
    assert states["full"]["identity"]["data_sha256"] != states["no_negatives"]["identity"]["data_sha256"]
    given = set(read_splits(splits)["validation"])
    for variant, has_negatives in (("full", True), ("no_negatives", False)):
        recorded = read_splits(out / variant / "splits.json")
        trained_negatives = {stem for stem in recorded["train"] if stem.startswith("negatives")}
        assert bool(trained_negatives) == has_negatives
        expected = {stem for stem in given if has_negatives or not stem.startswith("negatives")}
        assert given & set(recorded["validation"]) == expected  # the given validation images kept

    # Run again: nothing is trained or scored again; a missing score is made again.
    history = (out / "full" / "history.csv").stat().st_mtime_ns
    assert "== full: done" in run_script(tmp_path, data, profiles, splits)
    (out / "no_negatives" / "compare.csv").unlink()
    again = run_script(tmp_path, data, profiles, splits)
    assert "== no_negatives: scoring" in again and "== full: done" in again
    assert (out / "full" / "history.csv").stat().st_mtime_ns == history
    assert (out / "no_negatives" / "compare.csv").is_file()
