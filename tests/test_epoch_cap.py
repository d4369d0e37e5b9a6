"""A higher epoch cap continues a run: `train`, `skinseg train --resume` and `replicate`.

A run that stopped at its cap, given a higher one, must go on exactly as the
same run interrupted at that epoch and resumed would; a run that early stopping
ended stays as it is; a cap below the epochs already done is refused.
"""

import json

import keras
import numpy as np
import pandas as pd
import pytest
from helpers import WeightSnapshots, synthetic

from skin_segmentation.cli import main
from skin_segmentation.data import sample_datasets
from skin_segmentation.profiles import get_profile
from skin_segmentation.records import read_record, record_path
from skin_segmentation.replicate import replicate
from skin_segmentation.training import read_state, train, weights_fingerprint

TINY = get_profile("tiny")


class Interrupted(Exception):
    """Raised by `InterruptAfter` once its epoch is checkpointed."""


class InterruptAfter(keras.callbacks.Callback):
    """Stop the process's training after `epochs` epochs, as a kill would (checkpoint written)."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise Interrupted


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A tiny U-Net that has learned the rule a little: a start whose validation loss
    only rises when it is trained on the inverse rule."""
    out = tmp_path_factory.mktemp("teacher")
    train("unet", synthetic(count=32), synthetic(seed=1), out, TINY.replace(epochs=6, patience=9),
          learning_rate=0.05, verbose=0)
    return out / "model.keras"


