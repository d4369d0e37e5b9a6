"""Run state: the files of a run folder, what they hold, and the `TrainResult` read back from them.

A run folder:

    RUN/
      model.keras           the best model (weights of the best epoch), at the end
      history.csv           one row per finished epoch (epoch is 1-based)
      splits.json           which images trained, validated, were held out (`skinseg train`)
      checkpoint/
        state.json          what the run is (`identity`: profile, network, input size,
                            seed, data fingerprint; see `training.identity`), epochs
                            done, early-stopping state, file names
        epoch-NNNN.keras    the last epoch's model and optimizer (momentum)
        epoch-MMMM.keras    the best epoch's, when it is another one

`state.json` is first written when training starts, before the first epoch.
After every epoch the last checkpoint, `history.csv` and then `state.json` are
each written to a temporary file and moved into place (`callbacks.AtomicCheckpoint`).
`state.json` is written last and names the checkpoint files it belongs to, so a
run killed at any moment (even `kill -9`) resumes from its last finished epoch,
with its optimizer, early-stopping counter and best weights, and loses at most
the epoch that was running. When the run finishes, the epoch checkpoints are
deleted, except the last one of a run that stopped at its cap (not by early
stopping) when it is not the best: a higher cap continues such a run
(`change_epoch_cap`).
"""

import contextlib
import dataclasses
import json
import shutil
from pathlib import Path

import keras
import pandas as pd

from skin_segmentation.atomic_files import atomic_path, write_json_atomic
from skin_segmentation.model_files import load_keras_model

CHECKPOINT_DIR = "checkpoint"
STATE_NAME = "state.json"
MODEL_NAME = "model.keras"
HISTORY_NAME = "history.csv"
SPLITS_NAME = "splits.json"


@dataclasses.dataclass
class TrainResult:
    """What `train` returns.

    Attributes:
        model: the trained model holding the weights of its best epoch.
        history: one row per epoch: `epoch` (1-based), `loss`, `jaccard`,
            `dice`, `val_loss`, `val_jaccard`, `val_dice`, `learning_rate`, `seconds`.
        best_epoch: the epoch (1-based) with the lowest validation loss.
        best_val_loss: that validation loss.
        seconds_per_epoch: median wall-clock seconds of an epoch (validation
            included), over every epoch of the run, resumed ones too.
        parameters: the model's parameter count.
        seed: the seed the run was started with.
        stopped_early: whether early stopping ended the run before `epochs`.
        initial_weights_sha256: fingerprint (`weights_fingerprint`) of the weights
            training started from: the loaded `init_weights`, or the random ones.
        resumed_at_epoch: the number of epochs already done when this call
            started (0 for a fresh run).
        out_dir: the run folder.
    """

    model: keras.Model
    history: pd.DataFrame
    best_epoch: int
    best_val_loss: float
    seconds_per_epoch: float
    parameters: int
    seed: int
    stopped_early: bool
    initial_weights_sha256: str
    resumed_at_epoch: int
    out_dir: Path


def read_state(out_dir):
    """The `checkpoint/state.json` of a run folder, or `None` when there is none."""
    path = Path(out_dir) / CHECKPOINT_DIR / STATE_NAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: unreadable training state ({error})") from None


def read_history(out_dir, epochs_done):
    """The rows of `history.csv` for the `epochs_done` epochs `state.json` vouches for."""
    path = Path(out_dir) / HISTORY_NAME
    if not path.is_file() or epochs_done == 0:
        return []
    history = pd.read_csv(path)
    # A run killed between writing history.csv and state.json has one row too many.
    history = history[history["epoch"] <= epochs_done]
    return history.to_dict("records")


def new_state(identity, seed, profile, preset, learning_rate, init_weights,
              initial_weights_sha256, train_images, validation_images):
    """The `state.json` fields of a run that has not finished an epoch yet."""
    return {
        "identity": identity,
        "seed": seed,
        "profile": profile.name,
        "preset": preset,
        "learning_rate": float(learning_rate),
        "init_weights": None if init_weights is None else str(init_weights),
        "initial_weights_sha256": initial_weights_sha256,
        "epochs": profile.epochs,
        "patience": profile.patience,
        "train_images": train_images,
        "validation_images": validation_images,
        "epochs_done": 0,
        "finished": False,
    }


