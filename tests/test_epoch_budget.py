"""Epochs: the paper's (its 2620-image pool, 2096 trained on and 524 validated), and the
budgets in SGD steps of the `quick` and `cpu` profiles, whatever the training set's size."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skin_segmentation.benchmarking import measure
from skin_segmentation.data import read_folder, sample_datasets
from skin_segmentation.data.readers import SkinPair
from skin_segmentation.data.splits import proportional_counts, split_validation
from skin_segmentation.models import (
    PAPER_EPOCH_IMAGES,
    PAPER_EPOCH_TRAIN_IMAGES,
    PAPER_EPOCH_VALIDATION_IMAGES,
    PRESETS,
)
from skin_segmentation.profiles import PROFILES, get_profile
from skin_segmentation.records import record_path, write_record
from skin_segmentation.tables import collect_runs, make_table1
from skin_segmentation.training import read_state, train


def test_the_papers_epoch_is_its_pool_of_2620_with_the_validation_split_inside():
    paper = get_profile("paper")
    assert PAPER_EPOCH_IMAGES == 1000 + 721 + 899 == paper.pretrain_images
    pool = [SkinPair(Path(f"{i}.png"), Path(f"{i}.png"), f"p{i:04d}", "pool")
            for i in range(PAPER_EPOCH_IMAGES)]
    trained, validated = split_validation(pool, paper.validation_fraction, seed=0)
    assert (len(trained), len(validated)) == (PAPER_EPOCH_TRAIN_IMAGES, PAPER_EPOCH_VALIDATION_IMAGES)
    assert (PAPER_EPOCH_TRAIN_IMAGES, PAPER_EPOCH_VALIDATION_IMAGES) == (2096, 524)
    assert paper.steps_per_epoch(PAPER_EPOCH_TRAIN_IMAGES) == 131


def timing_record(out, scenario, seconds, attributes):
    write_record(
        record_path(out, "unet", scenario), preset="unet", scenario=scenario, profile="quick",
        config={}, parameters=10, seconds_per_epoch=seconds, seed=0,
        history=pd.DataFrame({"epoch": [1], "loss": [0.5], "val_loss": [0.5]}),
        splits={"eval": ["e0"]},
        per_image=pd.DataFrame({"stem": ["e0"], "jaccard": [0.5], "dice": [2 / 3],
                                "tp": [1], "fp": [1], "fn": [0], "tn": [2]}),
        eval_images=np.zeros((1, 4, 4, 3), "uint8"), eval_masks=np.zeros((1, 4, 4), "uint8"),
        eval_confidence=np.zeros((1, 4, 4), "float32"), attributes=attributes,
    )


def test_seconds_per_paper_epoch_scale_the_images_our_epoch_trained_and_validated(tmp_path):
    # An epoch of 320 images drawn from 256 training pairs, then 64 validated: 384 images.
    timing_record(tmp_path / "budget", "direct_transfer", 12.0,
                  {"train_images": 256, "epoch_train_images": 320, "validation_images": 64})
    table = make_table1(collect_runs(tmp_path / "budget")).set_index("preset")
    assert table.loc["unet", "seconds_per_paper_epoch"] == pytest.approx(12.0 * 2620 / 384)
    # Records written before `epoch_train_images` existed: one pass over the training pairs.
    timing_record(tmp_path / "pass", "direct_transfer", 12.0,
                  {"train_images": 256, "validation_images": 64})
    table = make_table1(collect_runs(tmp_path / "pass")).set_index("preset")
    assert table.loc["unet", "seconds_per_paper_epoch"] == pytest.approx(12.0 * 2620 / 320)


def test_benchmark_projects_a_paper_epoch_as_2096_trained_then_524_validated():
    entries = [{"precision": "float32", "xla": False, "repeats": 3, "first": 1.0,
                "train": [(2.0, 1.0)] * 3, "infer": [(0.5, 1.0)] * 3, "latency": [(0.05, 1.0)] * 3}]
    row = measure._group_rows("unet", entries, flops=1e9, parameters=10, save_s=0.1)[0]
    # 16 images per 2.0 s step trained, 16 per 0.5 s batch validated.
    assert row["epoch_s_projected"] == pytest.approx(2096 / 8 + 524 / 32)


def test_benchmark_paper_epoch_trains_2096_and_validates_524(monkeypatch, tmp_path):
    seen = {}

    class Result:
        history = pd.DataFrame({"seconds": [30.0, 20.0]})

    def fake_train(preset, train_pairs, validation_pairs, out_dir, profile, **kwargs):
        seen.update(train=len(train_pairs), validation=len(validation_pairs), profile=profile)
        return Result()

    monkeypatch.setattr("skin_segmentation.training.train", fake_train)
    pairs = read_folder(sample_datasets()[1])
    row = measure.paper_epoch("unet", pairs, "float32", tmp_path)
    assert (seen["train"], seen["validation"]) == (2096, 524)
    assert (row["train_images"], row["validation_images"], row["epoch_s"]) == (2096, 524, 20.0)
    assert seen["profile"].image_size == 128 and seen["profile"].batch_size == 16


@pytest.mark.parametrize("train_images", [80, 256])
def test_quick_budget_is_20_steps_an_epoch_for_the_pool_and_the_target_alike(train_images):
    quick = get_profile("quick")
    assert quick.epoch_train_images(train_images) == 320
    assert quick.steps_per_epoch(train_images) == 20
    assert quick.epochs * quick.steps_per_epoch(train_images) == 300
    assert quick.patience * quick.steps_per_epoch(train_images) == 60
    # Early stopping watches from step 80 on, past the ~60 steps of "all skin" (150-250
    # with the per-image standardization of quick_v3.json, which watched from step 160).
    assert quick.warmup_epochs * quick.steps_per_epoch(train_images) == 80
    # The rate of a training from random weights rises over its first 5 epochs.
    assert quick.lr_warmup_steps == 5 * quick.steps_per_epoch(train_images) == 100


def test_quick_stays_on_the_papers_path_and_draws_its_pool_in_the_papers_proportions():
    quick, paper = get_profile("quick"), get_profile("paper")
    for field in ("batch_size", "learning_rate", "fine_tune_learning_rate", "validation_fraction",
                  "augment", "pretrain_shares", "target_train", "target_eval"):
        assert getattr(quick, field) == getattr(paper, field), field
    assert quick.image_size == 64 and quick.pretrain_images == 320
    # Its two departures from the paper's recipe, named in the profile.
    assert (paper.standardization, quick.standardization) == ("per_image", "fixed")
    assert (paper.lr_warmup_steps, quick.lr_warmup_steps) == (0, 100)
    # Not the recipe: the dtype policy, picked for the device when a run starts.
    assert (paper.precision, quick.precision) == ("float32", "auto")


def test_cpu_profile_is_the_paper_profile_on_a_step_budget():
    cpu, paper = get_profile("cpu"), get_profile("paper")
    differ = {field for field, value in cpu.to_config().items() if paper.to_config()[field] != value}
    assert differ == {"name", "description", "epochs", "patience", "warmup_epochs", "epoch_images"}
    assert cpu.image_size == 128 and cpu.model_overrides == {}
    # One pass over the shared pool's 414 training images, five over the target's 80.
    assert cpu.steps_per_epoch(414) == cpu.steps_per_epoch(80) == 26
    assert cpu.epochs * 26 == 1300 and cpu.patience * 26 == 130
    assert cpu.warmup_epochs * 26 == 208
    assert "unet" in PRESETS


EXPERIMENT_PROFILES = Path(__file__).resolve().parents[1] / "experiments" / "profiles"


QUICK_V3 = "quick_v3.json"


@pytest.mark.parametrize("name, base, changed", [
    ("quick_v5.json", "quick", {"epochs", "precision"}),
    ("quick_v4.json", "quick_v5.json", {"lr_warmup_steps"}),
    (QUICK_V3, "quick_v4.json", {"standardization", "warmup_epochs"}),
    ("quick_fixed_standardization.json", QUICK_V3, {"standardization"}),
    ("quick_v1.json", QUICK_V3, {"epochs", "patience", "warmup_epochs", "pretrain_images",
                                 "epoch_images", "pretrain_shares"}),
    ("quick_v2.json", QUICK_V3, {"epochs", "warmup_epochs"}),
    ("quick_ecu.json", QUICK_V3, {"pretrain_shares"}),
    ("quick_closeup.json", QUICK_V3, {"closeup"}),
    ("quick_pretrain_closeup.json", QUICK_V3, {"pretrain_closeup"}),
    ("quick_full_pool.json", QUICK_V3, {"pretrain_images"}),
    ("quick_long_warmup.json", QUICK_V3, {"warmup_epochs"}),
    ("quick_lr_warmup.json", QUICK_V3, {"lr_warmup_steps"}),
    ("cpu_v1.json", "cpu", {"epochs"}),
])
def test_table1_experiment_profiles_change_only_what_table1_md_says(name, base, changed):
    """The profiles that made table1.md's earlier and probe rows load, and each differs from
    the profile it was measured against in the fields its section names, nothing else."""
    profile = get_profile(str(EXPERIMENT_PROFILES / name))
    base = get_profile(base if base in PROFILES else str(EXPERIMENT_PROFILES / base))
    differ = {field for field, value in profile.to_config().items()
              if field not in ("name", "description") and base.to_config()[field] != value}
    assert differ == changed


def test_quick_ecu_draws_half_its_pool_from_ecu_and_the_rest_in_the_papers_proportions():
    # The shared folders' sizes; table1.md quotes the pool the probe drew: 160 / 61 / 44 / 55.
    profile = get_profile(str(EXPERIMENT_PROFILES / "quick_ecu.json"))
    sources = ("sfa", "fasseg", "hgr_subset", "ecu")
    counts = proportional_counts(dict(zip(sources, (1118, 208, 178, 1997))),
                                 dict(zip(sources, profile.pretrain_shares)),
                                 total=profile.pretrain_images)
    assert counts == {"sfa": 61, "fasseg": 44, "hgr_subset": 55, "ecu": 160}


def test_quick_full_pool_is_the_largest_pool_in_the_papers_proportions_the_shared_data_allow():
    # table1.md quotes it: 518 faces and hands, hgr_subset's 178 the limit, against quick's 320.
    sources = ("sfa", "fasseg", "hgr_subset")
    available = dict(zip(sources, (1118, 208, 178)))
    counts = {}
    for name in ("quick", str(EXPERIMENT_PROFILES / "quick_full_pool.json")):
        profile = get_profile(name)
        counts[name] = proportional_counts(available, dict(zip(sources, profile.pretrain_shares)),
                                           total=profile.pretrain_images)
    assert counts["quick"] == {"sfa": 122, "fasseg": 88, "hgr_subset": 110}
    assert counts[str(EXPERIMENT_PROFILES / "quick_full_pool.json")] == {
        "sfa": 198, "fasseg": 142, "hgr_subset": 178}


@pytest.mark.parametrize("augment", [None, "tf"])
def test_a_small_training_set_gets_the_steps_its_epoch_budget_says(tmp_path, augment):
    pairs = read_folder(sample_datasets()[1])[:10]
    profile = get_profile("tiny").replace(epochs=1, patience=1, epoch_images=20, augment=augment)
    train("unet", pairs[:8], pairs[8:], tmp_path, profile, verbose=0)
    # 8 training pairs, batch 4: one pass would be 2 steps; the budget says 20 images, 5 steps.
    assert read_state(tmp_path)["optimizer_iterations"] == profile.steps_per_epoch(8) == 5
