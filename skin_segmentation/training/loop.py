"""The training loop: the paper's protocol on one network, interruptible and resumable.

SGD with momentum 0.9 minimizes the Jaccard distance (Yuan et al. 2017) at
learning rate 0.01 from random initialization or 0.001 for fine-tuning, at batch
16, for up to 500 epochs, stopping after 50 epochs without a lower validation
loss and keeping the best weights. Every number comes from a `Profile`
(`skin_segmentation.profiles`); the run folder is described in `training.state`.
"""

import contextlib
import sys

import keras
import pandas as pd

from skin_segmentation.atomic_files import write_json_atomic
from skin_segmentation.distribute import fit as distributed_fit
from skin_segmentation.distribute import worker_dir
from skin_segmentation.model_files import load_keras_model
from skin_segmentation.models import PRESETS, standardization_of
from skin_segmentation.outputs import check_output_folder
from skin_segmentation.profiles import get_profile
from skin_segmentation.system import dtype_policy_scope
from skin_segmentation.training.callbacks import AtomicCheckpoint, EpochLog, ResumableEarlyStopping
from skin_segmentation.training.compile import (
    build_for_profile,
    compile_model,
    load_initial_weights,
    weights_fingerprint,
)
from skin_segmentation.training.identity import check_run_folder, run_identity
from skin_segmentation.training.state import (
    CHECKPOINT_DIR,
    STATE_NAME,
    change_epoch_cap,
    finish_run,
    new_state,
    read_history,
    result_from_finished_run,
    train_result,
)


def _is_dataset(value):
    return hasattr(value, "element_spec") and hasattr(value, "batch")


def _count(pairs):
    if _is_dataset(pairs):
        return None
    return len(pairs)


def _check_not_empty(train_pairs, validation_pairs):
    for pairs, split in ((train_pairs, "training"), (validation_pairs, "validation")):
        if not _is_dataset(pairs) and not len(pairs):
            raise ValueError(
                f"No {split} images: the split is empty. Received: {len(pairs)} pairs"
            )


def _make_dataset(pairs, profile, training, seed, standardization):
    if _is_dataset(pairs):
        return pairs
    from skin_segmentation.data.pipeline import make_dataset

    # An epoch's size and sources apply to every training set; the rest only with augmentation.
    options = {}
    if training:
        options = profile.dataset_options() if profile.augment else profile.sampling_options()
    return make_dataset(
        pairs,
        image_size=profile.image_size,
        batch_size=profile.batch_size,
        augment=profile.augment if training else None,
        shuffle=training,
        seed=seed,
        standardization=standardization,
        **options,
    )


def _verbosity(verbose):
    """`(fit verbosity, epoch lines)`: `"auto"` is progress bars on a terminal,
    else one plain `EpochLog` line per epoch (Keras's `verbose=2` writes two)."""
    if verbose != "auto":
        return verbose, False
    return (1, False) if sys.stdout.isatty() else (0, True)


def _preset_name(model_or_preset):
    """The preset `model_or_preset` names, or `None` for a ready `keras.Model`."""
    preset = model_or_preset if isinstance(model_or_preset, str) else None
    if preset is not None and preset not in PRESETS:
        raise ValueError(
            f"Unknown model preset {preset!r}. Choose one of: {', '.join(PRESETS)}."
        )
    return preset


def _load_or_build(model_or_preset, preset, state, checkpoint_dir, profile, learning_rate,
                   init_weights, strategy):
    """The model to train, in `strategy`'s scope: the last checkpoint's, or a new compiled one.

    Returns:
        `(model, best_weights, initial_fingerprint)`: a resumed run's best weights
        (`None` for a new model), and a new model's weights fingerprint (`None`
        for a resumed one, whose `state.json` has it).
    """
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        if state is not None:
            model = load_keras_model(checkpoint_dir / state["last_checkpoint"], compile=True)
            best_weights = load_keras_model(checkpoint_dir / state["best_checkpoint"]).get_weights()
            return model, best_weights, None
        model = build_for_profile(preset, profile) if preset else model_or_preset
        if init_weights is not None:
            load_initial_weights(model, init_weights)
        initial_fingerprint = weights_fingerprint(model)
        # The learning-rate warm-up, like early stopping's, is for random initialization.
        compile_model(model, learning_rate, profile.lr_warmup_steps if init_weights is None else 0)
    return model, None, initial_fingerprint


