"""The training set of one run: what it learns from, validates on, and leaves unseen."""

import json
from pathlib import Path

import pytest

from skin_segmentation.data import SkinPair, read_datasets, read_folder, read_splits, sample_datasets
from skin_segmentation.data.splits import select_pool, split_validation
from skin_segmentation.data.training_set import (
    add_target_training,
    record_training_splits,
    split_training,
    target_split,
    unseen_pairs,
)
from skin_segmentation.profiles import get_profile

# target_train=10, target_eval=6, validation_fraction=0.2, seed=0.
TINY = get_profile("tiny")


def fake_pairs(count, source, prefix=None):
    prefix = prefix or source
    return [SkinPair(Path(f"/x/{prefix}{i:03d}.jpg"), Path(f"/x/{prefix}{i:03d}.png"), f"{prefix}{i:03d}", source)
            for i in range(count)]


def keys(pairs):
    return {(pair.source, pair.stem) for pair in pairs}


def test_target_split_follows_the_profile():
    target = fake_pairs(40, "abdomen")
    train, evaluation = target_split(target, TINY)
    assert (len(train), len(evaluation)) == (TINY.target_train, TINY.target_eval) == (10, 6)
    assert not keys(train) & keys(evaluation)
    wider = TINY.replace(target_train=20, target_eval=15)
    assert [len(part) for part in target_split(target, wider)] == [20, 15]
    with pytest.raises(ValueError, match="more than n_train=10"):
        target_split(target[:10], TINY)


def test_the_targets_evaluation_images_never_reach_training():
    pool = fake_pairs(30, "sfa") + fake_pairs(30, "hgr")
    target = fake_pairs(40, "abdomen")
    drawn = pool[:12]
    pairs, target_train, target_eval = add_target_training(drawn, target, TINY)
    assert pairs == drawn + target_train and len(pairs) == 22
    assert not keys(pairs) & keys(target_eval)
    # The target folder also given as a pre-training folder: its evaluation images
    # drawn into the pool are taken out, its training images are not listed twice.
    drawn_with_target = drawn + target
    pairs, target_train, target_eval = add_target_training(drawn_with_target, target, TINY)
    assert not keys(pairs) & keys(target_eval)
    assert len(pairs) == len(keys(pairs)) == 12 + 40 - 6
    assert keys(target_train) <= keys(pairs)


def test_held_out_is_exactly_what_the_run_does_not_train_on():
    pool, target = fake_pairs(30, "sfa") + fake_pairs(30, "hgr"), fake_pairs(40, "abdomen")
    pairs, target_train, target_eval = add_target_training(pool[::3], target, TINY)
    train, validation = split_training(pairs, TINY)
    every_pair = pool + target
    held_out = unseen_pairs(every_pair, train)
    assert keys(held_out) == keys(every_pair) - keys(train)
    assert len(held_out) + len(train) == len(every_pair) == 100
    assert keys(validation) <= keys(held_out) and keys(target_eval) <= keys(held_out)
    assert [pair for pair in every_pair if pair in held_out] == held_out  # in the folders' order


def test_split_training_holds_out_the_profiles_share():
    pairs = fake_pairs(50, "sfa")
    train, validation = split_training(pairs, TINY)
    assert (len(train), len(validation)) == (40, 10)
    assert (train, validation) == split_validation(pairs, fraction=0.2, seed=0)
    other = split_training(pairs, TINY.replace(seed=1, validation_fraction=0.3))
    assert [len(part) for part in other] == [35, 15] and other[1] != validation


def test_a_validation_from_file_keeps_its_validation_stems(tmp_path):
    first = fake_pairs(30, "abdomen")
    train, validation = split_training(first, TINY)
    path = record_training_splits(tmp_path / "splits.json", train, validation, first, seed=TINY.seed)
    more = first + fake_pairs(20, "sfa")
    new_train, new_validation = split_training(more, TINY, validation_from=path)
    assert keys(validation) <= keys(new_validation) and keys(train) <= keys(new_train)
    assert not keys(new_train) & keys(new_validation)
    assert len(new_validation) == len(validation) + 4  # 20% of the 20 new pairs
    # Without the file, the 50 pairs are split afresh and some earlier validation trains.
    fresh_train, _ = split_training(more, TINY)
    assert keys(validation) & keys(fresh_train)


def test_recorded_splits_list_train_validation_and_held_out(tmp_path):
    pairs = fake_pairs(10, "abdomen")
    path = record_training_splits(tmp_path / "run" / "splits.json", pairs[:6], pairs[6:8], pairs, seed=3)
    splits, seed = read_splits(path, with_seed=True)
    assert seed == 3
    assert splits == {"train": [p.stem for p in pairs[:6]], "validation": [p.stem for p in pairs[6:8]],
                      "held_out": [p.stem for p in pairs[6:]]}
    assert [p.name for p in path.parent.iterdir()] == ["splits.json"]  # no temporary left


def test_cli_train_records_what_the_library_draws(tmp_path, capsys):
    from skin_segmentation.cli import main

    pool, target = sample_datasets()
    run = tmp_path / "run"
    assert main(["train", "--model", "histogram", "--data", ",".join(map(str, pool)),
                 "--target-train", str(target), "--profile", "tiny", "--out", str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("12 pairs drawn from ") and lines[0].endswith("(per source, tiny profile).")
    assert lines[1] == (f"Added the 10 training images of {target}; its 6 evaluation images are "
                        "left out.")
    every_pair = read_datasets(pool) + read_folder(target)
    pairs, _, target_eval = add_target_training(select_pool(read_datasets(pool), TINY), read_folder(target), TINY)
    train, validation = split_training(pairs, TINY)
    recorded = json.loads((run / "splits.json").read_text())
    assert recorded["seed"] == 0
    assert recorded["splits"]["train"] == [p.stem for p in train]
    assert recorded["splits"]["validation"] == [p.stem for p in validation]
    assert recorded["splits"]["held_out"] == [p.stem for p in unseen_pairs(every_pair, train)]
    assert len(recorded["splits"]["held_out"]) == 700 - 18
    assert {p.stem for p in target_eval} <= set(recorded["splits"]["held_out"])
