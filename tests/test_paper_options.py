"""Profile switches that follow the paper's data protocol: pool shares, MD5 selection."""

import json

import pytest

from skin_segmentation import profiles
from skin_segmentation.data import splits


def test_pool_shares_and_target_selection_round_trip_through_json(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({
        "base": "tiny", "name": "mine", "pretrain_shares": [1000, 721, 899],
        "target_selection": "md5",
    }))
    profile = profiles.load_profile(path)
    assert profile.pretrain_shares == (1000, 721, 899)
    assert profile.target_selection == "md5"
    path.write_text(json.dumps(profile.to_config()))
    assert profiles.load_profile(path) == profile
    assert profiles.get_profile("tiny").pretrain_shares is None
    assert profiles.get_profile("tiny").target_selection == "seeded"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"pretrain_shares": (1000, 0, 899)}, "pretrain_shares=\\(1000, 0, 899\\)"),
        ({"pretrain_shares": ()}, "pretrain_shares"),
        ({"target_selection": "sha1"}, "target_selection='sha1'"),
    ],
)
def test_bad_paper_options_are_refused_with_the_value(changes, message):
    with pytest.raises(ValueError, match=message):
        profiles.get_profile("tiny").replace(**changes)


def test_profiles_and_splits_agree_on_the_selections():
    assert profiles.TARGET_SELECTIONS == splits.TARGET_SELECTIONS
