"""Batches that survive: `predict` and `evaluate` over many files finish every readable one.

Each bad file is reported on stderr (one line naming it) and in `problems.csv`,
and the command exits 1; `--strict` stops at the first (exit 2). Masks are
written atomically, and `--skip-existing` continues a run that stopped. The
first-minute command, `skinseg predict --examples`, segments the example
photographs with the bundled U-Net.
"""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import red_detector
from PIL import Image

from skin_segmentation.cli import main
from skin_segmentation.data.examples import EXAMPLES
from skin_segmentation.data.readers import decode_mask
from skin_segmentation.inference import output_paths, predict_files, unfinished
from skin_segmentation.metrics import jaccard_index
from skin_segmentation.weights import BUNDLED_WEIGHTS


def half_red_photo(height, width):
    photo = np.zeros((height, width, 3), np.uint8)
    photo[:, : width // 2, 0] = 255
    return photo


@pytest.fixture
def photos(tmp_path):
    """Four good photographs and two bad ones, in one folder."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for index, (height, width) in enumerate([(20, 30), (41, 17), (8, 8), (64, 50)]):
        Image.fromarray(half_red_photo(height, width)).save(folder / f"good_{index}.png")
    good = (folder / "good_0.png").read_bytes()
    (folder / "bad_truncated.png").write_bytes(good[: len(good) // 2])
    (folder / "bad_text.jpg").write_bytes(b"not a photograph\n")
    return folder


def _problem_lines(stderr, command="skinseg predict"):
    return [line for line in stderr.splitlines() if line.startswith(f"{command}:")]


def test_predict_writes_every_readable_photo_and_lists_the_others(photos, red_weights, tmp_path, capsys):
    out = tmp_path / "masks"
    code = main(["predict", str(photos), "--out", str(out), "--weights", str(red_weights), "--batch-size", "2"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["n"] == 4 and summary["problem_count"] == 2
    assert sorted(_problem_lines(captured.err)) == [
        f"skinseg predict: skipped {photos / 'bad_text.jpg'}: unreadable or truncated image "
        f"(cannot identify image file '{photos / 'bad_text.jpg'}')",
        next(line for line in _problem_lines(captured.err) if "bad_truncated.png" in line),
    ]
    assert "bad_truncated.png: unreadable or truncated image" in summary["problems"][1]
    table = pd.read_csv(out / "problems.csv")
    assert list(table.columns) == ["file", "problem"]
    assert table["file"].tolist() == [str(photos / "bad_text.jpg"), str(photos / "bad_truncated.png")]
    for index, (height, width) in enumerate([(20, 30), (41, 17), (8, 8), (64, 50)]):
        mask = np.asarray(Image.open(out / f"good_{index}_mask.png"))
        assert mask.shape == (height, width)
        np.testing.assert_array_equal(mask[:, : width // 2], 255)  # the red half is skin
    assert sorted(path.name for path in out.iterdir()) == sorted(
        ["problems.csv"] + [f"good_{i}_{kind}.png" for i in range(4) for kind in ("mask", "overlay")]
    )


def test_strict_stops_at_the_first_bad_photo(photos, red_weights, tmp_path, capsys):
    code = main(["predict", str(photos), "--out", str(tmp_path / "masks"), "--weights", str(red_weights),
                 "--strict"])
    err = capsys.readouterr().err
    assert code == 2
    assert _problem_lines(err) == [
        f"skinseg predict: error: {photos / 'bad_text.jpg'}: unreadable or truncated image "
        f"(cannot identify image file '{photos / 'bad_text.jpg'}')"
    ]
    assert not (tmp_path / "masks" / "problems.csv").exists()
    # Fixed, the folder predicts cleanly, and the earlier problems.csv goes.
    (photos / "bad_text.jpg").unlink()
    (photos / "bad_truncated.png").unlink()
    (tmp_path / "masks" / "problems.csv").write_text("file,problem\nold,run\n")
    assert main(["predict", str(photos), "--out", str(tmp_path / "masks"), "--weights", str(red_weights)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["problems_csv"] is None
    assert not (tmp_path / "masks" / "problems.csv").exists()


def test_skip_existing_continues_where_a_run_stopped(photos, red_weights, tmp_path, capsys):
    out = tmp_path / "masks"
    good = sorted(photos.glob("good_*.png"))
    model = red_detector()
    predict_files(model, good[:2], out)  # a run that stopped after two photographs
    (out / "good_1_overlay.png").unlink()  # ... and before good_1's overlay
    before = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    assert unfinished(good, out) == good[1:]
    code = main(["predict", *map(str, good), "--out", str(out), "--weights", str(red_weights),
                 "--skip-existing"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and (summary["n"], summary["skipped_existing"]) == (3, 1)
    assert (out / "good_0_mask.png").stat().st_mtime_ns == before["good_0_mask.png"]
    assert all(path.is_file() for photo in good for path in output_paths(out, photo))


def test_a_mask_is_never_left_half_written(photos, tmp_path, monkeypatch):
    out = tmp_path / "masks"
    real_save = Image.Image.save

    def save_then_fail(image, target, *args, **kwargs):
        real_save(image, target, *args, **kwargs)
        if str(target).endswith("_mask.png"):
            raise OSError("No space left on device")

    monkeypatch.setattr(Image.Image, "save", save_then_fail)
    with pytest.raises(OSError, match="No space left"):
        predict_files(red_detector(), [photos / "good_0.png"], out)
    assert [path.name for path in out.iterdir()] == ["good_0_overlay.png"]  # no mask, no temporary


@pytest.fixture
def dataset(tmp_path):
    """Three usable pairs, one truncated photograph, one mask of another size."""
    root = tmp_path / "clinic"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((16, 20), np.uint8)
    mask[:, :10] = 255
    for stem in ("a", "b", "c", "d_truncated", "e_wrong_size"):
        Image.fromarray(half_red_photo(16, 20)).save(root / "images" / f"{stem}.png")
        Image.fromarray(mask).save(root / "masks" / f"{stem}.png")
    data = (root / "images" / "d_truncated.png").read_bytes()
    (root / "images" / "d_truncated.png").write_bytes(data[:60])
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(root / "masks" / "e_wrong_size.png")
    return root


def test_evaluate_scores_every_usable_pair_and_lists_the_others(dataset, red_weights, tmp_path, capsys):
    out = tmp_path / "report" / "per_image.csv"
    code = main(["evaluate", "--data", str(dataset), "--weights", str(red_weights), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["n"] == 3 and summary["mean_jaccard"] == pytest.approx(1.0)
    assert summary["problem_count"] == 2
    assert summary["problems"][0].startswith(f"{dataset / 'images' / 'd_truncated.png'}: unreadable")
    assert summary["problems"][1].startswith(f"{dataset / 'masks' / 'e_wrong_size.png'}: mask is 5x5")
    assert len(_problem_lines(captured.err, "skinseg evaluate")) == 2
    assert pd.read_csv(out)["stem"].tolist() == ["a", "b", "c"]
    assert pd.read_csv(out.parent / "problems.csv")["file"].tolist() == [
        str(dataset / "images" / "d_truncated.png"), str(dataset / "masks" / "e_wrong_size.png")
    ]
    code = main(["evaluate", "--data", str(dataset), "--weights", str(red_weights), "--strict"])
    assert code == 2 and "d_truncated.png" in capsys.readouterr().err


@pytest.mark.skipif(not BUNDLED_WEIGHTS.is_file(), reason="no bundled weights in this checkout")
def test_the_first_minute_command_segments_the_examples(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SKINSEG_WEIGHTS", raising=False)
    out = tmp_path / "masks"
    assert main(["predict", "--examples", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["n"] == len(EXAMPLES) == 4
    for example in EXAMPLES:
        mask_path, overlay_path = output_paths(out, example.image)
        assert f"  {overlay_path}  ({example.shows})" in captured.err.splitlines()
        predicted = np.asarray(Image.open(mask_path)) // 255
        jaccard = jaccard_index(decode_mask(example.mask), predicted.astype(np.float32))
        print(f"{example.stem}: Jaccard {jaccard:.3f}")
        assert jaccard > 0.8, example
