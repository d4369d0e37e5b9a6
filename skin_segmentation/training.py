"""Training as in Codella et al. 2018, interruptible and resumable.

SGD with momentum 0.9 minimizes the Jaccard distance (Yuan et al. 2017) at
learning rate 0.01 from random initialization or 0.001 for fine-tuning, at batch
16, for up to 500 epochs, stopping after 50 epochs without a lower validation
loss and keeping the best weights. Every number comes from a `Profile`
(`skin_segmentation.profiles`).

A run folder:

    RUN/
      model.keras           the best model (weights of the best epoch), at the end
      history.csv           one row per finished epoch (epoch is 1-based)
      checkpoint/
        state.json          epochs done, early-stopping state, seed, file names
        epoch-NNNN.keras    the last epoch's model and optimizer (momentum)
        epoch-MMMM.keras    the best epoch's, when it is another one

After every epoch the last checkpoint, `history.csv` and then `state.json` are
each written to a temporary file and moved into place. `state.json` is written
last and names the checkpoint files it belongs to, so a run killed at any moment
(even `kill -9`) resumes with `resume=True` from its last finished epoch, with
its optimizer, early-stopping counter and best weights, and loses at most the
epoch that was running.
"""

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from skin_segmentation.distribute import fit as distributed_fit
from skin_segmentation.distribute import is_chief, resolve_precision, worker_dir
from skin_segmentation.losses import JaccardDistance
from skin_segmentation.metrics import DiceCoefficient, JaccardIndex
from skin_segmentation.models import PRESETS, build_model
from skin_segmentation.profiles import get_profile
from skin_segmentation.records import atomic_path, write_csv_atomic, write_json_atomic

MOMENTUM = 0.9
CHECKPOINT_DIR = "checkpoint"
STATE_NAME = "state.json"
MODEL_NAME = "model.keras"
HISTORY_NAME = "history.csv"


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


def compile_model(model, learning_rate):
    """Compile `model` the paper's way: SGD with momentum 0.9 on the Jaccard distance.

    Args:
        model: a network of `skin_segmentation.models`.
        learning_rate: 0.01 from random initialization, 0.001 for fine-tuning.

    Returns:
        `model`, compiled with `JaccardIndex` and `DiceCoefficient` as metrics.

    Example:
    >>> from skin_segmentation.models import build_model
    >>> model = compile_model(build_model("unet", (32, 32, 3), filters=(4, 8)), 0.01)
    >>> type(model.optimizer).__name__, float(model.optimizer.momentum)
    ('SGD', 0.9)
    """
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be positive. Received: learning_rate={learning_rate}")
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=MOMENTUM),
        loss=JaccardDistance(),
        metrics=[JaccardIndex(), DiceCoefficient()],
    )
    return model


def weights_fingerprint(model):
    """SHA-256 of a model's weights (float32 bytes, in `get_weights` order).

    Two models share a fingerprint exactly when all their weights are equal,
    which is how the records prove where a training started from.

    Example:
    >>> from skin_segmentation.models import build_model
    >>> model = build_model("unet", (32, 32, 3), filters=(4, 8))
    >>> weights_fingerprint(model) == weights_fingerprint(model)
    True
    """
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(np.ascontiguousarray(array, dtype="float32").tobytes())
    return digest.hexdigest()


