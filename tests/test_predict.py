"""`skinseg predict`: masks and overlays at each photograph's own size, any format."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_segmentation import build_model, weights
from skin_segmentation.cli import main
from skin_segmentation.data.readers import load_image
from skin_segmentation.inference import (
    collect_images,
    confidence_to_mask,
    overlay_mask,
    predict_confidence,
    predict_files,
)
from skin_segmentation.postprocess import DEFAULT_FILL_ENCLOSED, DEFAULT_FILL_HOLES, fill_small_holes

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.keras"
    build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16)).save(path)
    return path


def _noise(rng, height, width, channels=3):
    shape = (height, width) if channels == 1 else (height, width, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Photographs of several sizes and formats; value: (height, width) once upright."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(1)
    sizes = {}
    Image.fromarray(_noise(rng, 37, 53)).save(root / "small.jpg", quality=95)
    sizes["small.jpg"] = (37, 53)
    Image.fromarray(_noise(rng, 200, 120)).save(root / "tall.png")
    sizes["tall.png"] = (200, 120)
    Image.fromarray(_noise(rng, 64, 48, channels=1)).save(root / "grey.png")
    sizes["grey.png"] = (64, 48)
    Image.fromarray(_noise(rng, 31, 90, channels=4)).save(root / "alpha.png")
    sizes["alpha.png"] = (31, 90)
    Image.fromarray(_noise(rng, 300, 257)).save(root / "large.bmp")
    sizes["large.bmp"] = (300, 257)
    Image.fromarray(_noise(rng, 45, 70)).convert("P").save(root / "palette.tif")
    sizes["palette.tif"] = (45, 70)
    # A phone's portrait photo: stored 40 x 60, EXIF says "rotate 90", upright 60 x 40.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_noise(rng, 40, 60)).save(root / "phone.jpg", exif=exif, quality=95)
    sizes["phone.jpg"] = (60, 40)
    return root, sizes


def _assert_outputs(out, photo, size):
    stem = Path(photo).stem
    with Image.open(out / f"{stem}_mask.png") as mask:
        assert mask.mode == "L" and mask.size == (size[1], size[0]), photo
        values = np.asarray(mask)
    assert set(np.unique(values)) <= {0, 255}
    with Image.open(out / f"{stem}_overlay.png") as overlay:
        assert overlay.mode == "RGB" and overlay.size == (size[1], size[0])
    return values


def test_masks_have_exactly_each_photos_size(photos, tiny_weights, tmp_path, capsys):
    root, sizes = photos
    out = tmp_path / "masks"
    files = [str(root / name) for name in sizes]
    assert main(["predict", *files, "--out", str(out), "--weights", str(tiny_weights),
                 "--batch-size", "3"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["n"] == len(sizes)
    import keras

    model = keras.models.load_model(tiny_weights, compile=False)
    for name, size in sizes.items():
        values = _assert_outputs(out, name, size)
        image = load_image(root / name)
        assert image.shape[:2] == size
        expected = confidence_to_mask(predict_confidence(model, [image])[0])
        np.testing.assert_array_equal(
            values, fill_small_holes(expected, DEFAULT_FILL_HOLES, enclosed_fraction=DEFAULT_FILL_ENCLOSED))


def test_a_folder_is_every_image_in_it_sorted(photos, tiny_weights, tmp_path):
    root, sizes = photos
    (root / "notes.txt").write_text("not an image")
    found = collect_images([root])
    assert [p.name for p in found] == sorted(p.name for p in found)
    assert {p.name for p in found} == set(sizes)
    out = tmp_path / "out"
    assert main(["predict", str(root), "--out", str(out), "--weights", str(tiny_weights)]) == 0
    assert len(list(out.glob("*_mask.png"))) == len(sizes)
    assert len(list(out.glob("*_overlay.png"))) == len(sizes)


def test_the_mask_is_the_skin_at_full_resolution(tmp_path, red_weights):
    # 96 x 160 (3x and 5x the network's 32): left half red, so left half skin.
    photo = np.full((96, 160, 3), 90, np.uint8)
    photo[..., 0] = 20
    photo[:, :80, 0] = 210
    Image.fromarray(photo).save(tmp_path / "arm.png")
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "arm.png"), "--out", str(out),
                 "--weights", str(red_weights)]) == 0
    mask = np.asarray(Image.open(out / "arm_mask.png"))
    expected = np.zeros((96, 160), np.uint8)
    expected[:, :80] = 255
    np.testing.assert_array_equal(mask, expected)
    overlay = np.asarray(Image.open(out / "arm_overlay.png"))
    np.testing.assert_array_equal(overlay, overlay_mask(photo, mask))
    # Skin is tinted green (outline pure green), the rest is the photo untouched.
    np.testing.assert_array_equal(overlay[:, 80:], photo[:, 80:])
    assert (overlay[:, 79] == (0, 255, 0)).all()
    assert overlay[10, 10, 1] > photo[10, 10, 1]


def test_predicting_a_folder_into_itself_twice_skips_its_own_masks(tmp_path, tiny_weights, capsys):
    Image.fromarray(np.zeros((12, 9, 3), np.uint8)).save(tmp_path / "hand.jpg")
    for _ in range(2):
        assert main(["predict", str(tmp_path), "--out", str(tmp_path), "--weights", str(tiny_weights)]) == 0
        assert json.loads(capsys.readouterr().out.strip())["n"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand.jpg", "hand_mask.png", "hand_overlay.png"]


def test_many_photos_in_batches(tmp_path, red_weights):
    rng = np.random.default_rng(2)
    paths = []
    for index in range(7):
        path = tmp_path / "in" / f"p{index}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(_noise(rng, 20 + index, 30 + 2 * index)).save(path)
        paths.append(path)
    import keras

    model = keras.models.load_model(red_weights, compile=False)
    written = predict_files(model, paths, tmp_path / "out", batch_size=3)
    assert [row["image"] for row in written] == [str(p) for p in paths]
    assert [(row["height"], row["width"]) for row in written] == [(20 + i, 30 + 2 * i) for i in range(7)]
    for row in written:
        mask = np.asarray(Image.open(row["mask"]))
        assert row["skin_fraction"] == pytest.approx(np.count_nonzero(mask) / mask.size)


def test_two_photos_with_one_stem_are_refused_naming_both(tmp_path, tiny_weights, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a" / "face.jpg")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "b" / "face.png")
    code = main(["predict", str(tmp_path / "a"), str(tmp_path / "b" / "face.png"),
                 "--out", str(tmp_path / "out"), "--weights", str(tiny_weights)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(tmp_path / "a" / "face.jpg") in err and str(tmp_path / "b" / "face.png") in err
    assert not (tmp_path / "out").exists()
    # The same file named twice is predicted once.
    assert collect_images([tmp_path / "a", tmp_path / "a" / "face.jpg"]) == [tmp_path / "a" / "face.jpg"]


def test_missing_and_unreadable_inputs_are_one_line_errors(tmp_path, tiny_weights, capsys):
    assert main(["predict", str(tmp_path / "nope.jpg"), "--out", str(tmp_path / "o"),
                 "--weights", str(tiny_weights)]) == 2
    assert "nope.jpg: no such file or folder" in capsys.readouterr().err
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    assert main(["predict", str(tmp_path / "broken.jpg"), "--out", str(tmp_path / "o"),
                 "--weights", str(tiny_weights), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(tmp_path / "empty"), "--out", str(tmp_path / "o"),
                 "--weights", str(tiny_weights)]) == 2
    assert "no image files in this folder" in capsys.readouterr().err


def test_default_weights_come_from_the_environment_or_the_repository(
    tmp_path, tiny_weights, monkeypatch, capsys
):
    photo = tmp_path / "x.png"
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(photo)
    monkeypatch.setenv("SKINSEG_WEIGHTS", str(tiny_weights))
    assert weights.default_weights_path() == tiny_weights
    assert main(["predict", str(photo), "--out", str(tmp_path / "o")]) == 0
    assert json.loads(capsys.readouterr().out.strip())["weights"] == str(tiny_weights)

    monkeypatch.setenv("SKINSEG_WEIGHTS", str(tmp_path / "gone.keras"))
    assert main(["predict", str(photo), "--out", str(tmp_path / "o")]) == 2
    assert "gone.keras: no such file" in capsys.readouterr().err

    monkeypatch.delenv("SKINSEG_WEIGHTS")
    monkeypatch.setattr(weights, "BUNDLED_WEIGHTS", tmp_path / "weights" / "unet.keras")
    with pytest.raises(FileNotFoundError, match="Pass --weights FILE.keras .* skinseg train"):
        weights.default_weights_path()
    assert weights.BUNDLED_WEIGHTS.name == "unet.keras"


def test_the_bundled_path_is_the_repositorys_weights_folder():
    assert weights.BUNDLED_WEIGHTS == REPO_ROOT / "weights" / "unet.keras"


def test_weights_that_are_not_a_skin_model_are_refused(tmp_path):
    import keras

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(tmp_path / "dense.keras")
    with pytest.raises(ValueError, match=r"dense.keras: .*Received: model.input_shape=\(None, 4\)"):
        weights.load_skin_model(tmp_path / "dense.keras")
    (tmp_path / "model.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="must be a Keras 3 `.keras` file"):
        weights.load_skin_model(tmp_path / "model.h5")


@pytest.mark.skipif(shutil.which("skinseg") is None, reason="the skinseg console script is not installed")
def test_the_console_script(photos, tiny_weights, tmp_path):
    root, sizes = photos
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        ["skinseg", "predict", str(root / "alpha.png"), str(root / "phone.jpg"),
         "--out", str(tmp_path / "out"), "--weights", str(tiny_weights)],
        capture_output=True, text=True, check=False, env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])["n"] == 2
    _assert_outputs(tmp_path / "out", "alpha.png", sizes["alpha.png"])
    _assert_outputs(tmp_path / "out", "phone.jpg", sizes["phone.jpg"])


def test_overlay_checks_its_inputs():
    image = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match=r"Received: mask.shape=\(5, 4\)"):
        overlay_mask(image, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="alpha=1.5"):
        overlay_mask(image, np.zeros((4, 5)), alpha=1.5)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_fill_holes_fills_the_masks_and_overlays_by_default_and_0_turns_it_off(tiny_weights, tmp_path, capsys):
    import keras

    from skin_segmentation.data.examples import example_photos

    model = keras.models.load_model(tiny_weights, compile=False)
    photos = example_photos()
    thresholded = [confidence_to_mask(confidence)
                   for confidence in predict_confidence(model, [load_image(p) for p in photos])]
    changed = 0
    for flags, fraction in (([], DEFAULT_FILL_HOLES), (["--fill-holes", "0"], 0.0)):
        out = tmp_path / f"fill_{fraction}"
        assert main(["predict", "--examples", "--out", str(out), "--weights", str(tiny_weights), *flags]) == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert summary["fill_holes"] == fraction and summary["n"] == len(photos)
        assert summary["fill_enclosed"] == DEFAULT_FILL_ENCLOSED
        for photo, mask in zip(photos, thresholded):
            expected = fill_small_holes(mask, fraction, enclosed_fraction=DEFAULT_FILL_ENCLOSED)
            written = np.asarray(Image.open(out / f"{Path(photo).stem}_mask.png"))
            np.testing.assert_array_equal(written, expected)
            overlay = np.asarray(Image.open(out / f"{Path(photo).stem}_overlay.png"))
            np.testing.assert_array_equal(overlay, overlay_mask(load_image(photo), expected))
            changed += int(np.count_nonzero(expected != mask))
    assert changed > 0  # the seeded tiny network leaves small holes in the examples


def test_a_fill_outside_zero_to_one_is_a_one_line_error(tiny_weights, tmp_path, capsys):
    assert main(["predict", "--examples", "--out", str(tmp_path / "out"), "--weights", str(tiny_weights),
                 "--fill-holes", "-1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [error] and "fill_holes=-1.0" in error
    assert not (tmp_path / "out").exists()
