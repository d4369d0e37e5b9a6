"""Callbacks of a run: restorable early stopping, atomic checkpoints, plain epoch lines."""

import sys
import time
from pathlib import Path

import keras
import pandas as pd

from skin_segmentation.atomic_files import atomic_path, write_csv_atomic, write_json_atomic
from skin_segmentation.training.state import CHECKPOINT_DIR, HISTORY_NAME, STATE_NAME


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` whose counters can be restored when a run resumes.

    Keras resets `wait`, `best`, `best_epoch` and `best_weights` at the start of
    every `fit`; `resume_from` sets them again right after that reset.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._restored = None

    def resume_from(self, best, best_epoch, wait, best_weights):
        """Restore the state of an interrupted run (`best_epoch` 0-based, as Keras)."""
        self._restored = dict(best=best, best_epoch=best_epoch, wait=wait, best_weights=best_weights)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._restored:
            for name, value in self._restored.items():
                setattr(self, name, value)


class AtomicCheckpoint(keras.callbacks.Callback):
    """After every epoch: checkpoint, history row and state, each written atomically.

    Must come after the `ResumableEarlyStopping` it reads in the callback list,
    so that it saves the early-stopping state of the epoch just finished.

    Args:
        out_dir: the run folder.
        early_stopping: the run's `ResumableEarlyStopping`.
        history_rows: rows of the epochs already done (a resumed run's).
        state: the `state.json` of a resumed run, or a fresh one's fields.
    """

    def __init__(self, out_dir, early_stopping, history_rows, state):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.checkpoint_dir = self.out_dir / CHECKPOINT_DIR
        self.early_stopping = early_stopping
        self.rows = list(history_rows)
        self.state = dict(state)
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        row = {"epoch": epoch + 1}
        row.update({key: float(value) for key, value in (logs or {}).items()})
        learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row["learning_rate"] = float(f"{learning_rate:.7g}")  # 0.01, not float32's 0.0099999998
        row["seconds"] = seconds
        self.rows.append(row)

        name = f"epoch-{epoch + 1:04d}.keras"
        with atomic_path(self.checkpoint_dir / name) as temporary:
            self.model.save(temporary)
        early = self.early_stopping
        improved = early.best_epoch == epoch
        self.state.update(
            epochs_done=epoch + 1,
            last_checkpoint=name,
            best_checkpoint=name if improved else self.state.get("best_checkpoint"),
            best_epoch=early.best_epoch + 1,
            best_val_loss=None if early.best is None else float(early.best),
            wait=int(early.wait),
            stop_training=bool(self.model.stop_training),
            optimizer_iterations=int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)),
        )
        write_csv_atomic(self.out_dir / HISTORY_NAME, pd.DataFrame(self.rows))
        write_json_atomic(self.checkpoint_dir / STATE_NAME, self.state)
        keep = {self.state["last_checkpoint"], self.state["best_checkpoint"]}
        for old in self.checkpoint_dir.glob("epoch-*.keras"):
            if old.name not in keep:
                old.unlink(missing_ok=True)


class EpochLog(keras.callbacks.Callback):
    """One plain line per epoch on stdout, for logs: no progress bar, colour or carriage return.

    `train` uses it in place of Keras's progress bars when stdout is not a
    terminal (`skinseg train ... > train.log`).

    Args:
        epochs: the last epoch of the run, shown as `Epoch 3/15`.
        stream: where the lines go (default: `sys.stdout` at each line).

    Example:
    >>> import io
    >>> log = EpochLog(15, stream=io.StringIO())
    >>> log.on_epoch_begin(2)
    >>> log.on_epoch_end(2, {"val_loss": 0.5, "loss": 0.25, "jaccard": 0.75})
    >>> log.stream.getvalue()  # doctest: +ELLIPSIS
    'Epoch 3/15 - ...s - loss: 0.2500 - jaccard: 0.7500 - val_loss: 0.5000\\n'
    """

    def __init__(self, epochs, stream=None):
        super().__init__()
        self.epochs = epochs
        self.stream = stream
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        # Training figures before validation ones, each group's loss first.
        names = sorted(logs, key=lambda name: (name.startswith("val_"),
                                               not name.endswith("loss"), name))
        figures = "".join(f" - {name}: {float(logs[name]):.4f}" for name in names)
        seconds = time.perf_counter() - self._started
        stream = self.stream or sys.stdout
        stream.write(f"Epoch {epoch + 1}/{self.epochs} - {seconds:.1f}s{figures}\n")
        stream.flush()
