"""`kill -9` at any moment: `evaluate` and `export` leave their old output, a complete new one, or none.

Each command runs as a subprocess on a tiny network and eight pairs of the
shipped sample, and is killed (SIGKILL) at seeded random moments: some while
it runs, one as soon as a temporary file of ours appears beside its output.
After every kill the output is absent or complete (the CSV parses with one row
per pair; the SavedModel loads and serves). The next start of the command
removes every temporary the kills left.
"""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skin_segmentation import build_model
from skin_segmentation.export import EXPORT_INFO_NAME
from skin_segmentation.records import TEMPORARY_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "skin_segmentation" / "data" / "sample" / "sfa"
PAIRS = 8
TRIES = 3  # kills per command: TRIES - 1 at random moments, one when a temporary appears


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """`(weights, data)`: a tiny U-Net and eight pairs of the shipped sample."""
    import keras

    root = tmp_path_factory.mktemp("inputs")
    keras.utils.set_random_seed(0)
    weights = root / "tiny.keras"
    build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16)).save(weights)
    data = root / "sfa"
    for folder in ("images", "masks"):
        (data / folder).mkdir(parents=True)
    for image in sorted((SAMPLE / "images").iterdir())[:PAIRS]:
        shutil.copy(image, data / "images" / image.name)
        shutil.copy(SAMPLE / "masks" / f"{image.stem}.png", data / "masks" / f"{image.stem}.png")
    return weights, data


def _command(name, weights, data, out):
    cli = [sys.executable, "-m", "skin_segmentation.cli", name, "--weights", str(weights)]
    if name == "evaluate":
        return [*cli, "--data", str(data), "--out", str(out)]
    return [*cli, "--out", str(out)]


def _temporaries(folder):
    return sorted(path.name for path in folder.rglob(f"{TEMPORARY_PREFIX}*"))


def _run(command, kill_after=None, on_temporary_of=None, delay=0.0):
    """Run `command`; SIGKILL it after `kill_after` s, or `delay` s after a temporary of
    the output `on_temporary_of` appears beside it. Returns `(exit code, stderr, seconds)`."""
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.monotonic()
    while process.poll() is None:
        elapsed = time.monotonic() - started
        if kill_after is not None and elapsed >= kill_after:
            break
        if on_temporary_of is not None and any(
            name.endswith(f"-{on_temporary_of.name}") for name in _temporaries(on_temporary_of.parent)
        ):
            time.sleep(delay)
            break
        time.sleep(0.005)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    return process.returncode, stderr.decode(), time.monotonic() - started


def _assert_complete_or_absent(name, out):
    if not out.exists():
        return "absent"
    if name == "evaluate":
        scores = pd.read_csv(out)
        assert len(scores) == PAIRS and {"stem", "jaccard", "dice"} <= set(scores.columns)
        assert scores["jaccard"].between(0, 1).all()
    else:
        import tensorflow as tf

        assert json.loads((out / EXPORT_INFO_NAME).read_text())["model_image_size"] == [32, 32]
        serving = tf.saved_model.load(str(out)).signatures["serving_default"]
        confidence = serving(images=tf.zeros((1, 20, 30, 3), tf.uint8))["skin_confidence"].numpy()
        assert confidence.shape == (1, 20, 30, 1) and np.isfinite(confidence).all()
    return "complete"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["evaluate", "export"])
def test_a_kill_at_any_moment_leaves_a_complete_output_or_none(name, inputs, tmp_path):
    weights, data = inputs
    folder = tmp_path / "results"
    folder.mkdir()
    out = folder / ("scores.csv" if name == "evaluate" else "served")
    command = _command(name, weights, data, out)
    code, stderr, seconds = _run(command)  # also how long a whole run takes here
    assert code == 0, stderr[-2000:]
    _assert_complete_or_absent(name, out)

    rng = np.random.default_rng(15)
    outcomes = []
    for attempt in range(TRIES):
        if rng.random() < 0.5:  # half the tries start with no earlier output
            shutil.rmtree(out) if out.is_dir() else out.unlink(missing_ok=True)
        if attempt == TRIES - 1:
            code, stderr, _ = _run(command, on_temporary_of=out, delay=float(rng.uniform(0, 0.3)))
        else:
            code, stderr, _ = _run(command, kill_after=float(rng.uniform(0.3, 1.1) * seconds))
        assert "Traceback" not in stderr
        outcomes.append((code, _assert_complete_or_absent(name, out), _temporaries(folder)))

    code, stderr, _ = _run(command)  # the next start cleans up, then writes
    assert code == 0, stderr[-2000:]
    assert _assert_complete_or_absent(name, out) == "complete"
    assert _temporaries(folder) == [], outcomes
    assert any(code == -signal.SIGKILL for code, _, _ in outcomes), outcomes