def _state_to_resume(out_dir, identity, resume, overwrite, epochs):
    """`check_run_folder`, then the profile's epoch cap given to the run resumed (if any)."""
    state = check_run_folder(out_dir, identity, resume=resume, overwrite=overwrite)
    if state is None:
        return None
    capped = change_epoch_cap(out_dir, state, epochs)
    if capped is not state:
        reopened = " (it had stopped at its cap; training continues)" if (
            state.get("finished") and not capped["finished"]) else ""
        print(f"{out_dir}: epoch cap {state['epochs']} -> {epochs}{reopened}.", flush=True)
    return capped


def _callbacks(out_dir, state, epochs_done, best_weights, patience, warmup_epochs, verbose):
    """Early stopping (restored when resuming) and the atomic checkpoint that reads it."""
    early_stopping = ResumableEarlyStopping(
        monitor="val_loss",
        patience=patience,
        start_from_epoch=warmup_epochs,
        restore_best_weights=True,
        verbose=1 if verbose else 0,
    )
    if epochs_done:
        early_stopping.resume_from(
            best=state["best_val_loss"],
            best_epoch=state["best_epoch"] - 1,
            wait=state["wait"],
            best_weights=best_weights,
        )
        print(
            f"Resuming {out_dir} after epoch {epochs_done} (best epoch "
            f"{state['best_epoch']}, val_loss {state['best_val_loss']:.4f}).",
            flush=True,
        )
    checkpoint = AtomicCheckpoint(
        out_dir, early_stopping, read_history(out_dir, epochs_done), state
    )
    return early_stopping, checkpoint