@pytest.mark.parametrize("last_is_best", [True, False], ids=["last-epoch-best", "last-epoch-not-best"])
def test_a_higher_cap_continues_a_capped_run_as_an_interrupted_run_resumes(tmp_path, teacher,
                                                                           last_is_best):
    # Learning the inverse of what the teacher knows makes every epoch's validation loss
    # worse than the one before: the last epoch is not the best, and its checkpoint must
    # outlive the end of the run for the run to go on from it.
    data = dict(train_pairs=synthetic(count=32, invert=not last_is_best),
                validation_pairs=synthetic(seed=1), learning_rate=0.05,
                init_weights=None if last_is_best else teacher)
    short, long = TINY.replace(epochs=2, patience=5), TINY.replace(epochs=4, patience=5)

    capped = train("unet", out_dir=tmp_path / "capped", profile=short, verbose=0, **data)
    state = read_state(tmp_path / "capped")
    assert state["finished"] and not state["stopped_early"] and len(capped.history) == 2
    if not last_is_best:
        assert state["best_epoch"] == 1
        assert (tmp_path / "capped" / "checkpoint" / "epoch-0002.keras").is_file()
    snapshots = WeightSnapshots()
    continued = train("unet", out_dir=tmp_path / "capped", profile=long, resume=True,
                      callbacks=[snapshots], verbose=0, **data)

    with pytest.raises(Interrupted):
        train("unet", out_dir=tmp_path / "interrupted", profile=long,
              callbacks=[InterruptAfter(2)], verbose=0, **data)
    resumed = train("unet", out_dir=tmp_path / "interrupted", profile=long, resume=True,
                    verbose=0, **data)

    assert continued.history["epoch"].tolist() == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(continued.history.iloc[:2], capped.history)
    assert snapshots.iterations_at_start == 2 * 8  # momentum and step count carried over
    columns = ["loss", "val_loss"]
    np.testing.assert_allclose(continued.history[columns], resumed.history[columns], rtol=1e-6)
    assert continued.best_epoch == resumed.best_epoch
    for ours, theirs in zip(continued.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    state = read_state(tmp_path / "capped")
    assert state["finished"] and state["epochs"] == 4 and state["optimizer_iterations"] == 32
    assert state["identity"]["profile"]["epochs"] == 4
    # Capped again: the last epoch's checkpoint stays when it is not the best (model.keras).
    kept = [path.name for path in (tmp_path / "capped" / "checkpoint").glob("epoch-*.keras")]
    assert kept == ([] if state["best_epoch"] == 4 else ["epoch-0004.keras"])


def test_an_early_stopped_run_stays_as_it_is_and_a_lower_cap_than_done_is_refused(tmp_path):
    data = dict(train_pairs=synthetic(count=32), validation_pairs=synthetic(invert=True, seed=1))
    profile = TINY.replace(epochs=30, patience=2)
    stopped = train("unet", out_dir=tmp_path, profile=profile, learning_rate=0.05, verbose=0,
                    **data)
    assert stopped.stopped_early
    done = len(stopped.history)

    again = train("unet", out_dir=tmp_path, profile=profile.replace(epochs=40), resume=True,
                  verbose=0, **data)
    assert weights_fingerprint(again.model) == weights_fingerprint(stopped.model)
    assert len(again.history) == done and again.stopped_early
    assert read_state(tmp_path)["epochs"] == 40

    before = (tmp_path / "checkpoint" / "state.json").read_text()
    with pytest.raises(ValueError, match=rf"cap of {done - 1} epochs: the run there has done {done}"):
        train("unet", out_dir=tmp_path, profile=profile.replace(epochs=done - 1), resume=True,
              verbose=0, **data)
    assert (tmp_path / "checkpoint" / "state.json").read_text() == before


def test_skinseg_train_resume_with_a_higher_cap_says_so_and_trains_on(tmp_path, capsys):
    pool, _ = sample_datasets()
    args = ["train", "--model", "unet", "--data", str(pool[0]), "--out", str(tmp_path / "run")]
    profile = {"base": "tiny", "name": "tiny_patient", "patience": 5}  # no early stop in 3 epochs
    (tmp_path / "two.json").write_text(json.dumps(profile))
    (tmp_path / "three.json").write_text(json.dumps({**profile, "epochs": 3}))
    assert main([*args, "--profile", str(tmp_path / "two.json")]) == 0
    capsys.readouterr()
    assert main([*args, "--profile", str(tmp_path / "three.json"), "--resume"]) == 0
    output = capsys.readouterr().out
    assert "epoch cap 2 -> 3 (it had stopped at its cap; training continues)" in output
    assert f"Resuming {tmp_path / 'run'} after epoch 2" in output
    assert json.loads(output.strip().splitlines()[-1])["epochs"] == 3


def test_replicate_continues_every_cell_to_a_raised_cap(tmp_path, capsys):
    pool, target = sample_datasets()
    short = TINY.replace(epochs=2, patience=5)
    replicate(pool, target, tmp_path, profile=short, models=["unet"], verbose=0)
    first = {scenario: read_record(record_path(tmp_path, "unet", scenario), arrays=False)
             for scenario in ("direct_transfer", "direct_training", "fine_tuning")}
    capsys.readouterr()

    replicate(pool, target, tmp_path, profile=short.replace(epochs=3), models=["unet"], verbose=0)
    output = capsys.readouterr().out
    assert output.count("recorded with a cap of 2 epochs, this profile's is 3") == 3
    assert "started from other pre-trained weights than today's; training it again" in output
    records = {scenario: read_record(record_path(tmp_path, "unet", scenario), arrays=False)
               for scenario in first}
    for scenario, record in records.items():
        assert record["config"]["profile"]["epochs"] == 3
    # Pre-training and direct training went on from their second epoch ...
    for scenario in ("direct_transfer", "direct_training"):
        history = records[scenario]["history"]
        assert history["epoch"].tolist() == [1, 2, 3]
        pd.testing.assert_frame_equal(history.iloc[:2], first[scenario]["history"],
                                      check_dtype=False)
    # ... and fine-tuning started again, from the continued pre-training's weights.
    tuned, pretrained_sha = records["fine_tuning"], records["direct_transfer"]["evaluated_weights_sha256"]
    assert tuned["initial_weights_sha256"] == pretrained_sha
    assert tuned["initial_weights_sha256"] != first["fine_tuning"]["initial_weights_sha256"]
    assert tuned["history"]["epoch"].tolist() == [1, 2, 3]

    with pytest.raises(ValueError, match=r"recorded with profile.patience 5, this run asks for 6"):
        replicate(pool, target, tmp_path, profile=short.replace(epochs=3, patience=6),
                  models=["unet"], verbose=0)