def load_initial_weights(model, path):
    """Copy the weights of the model saved at `path` into `model`, layer by layer.

    Layers are matched by name (every preset names its layers the same way in
    every build), and every weight must have the same shape in both models: the
    same preset at the same input size.

    Args:
        model: a freshly built network.
        path: a `.keras` file saved by `train` (or `model.save`).

    Returns:
        The number of weight tensors copied.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: a layer of `model` is missing from the saved model or its
            weights have other shapes; the message names them.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    try:
        source = keras.models.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - Keras raises many types here
        raise ValueError(f"{path}: not a loadable .keras model ({error})") from None
    source_layers = {layer.name: layer for layer in source.layers}
    problems = []
    assignments = []
    for layer in model.layers:
        if not layer.weights:
            continue
        other = source_layers.get(layer.name)
        if other is None:
            problems.append(f"layer {layer.name!r} is missing there")
            continue
        ours = [tuple(w.shape) for w in layer.weights]
        theirs = [tuple(w.shape) for w in other.weights]
        if ours != theirs:
            problems.append(f"layer {layer.name!r} has weights {theirs} there, {ours} here")
            continue
        assignments.append((layer, other.get_weights()))
    if problems:
        shown = "; ".join(problems[:4]) + ("; ..." if len(problems) > 4 else "")
        raise ValueError(
            f"{path}: cannot initialize {model.name!r} (input {model.input_shape}) from "
            f"{source.name!r} (input {source.input_shape}): {len(problems)} layer(s) do not "
            f"match: {shown}. Use weights of the same preset at the same image size."
        )
    for layer, weights in assignments:
        layer.set_weights(weights)
    return sum(len(weights) for _, weights in assignments)


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


def read_state(out_dir):
    """The `checkpoint/state.json` of a run folder, or `None` when there is none."""
    path = Path(out_dir) / CHECKPOINT_DIR / STATE_NAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: unreadable training state ({error})") from None


def _read_history(out_dir, epochs_done):
    path = Path(out_dir) / HISTORY_NAME
    if not path.is_file() or epochs_done == 0:
        return []
    history = pd.read_csv(path)
    # A run killed between writing history.csv and state.json has one row too many.
    history = history[history["epoch"] <= epochs_done]
    return history.to_dict("records")


def _is_dataset(value):
    return hasattr(value, "element_spec") and hasattr(value, "batch")


def _count(pairs):
    if _is_dataset(pairs):
        return None
    return len(pairs)


def _make_dataset(pairs, profile, training, seed):
    if _is_dataset(pairs):
        return pairs
    if not len(pairs):
        raise ValueError(
            f"No {'training' if training else 'validation'} images: the split is empty. "
            f"Received: {len(pairs)} pairs"
        )
    from skin_segmentation.data.pipeline import make_dataset

    options = profile.dataset_options() if training and profile.augment else {}
    return make_dataset(
        pairs,
        image_size=profile.image_size,
        batch_size=profile.batch_size,
        augment=profile.augment if training else None,
        shuffle=training,
        seed=seed,
        **options,
    )


def _default_verbose():
    return 1 if sys.stdout.isatty() else 2


def cpu_model_and_cores():
    """The CPU's model name (from /proc/cpuinfo where there is one) and usable cores."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return model, cores


