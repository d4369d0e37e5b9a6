"""Output paths that cannot be written are refused before any work: one line naming them, exit 2.

`predict`, `evaluate`, `export`, `train`, `finetune` and `replicate` check their
`--out` first (`outputs.check_output_file` / `check_output_folder`): an existing
path of the wrong kind, a folder above it that is a file, or a folder that
cannot be written. The evaluation itself must not have started: the tests
replace the model loading and the scoring with functions that fail loudly.
"""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skin_segmentation import evaluation, inference
from skin_segmentation.cli import main
from skin_segmentation.outputs import check_output_file, check_output_folder
from skin_segmentation.records import remove_stale_temporaries


@pytest.fixture
def no_work(monkeypatch):
    """Loading a model or scoring a pair fails the test: the check must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(inference, "load_detector", refuse)
    monkeypatch.setattr(evaluation, "evaluate_pairs", refuse)
    monkeypatch.setattr(evaluation, "evaluate_by_tone", refuse)


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "clinic"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for stem in ("a", "b"):
        Image.fromarray(np.full((16, 20, 3), 120, np.uint8)).save(root / "images" / f"{stem}.png")
        Image.fromarray(np.full((16, 20), 255, np.uint8)).save(root / "masks" / f"{stem}.png")
    return root


@pytest.fixture
def read_only(tmp_path):
    """A folder no file can be created in (a chmod 500 folder; as root, /sys, which refuses even root)."""
    candidates = []
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    candidates.append(folder)
    candidates.append(Path("/sys"))
    for candidate in candidates:
        try:
            (candidate / "probe.txt").write_text("")
        except OSError:
            yield candidate
            break
        (candidate / "probe.txt").unlink()
    else:
        pytest.skip("no folder here refuses writing")
    folder.chmod(0o700)


def _error_line(capsys, command):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(f"skinseg {command}: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_predict_refuses_a_file_as_its_folder(tmp_path, no_work, capsys):
    photo = tmp_path / "arm.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
    taken = tmp_path / "afile"
    taken.write_text("keep me")
    assert main(["predict", str(photo), "--out", str(taken)]) == 2
    assert f"{taken}: exists and is not a folder" in _error_line(capsys, "predict")
    assert taken.read_text() == "keep me"


@pytest.mark.parametrize("where", ["a_folder", "under_a_file", "read_only"])
def test_evaluate_refuses_its_csv_before_evaluating(where, dataset, tmp_path, no_work, capsys, request):
    if where == "a_folder":
        out = tmp_path / "adir"
        out.mkdir()
        expected = f"{out}: exists and is a folder"
    elif where == "under_a_file":
        (tmp_path / "afile").write_text("")
        out = tmp_path / "afile" / "scores.csv"
        expected = f"{out}: cannot be written: {tmp_path / 'afile'} is a file, not a folder"
    else:
        folder = request.getfixturevalue("read_only")
        out = folder / "scores.csv"
        expected = f"{out}: cannot be written: {folder} is not writable"
    assert main(["evaluate", "--data", str(dataset), "--out", str(out)]) == 2
    assert expected in _error_line(capsys, "evaluate")


def test_evaluate_checks_the_tone_report_folder_too(dataset, tmp_path, no_work, capsys):
    (tmp_path / "afile").write_text("")
    prefix = tmp_path / "afile" / "tones"
    assert main(["evaluate", "--data", str(dataset), "--by", "tone", "--report", str(prefix)]) == 2
    assert f"{tmp_path / 'afile'} is a file, not a folder" in _error_line(capsys, "evaluate")


def test_export_refuses_a_folder_holding_other_files(tmp_path, capsys):
    mine = tmp_path / "my_folder"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    # A missing --weights would be reported otherwise: the folder is checked first.
    assert main(["export", "--weights", str(tmp_path / "absent.keras"), "--out", str(mine)]) == 2
    assert (f"{mine}: holds files that are not an earlier export (no skinseg_export.json)"
            in _error_line(capsys, "export"))
    assert [path.name for path in mine.iterdir()] == ["notes.txt"]


def test_export_tflite_refuses_a_folder(tmp_path, capsys):
    (tmp_path / "unet.tflite").mkdir()
    code = main(["export", "--format", "tflite", "--weights", str(tmp_path / "absent.keras"),
                 "--out", str(tmp_path / "unet.tflite")])
    assert code == 2
    assert f"{tmp_path / 'unet.tflite'}: exists and is a folder" in _error_line(capsys, "export")


@pytest.mark.parametrize("command", ["train", "finetune", "replicate"])
def test_training_commands_refuse_a_file_as_their_folder(command, dataset, tmp_path, capsys):
    taken = tmp_path / "RUN"
    taken.write_text("keep me")
    argv = {
        "train": ["train", "--data", str(dataset), "--profile", "tiny"],
        "finetune": ["finetune", "--data", str(dataset), "--profile", "tiny"],
        "replicate": ["replicate", "--pretrain", str(dataset), "--target", str(dataset), "--profile", "tiny"],
    }[command]
    assert main([*argv, "--out", str(taken)]) == 2
    assert f"{taken}: exists and is not a folder" in _error_line(capsys, command)
    assert taken.read_text() == "keep me"


def _dead_pid():
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_stale_temporaries_go_and_a_running_process_keeps_its_own(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    (tmp_path / f".tmp-{dead}-scores.csv").write_text("half")
    (tmp_path / f".tmp-{dead}-served").mkdir()
    (tmp_path / f".tmp-{dead}-served" / "saved_model.pb").write_text("half")
    (tmp_path / f".tmp-{alive}-scores.csv").write_text("being written")
    (tmp_path / "run" / "checkpoint").mkdir(parents=True)
    (tmp_path / "run" / "checkpoint" / f".tmp-{dead}-epoch-0003.keras").write_text("half")
    (tmp_path / ".tmp-notes.txt").write_text("not ours: no pid")
    assert check_output_file(tmp_path / "scores.csv") == tmp_path / "scores.csv"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f".tmp-{alive}-scores.csv", ".tmp-notes.txt", "run"
    ]
    assert (tmp_path / "run" / "checkpoint" / f".tmp-{dead}-epoch-0003.keras").exists()
    check_output_folder(tmp_path / "run", recursive=True)
    assert list((tmp_path / "run" / "checkpoint").iterdir()) == []
    assert remove_stale_temporaries(tmp_path / "missing") == []
