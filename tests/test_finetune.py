"""Fine-tuning as a user does it: the network's own size, and scores before and after."""

import json

import numpy as np
import pytest

from skin_segmentation.cli import main
from skin_segmentation.data.readers import read_dataset
from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.data.splits_file import read_splits
from skin_segmentation.evaluation import evaluate_pairs, set_scores
from skin_segmentation.finetune import fine_tune
from skin_segmentation.models import build_model
from skin_segmentation.profiles import get_profile
from skin_segmentation.training import network_to_fine_tune
from skin_segmentation.weights import load_skin_model, model_image_size


@pytest.fixture(scope="module")
def tiny_network(tmp_path_factory):
    """A miniature U-Net saved at 32x32, the size of the `tiny` profile."""
    path = tmp_path_factory.mktemp("init") / "tiny32.keras"
    build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16)).save(path)
    return path


@pytest.fixture
def profile_at_64(tmp_path):
    path = tmp_path / "tiny64.json"
    path.write_text(json.dumps({"base": "tiny", "name": "tiny64", "image_size": 64, "epochs": 1}))
    return path


def test_network_to_fine_tune_adopts_the_networks_input_size(tiny_network, capsys):
    model, profile = network_to_fine_tune(tiny_network, get_profile("tiny").replace(image_size=64))
    assert profile.image_size == 32
    assert model_image_size(model) == (32, 32)
    assert "at its own input size, 32x32" in capsys.readouterr().out


def test_train_init_trains_at_the_init_networks_size(tiny_network, profile_at_64, tmp_path, capsys):
    abdomen = sample_datasets()[1]
    out = tmp_path / "run"
    code = main(["train", "--data", str(abdomen), "--out", str(out), "--init", str(tiny_network),
                 "--profile", str(profile_at_64)])
    assert code == 0
    assert "own input size, 32x32 (the tiny64 profile's is 64x64)" in capsys.readouterr().out
    trained = load_skin_model(out / "model.keras")
    assert model_image_size(trained) == (32, 32)
    start = load_skin_model(tiny_network)
    moved = [not np.array_equal(a, b) for a, b in zip(start.get_weights(), trained.get_weights())]
    assert any(moved)


def test_fine_tune_reports_scores_before_and_after_on_held_out_pairs(tiny_network, tmp_path):
    abdomen = sample_datasets()[1]
    profile = get_profile("finetune").replace(epochs=2, patience=1, epoch_images=8, batch_size=4)
    result = fine_tune(abdomen, tmp_path / "ft", weights=tiny_network, profile=profile, verbose=0,
                       fill_holes=0.005, fill_enclosed=0.01)
    scores = json.loads((tmp_path / "ft" / "finetune_scores.json").read_text())
    assert (scores["fill_holes"], scores["fill_enclosed"]) == (0.005, 0.01)
    # "before" is the starting network's score with the fill, as `skinseg predict` writes masks.
    held_out = set(read_splits(tmp_path / "ft" / "splits.json")["validation"])
    pairs = [pair for pair in read_dataset(abdomen) if pair.stem in held_out]
    filled = set_scores(evaluate_pairs(load_skin_model(tiny_network), pairs, fill_holes=0.005,
                                       fill_enclosed=0.01)[0])
    assert scores["before"]["two_class_miou"] == pytest.approx(filled["two_class_miou"])
    assert result.held_out == scores["held_out"] > 0
    assert result.trained_on + result.held_out == len(list((abdomen / "images").iterdir()))
    for when in ("before", "after"):
        assert 0.0 <= scores[when]["two_class_miou"] <= 1.0
        assert scores[when]["n"] == result.held_out
    assert (tmp_path / "ft" / "model.keras").is_file()
    assert result.table()[0] == "| score | before | after |"


def test_a_fill_outside_zero_to_one_is_a_one_line_error(tmp_path, capsys):
    abdomen = sample_datasets()[1]
    assert main(["finetune", "--data", str(abdomen), "--out", str(tmp_path / "ft"),
                 "--fill-holes", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [error] and "fill_holes=1.0" in error


def test_the_model_cards_train_command_parses_with_the_real_parser():
    import shlex

    from skin_segmentation.cli import build_parser
    from skin_segmentation.weights import TRAIN_COMMAND

    words = shlex.split(TRAIN_COMMAND)
    assert words[0] == "skinseg"
    args = build_parser().parse_args(words[1:])
    assert (args.command, args.model, args.target_train) == ("train", "unet", "data/abdomen")