def train(
    model_or_preset,
    train_pairs,
    validation_pairs,
    out_dir,
    profile,
    learning_rate=None,
    init_weights=None,
    resume=False,
    overwrite=False,
    strategy=None,
    seed=None,
    callbacks=(),
    verbose="auto",
):
    """Train a network with the paper's protocol; checkpoint every epoch.

    Args:
        model_or_preset: a preset name (built at the profile's image size with
            its `model_overrides`) or an uncompiled `keras.Model`.
        train_pairs: `SkinPair`s to train on (made into batches by
            `skin_segmentation.data.pipeline.make_dataset` with the profile's
            size, batch, augmentation and seed), or a ready `tf.data.Dataset` of
            `(images, masks)` batches.
        validation_pairs: pairs or dataset for the validation loss that early
            stopping watches (no augmentation, no shuffling).
        out_dir: the run folder (created).
        profile: a `Profile` or its name (`"paper"`, `"quick"`, `"tiny"`).
        learning_rate: SGD learning rate; default: the profile's
            `fine_tune_learning_rate` with `init_weights`, else its `learning_rate`.
        init_weights: a `.keras` file whose weights the new model starts from
            (fine-tuning); shapes must match layer by layer.
        resume: continue the run in `out_dir` from its last finished epoch
            (a finished run is loaded and returned as is; with no run there yet,
            training starts fresh). The run there must have this call's profile,
            network, input size, seed and data (`training.identity`), except
            the profile's `epochs`: a higher cap continues the run, also one
            that stopped at its old cap (`state.change_epoch_cap`). Without
            `resume` or `overwrite`, a folder already holding a run is an error.
        overwrite: delete the run already in `out_dir` and start afresh.
        strategy: a `tf.distribute.Strategy` to build and compile the model in.
        seed: seed of the initialization, augmentation and data order; default
            the profile's. A resumed run reseeds with `seed + epochs done`.
        callbacks: further Keras callbacks (after early stopping and checkpoints).
        verbose: Keras `fit` verbosity; `"auto"` shows progress bars on a
            terminal and otherwise one plain line per epoch (`EpochLog`: no
            ANSI codes, no carriage returns), as a log file wants.

    Returns:
        A `TrainResult`. `out_dir/model.keras` holds the best model.

    Example:
    >>> import numpy as np, tensorflow as tf, tempfile
    >>> x = np.random.default_rng(0).normal(size=(8, 32, 32, 3)).astype("float32")
    >>> y = (x[..., :1] > 0).astype("float32")
    >>> data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    >>> result = train("unet", data, data, tempfile.mkdtemp(), "tiny", verbose=0)
    >>> len(result.history), result.parameters > 0
    (2, True)
    """
    profile = get_profile(profile).with_device_precision()
    seed = profile.seed if seed is None else int(seed)
    # distribute: under multi_worker only the chief writes `out_dir`; every other
    # worker writes the same files into its own `out_dir/.worker-worker-<i>`.
    out_dir = check_output_folder(worker_dir(out_dir, strategy), recursive=True)  # and its checkpoint/
    preset = _preset_name(model_or_preset)
    _check_not_empty(train_pairs, validation_pairs)
    identity = run_identity(model_or_preset, profile, seed, train_pairs, validation_pairs)
    state = _state_to_resume(out_dir, identity, resume, overwrite, profile.epochs)
    if state is not None and state.get("finished"):
        return result_from_finished_run(out_dir, state, strategy)
    if learning_rate is None:
        learning_rate = (
            profile.fine_tune_learning_rate if init_weights is not None else profile.learning_rate
        )
    verbose, epoch_lines = _verbosity(verbose)
    epochs_done = 0 if state is None else int(state["epochs_done"])

    with dtype_policy_scope(profile.precision):
        keras.utils.set_random_seed(seed + epochs_done)
        model, best_weights, initial_fingerprint = _load_or_build(
            model_or_preset, preset, state if epochs_done else None, out_dir / CHECKPOINT_DIR,
            profile, learning_rate, init_weights, strategy,
        )
        if not epochs_done:
            state = new_state(
                identity, seed, profile, preset or model.name, learning_rate, init_weights,
                initial_fingerprint, _count(train_pairs), _count(validation_pairs),
            )
            # From now on the folder says what it holds, even if killed in epoch 1.
            write_json_atomic(out_dir / CHECKPOINT_DIR / STATE_NAME, state)
        # The warm-up is for networks that start from random weights, not fine-tuning.
        warmup_epochs = profile.warmup_epochs if init_weights is None else 0
        early_stopping, checkpoint = _callbacks(
            out_dir, state, epochs_done, best_weights, profile.patience, warmup_epochs,
            verbose or epoch_lines,
        )
        log = [EpochLog(profile.epochs)] if epoch_lines else []
        out_dir.mkdir(parents=True, exist_ok=True)
        if not state.get("stop_training") and epochs_done < profile.epochs:
            # distribute: Model.fit, or its epoch loop under multi_worker (Keras 3's
            # fit fails there, keras-team/keras#20585).
            standardization = standardization_of(model)
            distributed_fit(
                model,
                _make_dataset(train_pairs, profile, True, seed + epochs_done, standardization),
                validation_data=_make_dataset(validation_pairs, profile, False, seed, standardization),
                epochs=profile.epochs,
                initial_epoch=epochs_done,
                callbacks=[early_stopping, checkpoint, *log, *callbacks],
                verbose=verbose,
                strategy=strategy,
            )
        elif epochs_done:
            model.set_weights(best_weights)
        history = pd.DataFrame(checkpoint.rows)
        state = finish_run(model, checkpoint.state, out_dir, profile.epochs)

    return train_result(model, history, state, epochs_done, out_dir)
