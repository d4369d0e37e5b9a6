"""Splits: the paper's sizes, determinism from a seed, balance across sources."""

import collections
import hashlib
import json
from pathlib import Path

import pytest

from skin_segmentation.data import (
    DataError,
    SkinPair,
    balanced_pool,
    read_folder,
    read_splits,
    select_stems,
    split_target,
    split_validation,
    write_splits,
)
from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.data.splits import proportional_counts, split_validation_keeping
from skin_segmentation.data.training_set import target_split


def fake_pairs(count, source="abdomen", prefix="p"):
    return [
        SkinPair(Path(f"/x/{prefix}{i:04d}.jpg"), Path(f"/x/{prefix}{i:04d}.png"), f"{prefix}{i:04d}", source)
        for i in range(count)
    ]


def stems(pairs):
    return [pair.stem for pair in pairs]


def test_target_split_is_100_and_300_disjoint_and_seeded():
    pairs = fake_pairs(617)
    train, evaluation = split_target(pairs, seed=0)
    assert len(train) == 100 and len(evaluation) == 300
    assert not set(stems(train)) & set(stems(evaluation))
    again = split_target(list(reversed(pairs)), seed=0)  # input order does not matter
    assert stems(again[0]) == stems(train) and stems(again[1]) == stems(evaluation)
    other = split_target(pairs, seed=1)
    assert set(stems(other[0])) != set(stems(train))


def test_small_target_set_warns_and_evaluates_on_the_rest():
    with pytest.warns(UserWarning, match="evaluating on the remaining 150"):
        train, evaluation = split_target(fake_pairs(250), seed=3)
    assert len(train) == 100 and len(evaluation) == 150
    with pytest.raises(ValueError, match="Received: 100 pairs"):
        split_target(fake_pairs(100))


def test_small_target_set_warning_names_the_callers_line():
    # Called directly or through `training_set.target_split`, the warning points here.
    with pytest.warns(UserWarning, match="fewer than n_train") as direct:
        split_target(fake_pairs(12), n_train=10, n_eval=6)
    with pytest.warns(UserWarning, match="fewer than n_train") as through_profile:
        target_split(fake_pairs(12), "tiny")
    assert [warning.filename for warning in (*direct, *through_profile)] == [__file__, __file__]


def test_validation_holds_out_twenty_percent():
    train, _ = split_target(fake_pairs(400), seed=0)
    fit, validation = split_validation(train, fraction=0.2, seed=0)
    assert len(fit) == 80 and len(validation) == 20
    assert sorted(stems(fit) + stems(validation)) == sorted(stems(train))
    assert stems(split_validation(train, seed=0)[1]) == stems(validation)
    assert stems(split_validation(train, seed=5)[1]) != stems(validation)
    assert [len(part) for part in split_validation(fake_pairs(7), 0.2)] == [6, 1]
    with pytest.raises(ValueError, match="fraction=1.5"):
        split_validation(train, fraction=1.5)


def test_duplicate_stems_are_refused():
    with pytest.raises(ValueError, match="p0000"):
        split_target(fake_pairs(500) + fake_pairs(1))


def test_balanced_pool_equal_capped_or_by_dict():
    pairs = fake_pairs(1118, "sfa", "s") + fake_pairs(208, "fasseg", "f") + fake_pairs(178, "hgr", "h")
    counts = collections.Counter(pair.source for pair in balanced_pool(pairs, seed=0))
    assert counts == {"sfa": 178, "fasseg": 178, "hgr": 178}
    capped = collections.Counter(pair.source for pair in balanced_pool(pairs, per_source=200))
    assert capped == {"sfa": 200, "fasseg": 200, "hgr": 178}
    # the paper drew 1000 / 721 / 899 from its three sets
    paper_like = balanced_pool(pairs, per_source={"sfa": 1000, "fasseg": 150, "hgr": 99}, seed=2)
    assert collections.Counter(p.source for p in paper_like) == {"sfa": 1000, "fasseg": 150, "hgr": 99}
    assert stems(balanced_pool(pairs, seed=4)) == stems(balanced_pool(list(reversed(pairs)), seed=4))
    assert stems(balanced_pool(pairs, seed=4)) != stems(balanced_pool(pairs, seed=5))
    with pytest.raises(ValueError, match="Source 'hgr' has 178 pairs"):
        balanced_pool(pairs, per_source={"hgr": 721})
    with pytest.raises(ValueError, match="lfw"):
        balanced_pool(pairs, per_source={"lfw": 10})


def test_a_sources_draw_does_not_depend_on_another_sources_count():
    pairs = fake_pairs(50, "a", "a") + fake_pairs(50, "b", "b")
    first = balanced_pool(pairs, per_source={"a": 10, "b": 5}, seed=0)
    second = balanced_pool(pairs, per_source={"a": 20, "b": 5}, seed=0)
    assert [p for p in first if p.source == "b"] == [p for p in second if p.source == "b"]


