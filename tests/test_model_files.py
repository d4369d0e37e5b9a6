"""Model files that do not fit: every command reports them in one line naming the file, exit 2.

A `.keras` (or a histogram's `.npz`) that is empty, truncated, text, damaged
inside (a bad CRC of `model.weights.h5`), a zip of something else, a folder, or
a model of a non-square input is checked before it is loaded
(`model_files.check_model_file`), by every command that loads one: predict,
evaluate, export, finetune, train --init, and a resumed run's checkpoints.
"""

import json
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_segmentation import build_model
from skin_segmentation.cli import main
from skin_segmentation.model_files import check_model_file, load_keras_model

REPO_ROOT = Path(__file__).resolve().parents[1]


def _damage_member(path, member, target):
    """Copy the `.keras` zip `path` to `target` with one byte of `member` flipped (its CRC fails)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A good tiny `.keras`, and each kind of broken one; name -> path."""
    import keras

    root = tmp_path_factory.mktemp("models")
    good = root / "good.keras"
    keras.utils.set_random_seed(0)
    build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16)).save(good)
    data = good.read_bytes()
    files = {"good": good}
    files["truncated"] = root / "truncated.keras"
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["text"] = root / "text.keras"
    files["text"].write_text("this is not a model\n")
    files["empty"] = root / "empty.keras"
    files["empty"].write_bytes(b"")
    files["damaged"] = _damage_member(good, "model.weights.h5", root / "damaged.keras")
    files["other_zip"] = root / "other_zip.keras"
    with zipfile.ZipFile(files["other_zip"], "w") as archive:
        archive.writestr("notes.txt", "a zip, but not of a model")
    files["folder"] = root / "folder.keras"
    files["folder"].mkdir()
    inputs = keras.Input((32, 48, 3))
    files["not_square"] = root / "not_square.keras"
    keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(inputs)).save(files["not_square"])
    return files


# What each broken file's message says after naming it.
PROBLEMS = {
    "truncated": "truncated or damaged zip archive",
    "text": "not a zip archive",
    "empty": "empty file (0 bytes)",
    "damaged": "damaged: model.weights.h5 inside fails its CRC check",
    "other_zip": "not a Keras 3 .keras model (written by model.save): the archive lacks metadata.json",
    "folder": "a folder, not a",
    "not_square": "the model takes 32x48 inputs; a skin model takes square ones",
}


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photo") / "arm.png"
    Image.fromarray(np.full((20, 30, 3), 120, np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("clinic")
    (root / "images").mkdir()
    (root / "masks").mkdir()
    for stem in ("a", "b", "c"):
        Image.fromarray(np.full((16, 20, 3), 120, np.uint8)).save(root / "images" / f"{stem}.png")
        Image.fromarray(np.full((16, 20), 255, np.uint8)).save(root / "masks" / f"{stem}.png")
    return root


def _one_error_line(capsys, command):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(f"skinseg {command}: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("kind", sorted(set(PROBLEMS) - {"not_square", "folder"}))
def test_check_reports_each_broken_file_by_name(model_files, kind):
    with pytest.raises(ValueError) as raised:
        check_model_file(model_files[kind])
    assert str(raised.value).startswith(f"{model_files[kind]}: {PROBLEMS[kind]}")
    assert "\n" not in str(raised.value)


def test_an_intact_file_passes_and_a_missing_one_is_not_found(model_files, tmp_path):
    assert check_model_file(model_files["good"]) == model_files["good"]
    assert load_keras_model(model_files["good"]).input_shape == (None, 32, 32, 3)
    with pytest.raises(FileNotFoundError, match="absent.keras: no such model file"):
        check_model_file(tmp_path / "absent.keras")


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_predict_names_the_file_and_its_problem(model_files, photo, tmp_path, capsys, kind):
    code = main(["predict", str(photo), "--out", str(tmp_path / "masks"), "--weights", str(model_files[kind])])
    line = _one_error_line(capsys, "predict")
    assert code == 2
    assert f"{model_files[kind]}: {PROBLEMS[kind]}" in line
    assert "not found" not in line.lower()
    assert not (tmp_path / "masks").exists() or not any((tmp_path / "masks").iterdir())


@pytest.mark.parametrize("kind", ["damaged", "not_square"])
def test_export_names_the_file_and_writes_nothing(model_files, tmp_path, capsys, kind):
    out = tmp_path / "served"
    assert main(["export", "--weights", str(model_files[kind]), "--out", str(out)]) == 2
    assert f"{model_files[kind]}: {PROBLEMS[kind]}" in _one_error_line(capsys, "export")
    assert list(tmp_path.iterdir()) == []


def test_evaluate_finetune_and_train_init_check_the_file(model_files, dataset, tmp_path, capsys):
    damaged = str(model_files["damaged"])
    expected = f"{damaged}: {PROBLEMS['damaged']}"
    commands = {
        "evaluate": ["evaluate", "--data", str(dataset), "--weights", damaged],
        "finetune": ["finetune", "--data", str(dataset), "--out", str(tmp_path / "ft"), "--weights", damaged],
        "train": ["train", "--data", str(dataset), "--out", str(tmp_path / "run"), "--init", damaged,
                  "--profile", "tiny"],
    }
    for command, argv in commands.items():
        assert main(argv) == 2, command
        assert expected in _one_error_line(capsys, command), command


def test_a_damaged_histogram_is_named(tmp_path, photo, capsys):
    from skin_segmentation.baselines import HistogramClassifier

    counts = np.ones((8, 8, 8))
    path = HistogramClassifier(counts, counts, 1.0).save(tmp_path / "histogram.npz")
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) - 40])
    code = main(["predict", str(photo), "--out", str(tmp_path / "masks"), "--model", "histogram",
                 "--weights", str(tmp_path / "cut.npz")])
    assert code == 2
    assert f"{tmp_path / 'cut.npz'}: truncated or damaged zip archive" in _one_error_line(capsys, "predict")


def test_a_network_given_as_a_histogram_says_what_was_expected(model_files, tmp_path):
    network = tmp_path / "network.npz"
    shutil.copy(model_files["good"], network)
    with pytest.raises(ValueError, match="network.npz: not a histogram model .* lacks skin_counts.npy"):
        check_model_file(network, "histogram")


def test_resuming_from_a_damaged_checkpoint_names_it(model_files, tmp_path):
    from skin_segmentation.training import train

    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    (run / "checkpoint" / "epoch-0001.keras").write_bytes(model_files["truncated"].read_bytes())
    (run / "checkpoint" / "state.json").write_text(json.dumps({
        "epochs_done": 1, "finished": False, "last_checkpoint": "epoch-0001.keras",
        "best_checkpoint": "epoch-0001.keras", "seed": 0, "profile": "tiny", "preset": "unet",
    }))
    from skin_segmentation.data.readers import read_folder
    from skin_segmentation.data.sample import sample_datasets

    pairs = read_folder(sample_datasets()[1])[:8]
    with pytest.raises(ValueError, match="epoch-0001.keras: truncated or damaged zip archive"):
        train("unet", pairs[:6], pairs[6:], run, "tiny", resume=True)


def test_a_damaged_file_is_one_line_from_the_console(model_files, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skin_segmentation.cli", "export", "--weights",
         str(model_files["damaged"]), "--out", str(tmp_path / "served")],
        capture_output=True, text=True, check=False, cwd=REPO_ROOT,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"skinseg export: error: {model_files['damaged']}: {PROBLEMS['damaged']}; copy or save the file again."
    )