def describe_device():
    """One line naming what trains: the GPUs, or the CPU and its core count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return f"{len(gpus)} GPU(s): {', '.join(sorted(set(names)))}"
    model, cores = cpu_model_and_cores()
    return f"{cores}-core CPU ({model})"


class dtype_policy_scope:
    """Set the global Keras dtype policy (e.g. `"mixed_bfloat16"`) for a block.

    The previous policy is restored on exit, so one run's precision never leaks
    into the next model a process builds.
    """

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy(self.name)

    def __exit__(self, *exc_info):
        keras.mixed_precision.set_global_policy(self.previous)


def build_for_profile(preset, profile):
    """Build `preset` at the profile's image size with its model overrides.

    Example:
    >>> from skin_segmentation.profiles import get_profile
    >>> build_for_profile("unet", get_profile("tiny")).input_shape
    (None, 32, 32, 3)
    """
    profile = get_profile(profile)
    return build_model(preset, input_shape=profile.input_shape, **profile.overrides_for(preset))


def _train_result(model, history, state, resumed_at_epoch, out_dir):
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


def _result_from_finished_run(out_dir, state, strategy):
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = keras.models.load_model(Path(out_dir) / MODEL_NAME)
    history = pd.DataFrame(_read_history(out_dir, state["epochs_done"]))
    return _train_result(model, history, state, state["epochs_done"], out_dir)


def train(
    model_or_preset,
    train_pairs,
    validation_pairs,
    out_dir,
    profile,
    learning_rate=None,
    init_weights=None,
    resume=False,
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
            training starts fresh). Without `resume`, a folder already holding a
            run is an error rather than overwritten.
        strategy: a `tf.distribute.Strategy` to build and compile the model in.
        seed: seed of the initialization, augmentation and data order; default
            the profile's. A resumed run reseeds with `seed + epochs done`.
        callbacks: further Keras callbacks (after early stopping and checkpoints).
        verbose: Keras `fit` verbosity; `"auto"` shows progress bars on a
            terminal and one line per epoch otherwise.

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
    profile = get_profile(profile)
    seed = profile.seed if seed is None else int(seed)
    # distribute: under multi_worker only the chief writes `out_dir`; every other
    # worker writes the same files into its own `out_dir/.worker-worker-<i>`.
    out_dir = worker_dir(out_dir, strategy)
    state = read_state(out_dir)
    if state is not None and not resume:
        raise ValueError(
            f"{out_dir}: already holds a training run ({state['epochs_done']} epochs done"
            f"{', finished' if state.get('finished') else ''}). Resume it with resume=True "
            f"(--resume) or choose another output folder."
        )
    if state is not None and state.get("finished"):
        return _result_from_finished_run(out_dir, state, strategy)
    if learning_rate is None:
        learning_rate = (
            profile.fine_tune_learning_rate if init_weights is not None else profile.learning_rate
        )
    if verbose == "auto":
        verbose = _default_verbose()
    preset = model_or_preset if isinstance(model_or_preset, str) else None
    if preset is not None and preset not in PRESETS:
        raise ValueError(
            f"Unknown model preset {preset!r}. Choose one of: {', '.join(PRESETS)}."
        )
    checkpoint_dir = out_dir / CHECKPOINT_DIR
    epochs_done = 0 if state is None else int(state["epochs_done"])
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()

    with dtype_policy_scope(profile.precision):
        keras.utils.set_random_seed(seed + epochs_done)
        with scope:
            if state is not None:
                model = keras.models.load_model(checkpoint_dir / state["last_checkpoint"])
                best_weights = keras.models.load_model(
                    checkpoint_dir / state["best_checkpoint"], compile=False
                ).get_weights()
            else:
                model = build_for_profile(preset, profile) if preset else model_or_preset
                if init_weights is not None:
                    load_initial_weights(model, init_weights)
                initial_fingerprint = weights_fingerprint(model)
                compile_model(model, learning_rate)
        if state is None:
            state = {
                "seed": seed,
                "profile": profile.name,
                "preset": preset or model.name,
                "learning_rate": float(learning_rate),
                "init_weights": None if init_weights is None else str(init_weights),
                "initial_weights_sha256": initial_fingerprint,
                "epochs": profile.epochs,
                "patience": profile.patience,
                "train_images": _count(train_pairs),
                "validation_images": _count(validation_pairs),
                "epochs_done": 0,
                "finished": False,
            }
        early_stopping = ResumableEarlyStopping(
            monitor="val_loss",
            patience=profile.patience,
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
            out_dir, early_stopping, _read_history(out_dir, epochs_done), state
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        if not state.get("stop_training") and epochs_done < profile.epochs:
            # distribute: Model.fit, or its epoch loop under multi_worker (Keras 3's
            # fit fails there, keras-team/keras#20585).
            distributed_fit(
                model,
                _make_dataset(train_pairs, profile, training=True, seed=seed + epochs_done),
                validation_data=_make_dataset(validation_pairs, profile, training=False, seed=seed),
                epochs=profile.epochs,
                initial_epoch=epochs_done,
                callbacks=[early_stopping, checkpoint, *callbacks],
                verbose=verbose,
                strategy=strategy,
            )
        elif epochs_done:
            model.set_weights(best_weights)
        state = checkpoint.state
        history = pd.DataFrame(checkpoint.rows)
        with atomic_path(out_dir / MODEL_NAME) as temporary:
            model.save(temporary)
        state.update(
            finished=True,
            stopped_early=bool(state["epochs_done"] < profile.epochs),
        )
        write_json_atomic(checkpoint_dir / STATE_NAME, state)
        for old in checkpoint_dir.glob("epoch-*.keras"):
            old.unlink(missing_ok=True)

    return _train_result(model, history, state, epochs_done, out_dir)


# --------------------------------------------------------------------------- command line


def _training_pairs(args, profile):
    """The pairs `skinseg train` learns from: --data (balanced, capped) plus --target-train."""
    from skin_segmentation.data.readers import read_dataset, read_datasets
    from skin_segmentation.data.splits import split_target
    from skin_segmentation.scenarios import select_pool

    pairs = select_pool(read_datasets(args.data), profile)
    print(f"{len(pairs)} pairs drawn from {', '.join(map(str, args.data))} "
          f"(per source, {profile.name} profile).")
    target_dir = getattr(args, "target_train", None)
    if target_dir:
        target_train, target_eval = split_target(
            read_dataset(target_dir), n_train=profile.target_train,
            n_eval=profile.target_eval, seed=profile.seed,
        )
        held_out = {(pair.source, pair.stem) for pair in target_eval}
        seen = {(pair.source, pair.stem) for pair in pairs}
        pairs = [pair for pair in pairs if (pair.source, pair.stem) not in held_out]
        pairs += [pair for pair in target_train if (pair.source, pair.stem) not in seen]
        print(f"Added the {len(target_train)} training images of {target_dir}; its "
              f"{len(target_eval)} evaluation images are left out.")
    return pairs


def _write_training_splits(args, profile, train_pairs, validation_pairs):
    """Record in `RUN/splits.json` which images trained, validated, and were held out.

    `held_out` is every pair of `--data` and `--target-train` whose weights never
    saw it: the validation split, the pool images not drawn, and the target's
    evaluation images, so a model card can be computed on unseen images only.
    """
    from skin_segmentation.data.readers import read_dataset, read_datasets
    from skin_segmentation.data.splits import write_splits

    folders = [read_datasets(args.data)]
    if getattr(args, "target_train", None):
        folders.append(read_dataset(args.target_train))
    trained = {(pair.source, pair.stem) for pair in train_pairs}
    held_out = [
        pair for pairs in folders for pair in pairs if (pair.source, pair.stem) not in trained
    ]
    with atomic_path(Path(args.out) / "splits.json") as temporary:
        write_splits(
            temporary, seed=profile.seed, train=train_pairs, validation=validation_pairs,
            held_out=held_out,
        )


def train_from_cli(args):
    """`skinseg train`: train one preset on folders of pairs; see `skinseg train -h`.

    The pairs of `--data` are drawn per source as the profile draws its
    pre-training pool (`scenarios.select_pool`), `--target-train DIR` adds the
    target's training split, and the profile's validation fraction is held out
    for early stopping. The profile's seed draws the splits; `--seed` changes
    only the training seed (initialization and data order), as in `replicate`.
    """
    from skin_segmentation.data.splits import split_validation

    profile = get_profile(args.profile)
    if args.precision:
        # distribute: "auto" is the machine's fastest native precision.
        profile = profile.replace(precision=resolve_precision(args.precision))
    seed = profile.seed if args.seed is None else args.seed
    strategy = None
    if args.strategy and args.strategy != "default":
        from skin_segmentation.distribute import get_strategy

        strategy = get_strategy(args.strategy)
    pairs = _training_pairs(args, profile)
    train_pairs, validation_pairs = split_validation(
        pairs, fraction=profile.validation_fraction, seed=profile.seed
    )
    if is_chief(strategy):  # distribute: only the chief writes the run folder
        _write_training_splits(args, profile, train_pairs, validation_pairs)
    print(
        f"Training {args.model} ({profile.name} profile) on {len(train_pairs)} images, "
        f"validating on {len(validation_pairs)}; writing {args.out}",
        flush=True,
    )
    result = train(
        args.model,
        train_pairs,
        validation_pairs,
        args.out,
        profile,
        init_weights=args.init,
        resume=args.resume,
        strategy=strategy,
        seed=seed,
    )
    summary = {
        "model": str(Path(args.out) / MODEL_NAME),
        "epochs": int(len(result.history)),
        "best_epoch": result.best_epoch,
        "best_val_loss": round(result.best_val_loss, 6),
        "seconds_per_epoch": round(result.seconds_per_epoch, 2),
        "parameters": result.parameters,
        "seed": result.seed,
    }
    print(json.dumps(summary))
    return 0
