"""Training: the paper's optimizer and loss, early stopping with best weights,
atomic checkpoints, resuming after `kill -9`, initial weights, precision."""

import json
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest
from helpers import WeightSnapshots, synthetic

from skin_segmentation.models import PRESETS, build_model
from skin_segmentation.profiles import get_profile
from skin_segmentation.training import (
    compile_model,
    load_initial_weights,
    read_state,
    train,
    weights_fingerprint,
)

TINY = get_profile("tiny")


def same_weights(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_compile_model_is_sgd_with_momentum_on_jaccard_distance():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    compile_model(model, 0.001)
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.momentum) == pytest.approx(0.9)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001)
    assert type(model.loss).__name__ == "JaccardDistance"
    with pytest.raises(ValueError, match="learning_rate=0"):
        compile_model(model, 0)


def test_train_writes_best_model_history_and_state(tmp_path):
    profile = TINY.replace(epochs=3, patience=3)
    result = train("unet", synthetic(), synthetic(seed=1), tmp_path, profile, verbose=0)

    history = pd.read_csv(tmp_path / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    for column in ("loss", "val_loss", "jaccard", "dice", "val_jaccard", "val_dice", "seconds"):
        assert history[column].notna().all(), column
    assert (history["learning_rate"] == 0.01).all()
    # The loss is the Jaccard distance of the training images and it goes down.
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    assert result.best_epoch == int(history.loc[history["val_loss"].idxmin(), "epoch"])
    assert result.best_val_loss == pytest.approx(history["val_loss"].min())
    assert result.seconds_per_epoch == pytest.approx(history["seconds"].median())
    assert result.parameters == result.model.count_params() > 0

    state = read_state(tmp_path)
    assert state["seed"] == 0 and state["finished"] and state["epochs_done"] == 3
    assert state["learning_rate"] == 0.01
    assert not list((tmp_path / "checkpoint").glob("*.keras"))  # cleaned up at the end
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert weights_fingerprint(reloaded) == weights_fingerprint(result.model)
    # Temporary files never stay behind.
    assert not list(tmp_path.rglob(".tmp-*"))


def test_same_seed_same_run_other_seed_other_run(tmp_path):
    profile = TINY.replace(epochs=2)
    first = train("unet", synthetic(), synthetic(seed=1), tmp_path / "a", profile, verbose=0)
    second = train("unet", synthetic(), synthetic(seed=1), tmp_path / "b", profile, verbose=0)
    other = train("unet", synthetic(), synthetic(seed=1), tmp_path / "c", profile, seed=7, verbose=0)
    columns = ["loss", "val_loss"]
    pd.testing.assert_frame_equal(first.history[columns], second.history[columns])
    assert first.initial_weights_sha256 == second.initial_weights_sha256
    assert other.initial_weights_sha256 != first.initial_weights_sha256
    assert read_state(tmp_path / "c")["seed"] == 7


def test_early_stopping_restores_best_weights_when_validation_loss_stalls(tmp_path):
    # Validation masks are the inverse of the rule being learned, on other images:
    # the better the network learns, the worse its validation loss gets, so the
    # validation loss stalls after an early best epoch and training must stop.
    profile = TINY.replace(epochs=30, patience=3)
    snapshots = WeightSnapshots()
    result = train(
        "unet",
        synthetic(count=32),
        synthetic(count=16, invert=True, seed=1),
        tmp_path,
        profile,
        learning_rate=0.05,
        callbacks=[snapshots],
        verbose=0,
    )
    history = result.history
    epochs_run = len(history)
    assert result.stopped_early and epochs_run < profile.epochs
    best = int(history.loc[history["val_loss"].idxmin(), "epoch"])
    assert result.best_epoch == best
    # Stopped exactly `patience` epochs after the best one.
    assert epochs_run == best + profile.patience
    assert (history["val_loss"].iloc[best:] >= history["val_loss"].iloc[best - 1]).all()
    # The returned model and model.keras hold the best epoch's weights, not the last.
    assert same_weights(result.model.get_weights(), snapshots.after_epoch[best])
    assert not same_weights(result.model.get_weights(), snapshots.after_epoch[epochs_run])
    saved = keras.models.load_model(tmp_path / "model.keras")
    assert same_weights(saved.get_weights(), snapshots.after_epoch[best])
    state = read_state(tmp_path)
    assert state["stopped_early"] and state["best_epoch"] == best
    assert state["wait"] == profile.patience


def test_warmup_epochs_keep_early_stopping_away_until_then_but_not_when_fine_tuning(tmp_path):
    # The same stalling validation loss as above: without a warm-up the run stops a few
    # epochs in; with one, early stopping only starts watching after `warmup_epochs`.
    profile = TINY.replace(epochs=30, patience=3, warmup_epochs=6)
    data = dict(train_pairs=synthetic(count=32), validation_pairs=synthetic(16, True, seed=1))
    warm = train("unet", out_dir=tmp_path / "warm", profile=profile, learning_rate=0.05,
                 verbose=0, **data)
    assert warm.stopped_early
    assert warm.best_epoch > profile.warmup_epochs
    assert len(warm.history) == warm.best_epoch + profile.patience
    assert read_state(tmp_path / "warm")["best_epoch"] == warm.best_epoch

    # Fine-tuning starts from trained weights: no warm-up, it stops `patience` after its best.
    tuned = train("unet", out_dir=tmp_path / "tuned", profile=profile, learning_rate=0.05,
                  init_weights=str(tmp_path / "warm" / "model.keras"), verbose=0, **data)
    assert tuned.stopped_early
    assert len(tuned.history) == tuned.best_epoch + profile.patience
    assert len(tuned.history) < profile.warmup_epochs + 1 + profile.patience


def test_a_learning_rate_warm_up_rises_over_its_steps_resumes_and_leaves_fine_tuning_alone(tmp_path):
    # 16 images, batch 4: 4 SGD steps an epoch; the rate reaches TINY's 0.01 after 8.
    profile = TINY.replace(epochs=2, patience=5, lr_warmup_steps=8)
    data = dict(train_pairs=synthetic(count=16), validation_pairs=synthetic(8, seed=1))
    warm = train("unet", out_dir=tmp_path / "warm", profile=profile, verbose=0, **data)
    assert warm.history["learning_rate"].tolist() == pytest.approx([0.005, 0.01])
    # Continued to a higher cap from its checkpoint, the schedule goes on from step 8.
    longer = train("unet", out_dir=tmp_path / "warm", profile=profile.replace(epochs=3), resume=True,
                   verbose=0, **data)
    assert longer.history["learning_rate"].tolist() == pytest.approx([0.005, 0.01, 0.01])
    assert read_state(tmp_path / "warm")["optimizer_iterations"] == 12
    # Fine-tuning starts at its own rate.
    tuned = train("unet", out_dir=tmp_path / "tuned", profile=profile, verbose=0,
                  init_weights=tmp_path / "warm" / "model.keras", **data)
    assert tuned.history["learning_rate"].tolist() == [TINY.fine_tune_learning_rate] * 2


def test_warmup_epochs_must_be_a_non_negative_integer():
    with pytest.raises(ValueError, match=r"warmup_epochs.*Received: warmup_epochs=-1"):
        TINY.replace(warmup_epochs=-1)
    with pytest.raises(ValueError, match=r"Received: warmup_epochs=2.5"):
        TINY.replace(warmup_epochs=2.5)
    assert TINY.replace(warmup_epochs=0).warmup_epochs == 0


@pytest.mark.parametrize("field, value, requirement", [
    ("epochs", 0, "must be a positive integer"),
    ("epochs", True, "must be a positive integer"),
    ("batch_size", 2.0, "must be a positive integer"),
    ("epoch_images", 0, "must be a positive integer or None"),
    ("lr_warmup_steps", -1, "must be a non-negative integer"),
    ("image_size", 40, "must be a multiple of 16"),
    ("validation_fraction", 1.0, r"must be in \(0, 1\)"),
    ("fine_tune_learning_rate", 0.0, "must be positive"),
    ("lesions", 1.5, r"is a share of images in \[0, 1\]"),
    ("closeup_min_side", 0.0, r"must lie in \(0, 1\]"),
    ("pretrain_shares", (1000, 0, 899), "must be positive numbers"),
    ("augment", "cutmix", "must be one of"),
])
def test_a_profile_that_could_not_run_is_refused_naming_its_field_and_value(field, value,
                                                                            requirement):
    with pytest.raises(ValueError, match=rf"Profile 'tiny': `{field}` {requirement}.*"
                                         rf"Received: {field}="):
        TINY.replace(**{field: value})


def test_a_profile_read_from_json_keeps_its_shares_as_a_tuple():
    assert TINY.replace(pretrain_shares=[3, 1]).pretrain_shares == (3, 1)


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np, keras, tensorflow as tf
    from skin_segmentation.profiles import get_profile
    from skin_segmentation.training import train

    out_dir, kill_in_epoch = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(0)
    images = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    masks = (images[..., :1] > 0).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((images, masks)).batch(4)

    class KillMidEpoch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self._epoch + 1 == kill_in_epoch and batch == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

    profile = get_profile("tiny").replace(epochs=5, patience=5)
    train("unet", data, data, out_dir, profile, callbacks=[KillMidEpoch()], verbose=0)
    """
)


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_continues_at_the_next_epoch(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(tmp_path), "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == -signal.SIGKILL, completed.stderr[-2000:]
    state = read_state(tmp_path)
    assert state["epochs_done"] == 2 and not state["finished"]
    assert state["optimizer_iterations"] == 2 * 4  # 16 images, batch 4
    assert (tmp_path / "checkpoint" / state["last_checkpoint"]).is_file()
    killed_history = pd.read_csv(tmp_path / "history.csv")
    assert killed_history["epoch"].tolist() == [1, 2]

    profile = TINY.replace(epochs=5, patience=5)
    with pytest.raises(ValueError, match="already holds a training run"):
        train("unet", synthetic(), synthetic(), tmp_path, profile, verbose=0)

    snapshots = WeightSnapshots()
    result = train(
        "unet", synthetic(), synthetic(), tmp_path, profile, resume=True,
        callbacks=[snapshots], verbose=0,
    )
    assert result.resumed_at_epoch == 2
    assert result.history["epoch"].tolist() == [1, 2, 3, 4, 5]
    # The two epochs before the kill are kept, not redone.
    pd.testing.assert_frame_equal(result.history.iloc[:2], killed_history)
    # Model and optimizer (momentum included) continue from the checkpoint.
    assert snapshots.iterations_at_start == 8
    assert read_state(tmp_path)["optimizer_iterations"] == 5 * 4
    assert sorted(snapshots.after_epoch) == [3, 4, 5]
    # A finished run resumed again is loaded as it is.
    again = train("unet", synthetic(), synthetic(), tmp_path, profile, resume=True, verbose=0)
    assert weights_fingerprint(again.model) == weights_fingerprint(result.model)
    assert len(again.history) == 5


def test_init_weights_are_loaded_before_training(tmp_path):
    profile = TINY.replace(epochs=1)
    pretrained = train("unet", synthetic(), synthetic(seed=1), tmp_path / "pre", profile, verbose=0)
    saved = keras.models.load_model(tmp_path / "pre" / "model.keras")
    snapshots = WeightSnapshots()
    tuned = train(
        "unet", synthetic(seed=2), synthetic(seed=3), tmp_path / "tuned", profile,
        init_weights=tmp_path / "pre" / "model.keras", callbacks=[snapshots], verbose=0,
    )
    assert same_weights(snapshots.at_start, saved.get_weights())
    assert tuned.initial_weights_sha256 == weights_fingerprint(pretrained.model)
    # Fine-tuning defaults to the profile's fine-tuning learning rate.
    assert read_state(tmp_path / "tuned")["learning_rate"] == TINY.fine_tune_learning_rate
    assert tuned.history["learning_rate"].tolist() == [TINY.fine_tune_learning_rate]


def test_init_weights_of_another_shape_are_refused_by_name(tmp_path):
    build_model("unet", (32, 32, 3), filters=(4, 8, 16)).save(tmp_path / "small.keras")
    other = build_model("unet", (32, 32, 3), filters=(4, 8, 32))
    with pytest.raises(ValueError, match="unet_enc3_conv1"):
        load_initial_weights(other, tmp_path / "small.keras")
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        load_initial_weights(other, tmp_path / "missing.keras")


def test_mixed_precision_is_used_for_the_run_and_restored_after(tmp_path):
    keras.mixed_precision.set_global_policy("float32")
    profile = TINY.replace(epochs=1, precision="mixed_bfloat16")
    result = train("dense_residual_unet", synthetic(), synthetic(), tmp_path, profile, verbose=0)
    assert keras.mixed_precision.global_policy().name == "float32"
    conv = result.model.get_layer("dense_residual_unet_enc1_conv1")
    assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
    assert result.model.output.dtype == "float32"
    assert np.isfinite(result.history["loss"]).all()


def test_auto_precision_is_fixed_when_the_run_starts_and_recorded(tmp_path, monkeypatch):
    """A profile's "auto" trains in, and records, the policy picked for the device."""
    from skin_segmentation import precision

    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: [])
    monkeypatch.setattr(precision, "cpu_has_bfloat16", lambda: True)
    monkeypatch.setattr(precision, "cpu_bfloat16_speedup", lambda: 1.6)
    result = train("unet", synthetic(), synthetic(), tmp_path, TINY.replace(
        epochs=1, precision="auto"), verbose=0)
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["identity"]["profile"]["precision"] == "mixed_bfloat16"
    assert result.model.get_layer("unet_enc1_conv1").compute_dtype == "bfloat16"
    # The commands fix it before they check a run folder's identity, as `train` does.
    from skin_segmentation.cli.arguments import profile_with_precision

    assert profile_with_precision(TINY.replace(precision="auto"), None).precision == "mixed_bfloat16"
    assert profile_with_precision(TINY.replace(precision="auto"), "float32").precision == "float32"
    # Slower in bfloat16 on this CPU: float32.
    monkeypatch.setattr(precision, "cpu_bfloat16_speedup", lambda: 0.6)
    assert TINY.replace(precision="auto").with_device_precision().precision == "float32"
    assert TINY.with_device_precision() is TINY