def test_splits_round_trip_with_their_seed(tmp_path):
    train, evaluation = split_target(fake_pairs(400), seed=7)
    path = write_splits(tmp_path / "run" / "splits.json", seed=7, train=train, evaluation=evaluation)
    document = json.loads(path.read_text())
    assert document["seed"] == 7 and document["splits"]["train"] == stems(train)
    splits, seed = read_splits(path, with_seed=True)
    assert seed == 7 and splits == {"train": stems(train), "evaluation": stems(evaluation)}
    restored = select_stems(fake_pairs(617), splits["evaluation"])
    assert stems(restored) == stems(evaluation)
    with pytest.raises(ValueError, match="not in the data"):
        select_stems(fake_pairs(10), splits["evaluation"])


def test_abdomen_gives_exactly_100_and_300(shared_data):
    train, evaluation = split_target(read_folder(shared_data / "abdomen"), seed=0)
    assert len(train) == 100 and len(evaluation) == 300
    assert {pair.source for pair in train + evaluation} == {"abdomen"}


def test_md5_selection_keeps_the_images_first_in_md5_order(tmp_path):
    pairs = []
    for index in range(12):
        image = tmp_path / f"img{index:02d}.jpg"
        image.write_bytes(f"photograph {index}".encode())
        pairs.append(SkinPair(image, tmp_path / f"img{index:02d}.png", f"img{index:02d}", "clinic"))
    by_md5 = sorted(pairs, key=lambda pair: hashlib.md5(pair.image.read_bytes()).hexdigest())
    assert stems(by_md5) != sorted(stems(pairs))  # MD5 order is not name order here
    first_six = set(stems(by_md5[:6]))
    for seed in (0, 1, 2):
        train, evaluation = split_target(pairs, n_train=2, n_eval=4, seed=seed, selection="md5")
        assert len(train) == 2 and len(evaluation) == 4
        assert set(stems(train)) | set(stems(evaluation)) == first_six
    seeded = split_target(pairs, n_train=2, n_eval=4, seed=0)
    assert set(stems(seeded[0])) | set(stems(seeded[1])) != first_six
    with pytest.raises(ValueError, match="selection='sha1'"):
        split_target(pairs, n_train=2, n_eval=4, selection="sha1")
    pairs[0].image.unlink()
    with pytest.raises(DataError, match="img00.jpg"):
        split_target(pairs, n_train=2, n_eval=4, selection="md5")


def test_proportional_counts_follow_the_papers_pool_where_the_data_allow():
    shares = {"lfw": 1000, "lvs": 721, "hgr": 899}
    assert proportional_counts({"lfw": 13233, "lvs": 5000, "hgr": 899}, shares, total=2620) == shares
    # Ours: the smallest source in proportion limits the pool to 518 images.
    ours = proportional_counts({"lfw": 1118, "lvs": 208, "hgr": 178}, shares, total=2620)
    assert ours == {"lfw": 198, "lvs": 142, "hgr": 178}
    assert proportional_counts({"lfw": 1118, "lvs": 208, "hgr": 178}, shares) == ours
    halved = proportional_counts({"lfw": 1000, "lvs": 721, "hgr": 899}, shares, total=1310)
    assert halved == {"lfw": 500, "lvs": 361, "hgr": 449} and sum(halved.values()) == 1310
    with pytest.raises(ValueError, match="sources"):
        proportional_counts({"lfw": 10}, shares)
    with pytest.raises(ValueError, match="positive"):
        proportional_counts({"lfw": 10, "lvs": 10, "hgr": 10}, {**shares, "hgr": 0})



def test_continuing_on_more_data_keeps_the_earlier_validation_unseen(tmp_path):
    pretrain, abdomen = sample_datasets()
    earlier = read_folder(abdomen)[:30]
    train, validation = split_validation(earlier, fraction=0.2, seed=0)
    path = write_splits(tmp_path / "splits.json", train=train, validation=validation)
    added = read_folder(pretrain[0])[:10]
    new_train, new_validation = split_validation_keeping(earlier + added, path, fraction=0.2, seed=3)
    assert set(validation) <= set(new_validation) and set(train) <= set(new_train)
    assert not set(new_train) & set(new_validation)
    assert set(new_validation) - set(validation) == set(added) & set(new_validation)
    assert len(set(added) & set(new_validation)) == 2  # 20% of the 10 new pairs


def test_train_validation_from_a_file_that_is_not_a_run_is_refused(tmp_path, capsys):
    from skin_segmentation.cli import main

    not_a_run = tmp_path / "splits.json"
    not_a_run.write_text(json.dumps({"seed": 0, "splits": {"eval": ["a"]}}))
    code = main(["train", "--data", str(sample_datasets()[1]), "--profile", "tiny",
                 "--out", str(tmp_path / "run"), "--validation-from", str(not_a_run)])
    assert code == 2
    assert str(not_a_run) in capsys.readouterr().err


def test_profiles_offer_the_target_selections_split_target_takes():
    from skin_segmentation.data.splits import TARGET_SELECTIONS
    from skin_segmentation.profile_fields import TARGET_SELECTIONS as PROFILE_SELECTIONS

    assert PROFILE_SELECTIONS == TARGET_SELECTIONS
