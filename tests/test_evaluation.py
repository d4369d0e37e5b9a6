"""`skinseg evaluate`: per-image Jaccard/Dice at native resolution, pooled pixel F1.

The exact figures come from a "red detector": a 1x1 convolution whose confidence is
sigmoid(8 x the standardized red channel). On photographs whose left half is red and
whose right half is dark it predicts exactly the left half, at every photograph size
used here (the resizes by 1x, 2x, 3x and 2x/4x keep the boundary on a pixel edge), so
the expected counts are known by hand.
"""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skin_segmentation import build_model, metrics
from skin_segmentation.cli import main
from skin_segmentation.data.readers import read_folder
from skin_segmentation.data.splits import split_target
from skin_segmentation.data.splits_file import write_splits
from skin_segmentation.evaluation import PER_IMAGE_COLUMNS, evaluate_pairs, select_split
from skin_segmentation.inference import predict_confidence, resize_confidence

from helpers import red_detector

REPO_ROOT = Path(__file__).resolve().parents[1]


def half_red_photo(height, width):
    """Left half red (R=200), right half dark (R=20); green and blue constant."""
    image = np.full((height, width, 3), 100, np.uint8)
    image[..., 0] = 20
    image[:, : width // 2, 0] = 200
    return image


def write_pair(root, stem, image, mask):
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(root / "images" / f"{stem}.png")
    Image.fromarray((mask * 255).astype(np.uint8)).save(root / "masks" / f"{stem}.png")


# stem: (height, width, true mask, tp, fp, fn); the prediction is the left half.
def _top_half(h, w):
    mask = np.zeros((h, w), np.uint8)
    mask[: h // 2] = 1
    return mask


def _left_half(h, w):
    mask = np.zeros((h, w), np.uint8)
    mask[:, : w // 2] = 1
    return mask


CASES = {
    "a_top_half": (64, 64, _top_half, 1024, 1024, 1024),
    "b_exact": (96, 96, _left_half, 4608, 0, 0),
    "c_no_skin": (32, 32, lambda h, w: np.zeros((h, w), np.uint8), 0, 512, 0),
    "d_all_skin": (64, 128, lambda h, w: np.ones((h, w), np.uint8), 4096, 0, 4096),
}


def _jaccard(tp, fp, fn):
    return tp / (tp + fp + fn)


def _dice(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn)


@pytest.fixture(scope="module")
def known_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("known") / "clinic"
    for stem, (h, w, make_mask, *_) in CASES.items():
        write_pair(root, stem, half_red_photo(h, w), make_mask(h, w))
    return root


def test_red_detector_predicts_exactly_the_left_half_at_native_size():
    model = red_detector()
    photos = [half_red_photo(h, w) for h, w, *_ in CASES.values()]
    for photo, confidence in zip(photos, predict_confidence(model, photos, batch_size=3)):
        assert confidence.dtype == np.float32 and confidence.shape == photo.shape[:2]
        np.testing.assert_array_equal(confidence >= 0.5, _left_half(*photo.shape[:2]) == 1)


def test_evaluate_pairs_gives_the_counts_worked_out_by_hand(known_dataset):
    per_image, summary = evaluate_pairs(red_detector(), read_folder(known_dataset), batch_size=2)
    assert list(per_image.columns) == list(PER_IMAGE_COLUMNS)
    assert list(per_image["stem"]) == list(CASES)
    for row, (stem, (h, w, _, tp, fp, fn)) in zip(per_image.itertuples(), CASES.items()):
        assert (row.source, row.height, row.width) == ("clinic", h, w)
        assert (row.tp, row.fp, row.fn) == (tp, fp, fn), stem
        assert row.jaccard == pytest.approx(_jaccard(tp, fp, fn))
        assert row.dice == pytest.approx(_dice(tp, fp, fn))
    # By hand: J = (1/3 + 1 + 0 + 1/2) / 4, D = (1/2 + 1 + 0 + 2/3) / 4;
    # pooled tp 9728, fp 1536, fn 5120.
    assert summary["mean_jaccard"] == pytest.approx((1 / 3 + 1 + 0 + 0.5) / 4)
    assert summary["mean_dice"] == pytest.approx((0.5 + 1 + 0 + 2 / 3) / 4)
    assert summary["pixel_precision"] == pytest.approx(9728 / (9728 + 1536))
    assert summary["pixel_recall"] == pytest.approx(9728 / (9728 + 5120))
    assert summary["pixel_f1"] == pytest.approx(2 * 9728 / (2 * 9728 + 1536 + 5120))
    assert summary["n"] == 4
    # Pooled over all pixels: the paper's identity Dice = 2J/(1+J) holds, exactly here.
    assert summary["pooled_jaccard"] == pytest.approx(9728 / (9728 + 1536 + 5120))
    assert summary["pooled_dice"] == pytest.approx(2 * 9728 / (2 * 9728 + 1536 + 5120))
    jaccard = summary["pooled_jaccard"]
    assert summary["pooled_dice"] == pytest.approx(2 * jaccard / (1 + jaccard), rel=1e-12)
    assert summary["mean_dice"] != pytest.approx(2 * summary["mean_jaccard"] / (1 + summary["mean_jaccard"]))
    # Two-class mIoU per image: a (1/3 + 1/3) / 2, b 1, c (0 + 512/1024) / 2, d (1/2 + 0) / 2;
    # pooled over 22528 pixels (tn 6144): skin 9728/16384, non-skin 6144/12800.
    assert summary["mean_two_class_miou"] == pytest.approx((1 / 3 + 1 + 0.25 + 0.25) / 4)
    assert summary["two_class_miou"] == pytest.approx((9728 / 16384 + 6144 / 12800) / 2)


def test_cli_writes_the_csv_and_one_json_line(known_dataset, red_weights, tmp_path, capsys):
    out = tmp_path / "reports" / "per_image.csv"
    code = main(["evaluate", "--data", str(known_dataset), "--weights", str(red_weights),
                 "--out", str(out), "--batch-size", "3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1  # the progress bar went to stderr
    summary = json.loads(lines[0])
    assert summary["n"] == 4 and summary["split"] == "all"
    assert summary["mean_jaccard"] == pytest.approx(11 / 24)
    assert summary["pixel_f1"] == pytest.approx(19456 / 26112)
    assert summary["mean_two_class_miou"] == pytest.approx((1 / 3 + 1 + 0.25 + 0.25) / 4)
    assert summary["weights"] == str(red_weights)
    table = pd.read_csv(out)
    assert list(table.columns) == list(PER_IMAGE_COLUMNS)
    assert table.set_index("stem").loc["d_all_skin", ["height", "width", "tp", "fp", "fn"]].tolist() == [
        64, 128, 4096, 0, 4096
    ]
    assert table["jaccard"].tolist() == pytest.approx([1 / 3, 1.0, 0.0, 0.5])


def test_tiny_unet_scores_agree_with_the_metrics_at_native_resolution(known_dataset):
    import keras

    keras.utils.set_random_seed(3)
    model = build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    pairs = read_folder(known_dataset)
    per_image, summary = evaluate_pairs(model, pairs)
    from skin_segmentation.data.readers import load_pair

    loaded = [load_pair(pair) for pair in pairs]
    confidences = predict_confidence(model, [image for image, _ in loaded])
    for row, (_, mask), confidence in zip(per_image.itertuples(), loaded, confidences):
        assert row.jaccard == metrics.jaccard_index(mask, confidence)
        assert row.dice == metrics.dice_coefficient(mask, confidence)
        assert (row.tp, row.fp, row.fn) == metrics.pixel_counts(mask, confidence)
    assert summary["n"] == 4


@pytest.fixture(scope="module")
def target_like(tmp_path_factory):
    """110 tiny pairs: split_target(100, 300) leaves 10 to evaluate."""
    root = tmp_path_factory.mktemp("target") / "abdomen"
    rng = np.random.default_rng(0)
    for index in range(110):
        write_pair(root, f"abd_{index:03d}", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
                   (rng.uniform(size=(8, 8)) > 0.5).astype(np.uint8))
    return root


def test_split_eval_is_the_target_split_of_training(target_like, red_weights, tmp_path, capsys):
    pairs = read_folder(target_like)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 110 < 100 + 300
        train, evaluation = split_target(pairs, 100, 300, seed=0)
        assert [p.stem for p in select_split(pairs, "eval")] == [p.stem for p in evaluation]
        assert [p.stem for p in select_split(pairs, "train")] == [p.stem for p in train]
        out = tmp_path / "eval.csv"
        code = main(["evaluate", "--data", str(target_like), "--weights", str(red_weights),
                     "--split", "eval", "--out", str(out)])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert summary["n"] == 10 and summary["split"] == "eval" and summary["seed"] == 0
    assert pd.read_csv(out)["stem"].tolist() == [p.stem for p in evaluation]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        other_seed = {p.stem for p in select_split(pairs, "eval", seed=1)}
    assert other_seed != {p.stem for p in evaluation}


def test_splits_file_selects_the_recorded_stems_of_this_dataset(known_dataset, red_weights, tmp_path, capsys):
    splits = write_splits(tmp_path / "splits.json", seed=0, train=["b_exact"],
                          validation=["c_no_skin", "a_top_half", "sfa_0001"])
    code = main(["evaluate", "--data", str(known_dataset), "--weights", str(red_weights),
                 "--splits", str(splits), "--split", "validation"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert summary["n"] == 2  # sfa_0001 belongs to another dataset
    assert summary["mean_jaccard"] == pytest.approx((0.0 + 1 / 3) / 2)
    assert summary["splits"] == str(splits)

    code = main(["evaluate", "--data", str(known_dataset), "--weights", str(red_weights),
                 "--splits", str(splits), "--split", "test"])
    err = capsys.readouterr().err
    assert code == 2 and "no split named 'test'" in err and "train, validation" in err


def test_bad_input_is_one_line_and_exit_code_2(known_dataset, red_weights, tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "nowhere"), "--weights", str(red_weights)]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(known_dataset), "--weights", str(red_weights),
                 "--split", "validation"]) == 2
    assert "Received: split='validation'" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(known_dataset), "--weights", str(tmp_path / "no.keras")]) == 2
    assert "no.keras: no such weights file" in capsys.readouterr().err


def test_inputs_are_checked_and_named():
    model = red_detector()
    with pytest.raises(ValueError, match=r"images\[1\] with dtype=float32"):
        predict_confidence(model, [half_red_photo(8, 8), np.zeros((8, 8, 3), "float32")])
    with pytest.raises(ValueError, match="batch_size=0"):
        predict_confidence(model, [half_red_photo(8, 8)], batch_size=0)
    with pytest.raises(ValueError, match="No image/mask pairs"):
        evaluate_pairs(model, [])
    np.testing.assert_allclose(
        resize_confidence(np.array([[0.0, 1.0]], "float32"), 1, 4), [[0.0, 0.25, 0.75, 1.0]]
    )


# --------------------------------------------------------------------------- model card

MODEL_CARD = REPO_ROOT / "weights" / "README.md"
BUNDLED = REPO_ROOT / "weights" / "unet.keras"


def _card_row(dataset):
    for line in MODEL_CARD.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == dataset and len(cells) == 7:
            return cells
    raise AssertionError(f"{MODEL_CARD}: no metrics row for {dataset}")


def test_model_card_states_every_figure_it_promises():
    text = MODEL_CARD.read_text(encoding="utf-8")
    for dataset in ("abdomen", "sfa", "fasseg", "hgr_subset"):
        row = _card_row(dataset)
        # Pooled Dice is 2J/(1+J) of pooled Jaccard (to the printed decimals); means are not.
        pooled_jaccard, pooled_dice = float(row[3]), float(row[4])
        assert 2 * pooled_jaccard / (1 + pooled_jaccard) == pytest.approx(pooled_dice, abs=2e-4)
    for phrase in ("skinseg train", "skinseg evaluate --data data/abdomen --split eval",
                   "time taken", "epochs run"):
        assert phrase in text
    assert "{{FILL" not in text


@pytest.mark.slow
def test_bundled_weights_reproduce_the_model_card_on_abdomen(shared_data):
    row = _card_row("abdomen")
    assert BUNDLED.is_file()
    result = subprocess.run(
        [sys.executable, "-m", "skin_segmentation.cli", "evaluate", "--data",
         str(shared_data / "abdomen"), "--split", "eval", "--fill-holes", "0"],  # the card: no fill
        capture_output=True, text=True, check=False, cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    images = int(row[2])
    decimals = max(len(cell.split(".")[-1]) for cell in row[3:7])
    assert summary["n"] == images == 300
    for key, cell in zip(("pooled_jaccard", "pooled_dice", "mean_jaccard", "mean_dice"), row[3:7]):
        assert summary[key] == pytest.approx(float(cell), abs=0.5 * 10**-decimals), key
    assert summary["pixel_f1"] == pytest.approx(summary["pooled_dice"])


def test_per_image_two_class_miou_leaves_out_a_class_an_image_does_not_have():
    from skin_segmentation.evaluation import set_scores

    # A close-up all skin and called all skin (its mIoU is 1: there is no
    # background to score), and a 2x2 photograph half skin called all skin.
    frame = pd.DataFrame({"height": [2, 2], "width": [2, 2], "tp": [4, 2], "fp": [0, 2],
                          "fn": [0, 0], "jaccard": [1.0, 0.5]})
    scores = set_scores(frame)
    assert scores["mean_two_class_miou"] == pytest.approx((1.0 + (0.5 + 0.0) / 2) / 2)
    assert scores["two_class_miou"] == pytest.approx((6 / 8 + 0 / 2) / 2)


def test_a_network_that_calls_nothing_skin_has_f1_zero_and_no_precision():
    from skin_segmentation.evaluation import set_scores

    nothing_called = pd.DataFrame({"height": [4], "width": [4], "tp": [0], "fp": [0],
                                   "fn": [6], "jaccard": [0.0]})
    scores = set_scores(nothing_called)
    assert scores["pixel_f1"] == 0.0 and scores["pixel_recall"] == 0.0
    assert np.isnan(scores["pixel_precision"])
    # A set with no skin, called skin nowhere: nothing to count, not a perfect F1.
    empty = nothing_called.assign(fn=[0])
    assert np.isnan(set_scores(empty)["pixel_f1"])


def lesion_pairs(root, side):
    """A 128 x 128 photograph whose left half is red skin with a dark `side` x `side` lesion
    inside it (truth: skin) and whose right half is dark; `red_detector` misses the lesion."""
    photo = half_red_photo(128, 128)
    photo[40 : 40 + side, 20 : 20 + side, 0] = 20
    write_pair(root / "lesion", "closeup", photo, _left_half(128, 128))
    return read_folder(root / "lesion")


def test_filling_a_missed_lesion_turns_its_false_negatives_into_true_positives(tmp_path):
    pairs = lesion_pairs(tmp_path, 8)
    plain, _ = evaluate_pairs(red_detector(), pairs, fill_holes=0)
    filled, summary = evaluate_pairs(red_detector(), pairs, fill_holes=0.005)
    missed = int(plain.loc[0, "fn"])
    # The lesion is missed (under 81 pixels, int(0.005 * 128 * 128)), the dark half is not skin.
    assert 0 < missed < 81 and plain.loc[0, "fp"] == 0
    assert plain.loc[0, "tp"] == 64 * 128 - missed
    assert (filled.loc[0, "tp"], filled.loc[0, "fp"], filled.loc[0, "fn"]) == (64 * 128, 0, 0)
    assert filled.loc[0, "jaccard"] == 1.0 > plain.loc[0, "jaccard"]
    assert summary["pixel_recall"] == 1.0
    with pytest.raises(ValueError, match="Received: fill_holes=-0.1"):
        evaluate_pairs(red_detector(), pairs, fill_holes=-0.1)


def test_a_missed_lesion_over_the_fill_share_is_filled_when_skin_encloses_it(tmp_path):
    # A 12 x 12 lesion is missed over 140 pixels (0.85% of 128 x 128): more than fill_holes'
    # 0.5% (81 pixels), less than fill_enclosed's 1% (163).
    pairs = lesion_pairs(tmp_path, 12)
    holes_only, _ = evaluate_pairs(red_detector(), pairs, fill_holes=0.005)
    enclosed, _ = evaluate_pairs(red_detector(), pairs, fill_holes=0.005, fill_enclosed=0.01)
    assert 81 <= holes_only.loc[0, "fn"] < 163
    assert (enclosed.loc[0, "tp"], enclosed.loc[0, "fp"], enclosed.loc[0, "fn"]) == (64 * 128, 0, 0)
    with pytest.raises(ValueError, match="Received: fill_enclosed=2"):
        evaluate_pairs(red_detector(), pairs, fill_holes=0.005, fill_enclosed=2)


def test_cli_evaluate_records_the_fill_it_scored_with(known_dataset, red_weights, capsys):
    for flags, recorded in (([], (0.005, 0.01)), (["--fill-holes", "0"], (0.0, 0.01)),
                            (["--fill-enclosed", "0.02"], (0.005, 0.02))):
        assert main(["evaluate", "--data", str(known_dataset), "--weights", str(red_weights), *flags]) == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert (summary["fill_holes"], summary["fill_enclosed"]) == recorded
    assert main(["evaluate", "--data", str(known_dataset), "--fill-holes", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "fill_holes=1.0" in error