def test_unknown_preset_and_bad_profile_are_explained(tmp_path):
    with pytest.raises(ValueError, match="'resnet'"):
        train("resnet", synthetic(), synthetic(), tmp_path, TINY, verbose=0)
    with pytest.raises(ValueError, match="Unknown profile 'fast'"):
        train("unet", synthetic(), synthetic(), tmp_path, "fast", verbose=0)


def test_state_json_is_valid_json_after_every_epoch(tmp_path):
    states = []

    class ReadState(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            states.append(json.loads((tmp_path / "checkpoint" / "state.json").read_text()))

    train("unet", synthetic(), synthetic(), tmp_path, TINY.replace(epochs=2), callbacks=[ReadState()],
          verbose=0)
    assert [s["epochs_done"] for s in states] == [1, 2]
    assert all(s["seed"] == 0 for s in states)


# --------------------------------------------------------------------------- profiles


def test_paper_profile_is_the_papers_protocol():
    paper = get_profile("paper")
    assert (paper.epochs, paper.patience, paper.batch_size, paper.image_size) == (500, 50, 16, 128)
    assert (paper.learning_rate, paper.fine_tune_learning_rate) == (0.01, 0.001)
    assert (paper.target_train, paper.target_eval, paper.validation_fraction) == (100, 300, 0.2)
    assert paper.precision == "float32" and paper.augment == "tf"
    assert paper.model_overrides == {}
    # The paper's pool: 2620 images as LFW 1000, LVS 721, HGR 899; its 400 clinical
    # photographs taken in MD5 order.
    assert paper.pretrain_images == 2620 and paper.pretrain_shares == (1000, 721, 899)
    assert paper.target_selection == "md5"
    # Early stopping watches from the first epoch, as the paper says nothing else.
    assert paper.warmup_epochs == 0


def test_profiles_differ_only_in_numbers():
    from skin_segmentation.profiles import PROFILES

    quick, tiny = get_profile("quick"), get_profile("tiny")
    assert quick.learning_rate == tiny.learning_rate == 0.01
    assert quick.fine_tune_learning_rate == 0.001
    assert quick.model_overrides == {}  # the presets' own architectures
    assert set(tiny.model_overrides) == set(PRESETS)
    assert all(p.image_size % 16 == 0 for p in PROFILES.values())
    assert json.loads(json.dumps(tiny.to_config()))["model_overrides"]["unet"]["filters"] == [4, 8, 16]


def test_profile_from_a_json_file_and_bad_values(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"base": "quick", "name": "mine", "epochs": 3,
                                "model_overrides": {"unet": {"filters": [8, 16, 32]}}}))
    mine = get_profile(str(path))
    assert (mine.name, mine.epochs, mine.image_size) == ("mine", 3, 64)
    assert mine.overrides_for("unet") == {"filters": (8, 16, 32)}
    path.write_text(json.dumps({"base": "quick", "epoch": 3}))
    with pytest.raises(ValueError, match=r"unknown profile fields \['epoch'\]"):
        get_profile(str(path))
    with pytest.raises(ValueError, match="image_size=100"):
        TINY.replace(image_size=100)
    with pytest.raises(ValueError, match="precision='float8'"):
        TINY.replace(precision="float8")
    with pytest.raises(ValueError, match="patience=0"):
        TINY.replace(patience=0)