def finish_run(model, state, out_dir, epochs):
    """Save the best model, mark the state finished and delete the epoch checkpoints.

    A run that stopped at its cap keeps its last epoch's checkpoint when that is
    not the best epoch's (`model.keras`), so that it can be continued to a
    higher cap exactly (`change_epoch_cap`).

    Returns:
        The final state (also written to `checkpoint/state.json`).
    """
    out_dir = Path(out_dir)
    checkpoint_dir = out_dir / CHECKPOINT_DIR
    with atomic_path(out_dir / MODEL_NAME) as temporary:
        model.save(temporary)
    state.update(
        finished=True,
        stopped_early=bool(state["epochs_done"] < epochs),
    )
    write_json_atomic(checkpoint_dir / STATE_NAME, state)
    keep = set() if _stopped_for_good(state) else {state.get("last_checkpoint")}
    keep.discard(state.get("best_checkpoint"))
    for old in checkpoint_dir.glob("epoch-*.keras"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    return state


def _stopped_for_good(state):
    """Whether a run ended for a reason a higher cap would not change: early stopping."""
    return bool(state.get("stop_training") or state.get("stopped_early"))


def change_epoch_cap(out_dir, state, epochs):
    """Give a run a new epoch cap; a finished run that stopped at its cap is reopened.

    The cap is the one profile field a run may change when it resumes: raising
    it continues the run as if it had had the higher cap from the start (a run
    that early stopping ended stays as it is, as it would have under any cap).
    A reopened run gets its checkpoints back from the files `finish_run` left:
    `model.keras` is the best epoch's, and the last epoch's when it was the best.

    Args:
        out_dir: the run folder.
        state: its `state.json` (`read_state`).
        epochs: the new cap; at least the epochs already done.

    Returns:
        `state` itself when its cap is `epochs`; else a changed copy, written to
        `checkpoint/state.json`.

    Raises:
        ValueError: the run has done more epochs than `epochs`, or a finished run
            has lost the last epoch's checkpoint it would continue from.
    """
    out_dir = Path(out_dir)
    if state.get("epochs", epochs) == epochs:
        return state
    done = int(state["epochs_done"])
    if done > epochs:
        raise ValueError(
            f"{out_dir}: cannot resume with a cap of {epochs} epochs: the run there has done "
            f"{done}. Resume it with a cap of at least {done}, or start it over with --overwrite."
        )
    state = dict(state, epochs=epochs)
    if "identity" in state:
        profile = dict(state["identity"].get("profile", {}), epochs=epochs)
        state["identity"] = dict(state["identity"], profile=profile)
    if state.get("finished") and not _stopped_for_good(state) and done < epochs:
        _restore_checkpoints(out_dir, state)
        state.update(finished=False)
    elif state.get("finished"):
        state.update(stopped_early=bool(done < epochs))
    write_json_atomic(out_dir / CHECKPOINT_DIR / STATE_NAME, state)
    return state


def _restore_checkpoints(out_dir, state):
    """Put the best epoch's checkpoint back from `model.keras`; check the last one's is there."""
    checkpoint_dir = Path(out_dir) / CHECKPOINT_DIR
    best, last = checkpoint_dir / state["best_checkpoint"], checkpoint_dir / state["last_checkpoint"]
    if not best.is_file():
        with atomic_path(best) as temporary:
            shutil.copyfile(Path(out_dir) / MODEL_NAME, temporary)
    if not last.is_file():
        raise ValueError(
            f"{out_dir}: cannot continue this finished run to a higher cap: its last epoch's "
            f"checkpoint ({last.name}) was deleted when it finished. Start it over with "
            f"--overwrite, or keep its cap."
        )


def train_result(model, history, state, resumed_at_epoch, out_dir):
    """A `TrainResult` from the model, its history and the run's `state.json` fields."""
    return TrainResult(
        model=model,
        history=history,
        best_epoch=int(state["best_epoch"]),
        best_val_loss=float(state["best_val_loss"]),
        seconds_per_epoch=float(history["seconds"].median()),
        parameters=int(model.count_params()),
        seed=int(state["seed"]),
        stopped_early=bool(state["stopped_early"]),
        initial_weights_sha256=state["initial_weights_sha256"],
        resumed_at_epoch=int(resumed_at_epoch),
        out_dir=Path(out_dir),
    )


def result_from_finished_run(out_dir, state, strategy):
    """The `TrainResult` of a finished run folder, its model loaded (in `strategy`'s scope)."""
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = load_keras_model(Path(out_dir) / MODEL_NAME, compile=True)
    history = pd.DataFrame(read_history(out_dir, state["epochs_done"]))
    return train_result(model, history, state, state["epochs_done"], out_dir)
