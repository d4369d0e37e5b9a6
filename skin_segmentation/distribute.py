"""Training on several devices and machines: `tf.distribute` strategies and their fit loop.

Three strategies, all of them TensorFlow's own `tf.distribute` engine:

- `"default"`: one device (the GPU when there is one, else the CPU).
- `"mirrored"`: `tf.distribute.MirroredStrategy`, synchronous data parallelism
  over the GPUs of one machine; each step's global batch is split between them
  and their gradients are summed before every update.
- `"multi_worker"`: `tf.distribute.MultiWorkerMirroredStrategy`, the same over
  several machines. Every machine runs the same command with its own
  `TF_CONFIG`, e.g. for two machines

      TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]},
                  "task": {"type": "worker", "index": 0}}'  skinseg train ...

  and `"index": 1` on the second. The batch size is the global batch; each
  worker takes its share of every batch (`AutoShardPolicy.DATA`). Worker 0 is
  the chief and alone writes the run folder; every other worker runs the same
  callbacks into its own `RUN/.worker-worker-<i>` (`worker_dir`), kept so that
  `--resume` finds every worker's state. The strategy must be created before
  TensorFlow runs any operation, so `skinseg train --strategy multi_worker`
  creates it first.

Keras 3's `Model.fit` cannot run under `MultiWorkerMirroredStrategy` (it fails
while reducing per-replica batches, keras-team/keras#20585), so `fit` below runs
the same `Model.train_step`/`test_step` through `strategy.run` in its own epoch
loop, with the Keras callbacks, and hands every other strategy to `Model.fit`.

Precision (the dtype policy, `resolve_precision`) is chosen by `precision`,
whose names this module also offers.

XLA (`jit_compile`) is left to Keras' `"auto"`: on for a single GPU, off on CPUs
and under distribution strategies, which is what `experiments/benchmark.py`
measured to be faster on this project's CPU.
"""

import json
import os
from pathlib import Path

from skin_segmentation.precision import (  # noqa: F401  (part of this module's interface)
    PRECISIONS,
    cpu_flags,
    cpu_has_bfloat16,
    gpu_compute_capabilities,
    resolve_precision,
)

STRATEGIES = ("default", "mirrored", "multi_worker")
TF_CONFIG = "TF_CONFIG"
WORKER_DIR_PREFIX = ".worker-"


def read_tf_config(environ=None):
    """The cluster description in `TF_CONFIG`, checked.

    Args:
        environ: a mapping to read `TF_CONFIG` from; default `os.environ`.

    Returns:
        The parsed dict, with `cluster` (job name -> list of `"host:port"`,
        a non-empty `"worker"` job among them) and `task` (`type`, `index`).

    Raises:
        ValueError: `TF_CONFIG` is unset, not JSON, or describes no valid task;
            the message names the variable and shows what it holds.

    Example:
    >>> config = read_tf_config({"TF_CONFIG": '{"cluster": {"worker": ["127.0.0.1:2222", '
    ...     '"127.0.0.1:2223"]}, "task": {"type": "worker", "index": 1}}'})
    >>> config["task"], len(config["cluster"]["worker"])
    ({'type': 'worker', 'index': 1}, 2)
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(TF_CONFIG)
    if not raw:
        raise ValueError(
            f"The multi_worker strategy reads the cluster from the environment variable "
            f"{TF_CONFIG}, which is not set. Set it on every machine, e.g. "
            f'{TF_CONFIG}=\'{{"cluster": {{"worker": ["host0:12345", "host1:12345"]}}, '
            f'"task": {{"type": "worker", "index": 0}}}}\'. Received: {TF_CONFIG}={raw!r}'
        )
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{TF_CONFIG} is not valid JSON ({error}). Received: {TF_CONFIG}={raw!r}"
        ) from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    problem = None
    if not isinstance(cluster, dict) or not cluster.get("worker"):
        problem = 'it needs "cluster" with a non-empty "worker" list of "host:port"'
    elif not all(
        isinstance(addresses, list) and all(isinstance(a, str) and ":" in a for a in addresses)
        for addresses in cluster.values()
    ):
        problem = 'every job of "cluster" must be a list of "host:port" strings'
    elif not isinstance(task, dict) or task.get("type") not in cluster:
        problem = f'"task" needs a "type" among the cluster\'s jobs {sorted(cluster)}'
    elif not isinstance(task.get("index"), int) or not (
        0 <= task["index"] < len(cluster[task["type"]])
    ):
        problem = (
            f'"task" needs an integer "index" from 0 to {len(cluster[task["type"]]) - 1} '
            f'for job {task["type"]!r}'
        )
    if problem:
        raise ValueError(f"{TF_CONFIG} describes no valid task: {problem}. Received: {TF_CONFIG}={raw!r}")
    return config


def get_strategy(name="default"):
    """A `tf.distribute.Strategy` by name.

    Args:
        name: `"default"` (one device), `"mirrored"` (all GPUs of this machine)
            or `"multi_worker"` (several machines described by `TF_CONFIG`).

    Returns:
        The strategy. Build and compile the model inside `strategy.scope()` and
        train it with `fit` (or `training.train(..., strategy=strategy)`).

    Raises:
        ValueError: unknown `name`, or a missing or malformed `TF_CONFIG` for
            `"multi_worker"`.
        RuntimeError: `"multi_worker"` asked for after TensorFlow already ran
            an operation in this process.

    Example:
    >>> strategy = get_strategy("default")
    >>> strategy.num_replicas_in_sync
    1
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}. Choose one of: {', '.join(STRATEGIES)}.")
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    read_tf_config()
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:
        raise RuntimeError(
            f"{error}: the multi_worker strategy must be created before TensorFlow runs "
            f"any operation in this process; call get_strategy('multi_worker') first."
        ) from error


def is_multi_worker(strategy):
    """Whether `strategy` spans more than one worker process."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    resolver = strategy.cluster_resolver
    return resolver.task_type is not None and len(resolver.cluster_spec().as_dict()) > 0


def is_chief(strategy=None):
    """Whether this process is the one that writes results.

    Single-process strategies are always the chief. Under `multi_worker`, the
    `"chief"` task is, or worker 0 when the cluster has no `"chief"` job.

    Example:
    >>> is_chief(get_strategy("default"))
    True
    """
    if strategy is None or not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0


def worker_dir(out_dir, strategy=None):
    """Where this process writes a run: `out_dir` for the chief, else a private folder.

    A non-chief worker runs the same callbacks as the chief, so that every
    worker takes the same steps and can resume from its own checkpoint, but
    writes into `out_dir/.worker-<type>-<index>`: no two processes ever write
    the same file.

    Example:
    >>> str(worker_dir("runs/unet", get_strategy("default")))
    'runs/unet'
    """
    out_dir = Path(out_dir)
    if is_chief(strategy):
        return out_dir
    resolver = strategy.cluster_resolver
    return out_dir / f"{WORKER_DIR_PREFIX}{resolver.task_type}-{resolver.task_id}"


def distribute_options(dataset, strategy=None):
    """`dataset` with the sharding a multi-worker strategy needs.

    Sharding is by data (`AutoShardPolicy.DATA`): every worker reads the same
    stream in the same (seeded) order and keeps its share of each global batch,
    so two workers with local batch 8 take exactly the steps one worker takes
    with batch 16. Other strategies get `dataset` unchanged.
    """
    import tensorflow as tf

    if strategy is None or not is_multi_worker(strategy):
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def fit(
    model,
    dataset,
    epochs=1,
    validation_data=None,
    callbacks=None,
    initial_epoch=0,
    verbose=0,
    strategy=None,
):
    """`Model.fit` on batched `tf.data` datasets, under any strategy of this module.

    Under `multi_worker` it runs `model.train_step` (and `model.test_step` for
    validation) through `strategy.run` on the distributed dataset, averages the
    logs over the replicas and drives the Keras callbacks as `Model.fit` does,
    so early stopping, checkpoints and CSV loggers work unchanged. Gradients
    are summed across workers by the optimizer; the loss is scaled by the
    number of replicas as in `Model.fit`. Every other strategy is handed to
    `Model.fit` as it is.

    Args:
        model: a model built and compiled inside `strategy.scope()`.
        dataset: a `tf.data.Dataset` of `(images, masks)` batches (the global
            batch; every worker gets its share).
        epochs: index of the last epoch, as in `Model.fit`.
        validation_data: a dataset of batches, or `None`.
        callbacks: Keras callbacks.
        initial_epoch: epoch to start from (resumed runs).
        verbose: `Model.fit` verbosity; only the chief prints.
        strategy: the strategy the model was built in; default the model's.

    Returns:
        A `keras.callbacks.History`.

    Example:
    >>> import keras, numpy as np, tensorflow as tf
    >>> from skin_segmentation.models import build_unet
    >>> strategy = get_strategy("default")
    >>> with strategy.scope():
    ...     model = build_unet((32, 32, 3), filters=(4, 8))
    ...     model.compile(optimizer="sgd", loss="mse")
    >>> x = np.zeros((4, 32, 32, 3), "float32"); y = np.zeros((4, 32, 32, 1), "float32")
    >>> data = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
    >>> sorted(fit(model, data, epochs=2, strategy=strategy).history)
    ['loss']
    """
    strategy = strategy or model.distribute_strategy
    if not is_multi_worker(strategy):
        return model.fit(
            dataset,
            epochs=epochs,
            validation_data=validation_data,
            callbacks=callbacks,
            initial_epoch=initial_epoch,
            verbose=verbose,
            shuffle=False,
        )
    if not is_chief(strategy):
        verbose = 0
    return _fit_multi_worker(
        model, strategy, dataset, epochs, validation_data, callbacks, initial_epoch, verbose
    )


def _fit_multi_worker(model, strategy, dataset, epochs, validation_data, callbacks, initial_epoch,
                      verbose):
    """`fit`'s own epoch loop under `MultiWorkerMirroredStrategy`, with `Model.fit`'s callbacks."""
    import keras

    steps = int(dataset.cardinality())
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*(callbacks or []), history],
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps if steps > 0 else None,
    )
    train_batches = strategy.experimental_distribute_dataset(distribute_options(dataset, strategy))
    validation_batches = None
    if validation_data is not None:
        validation_batches = strategy.experimental_distribute_dataset(
            distribute_options(validation_data, strategy)
        )
    train_function = _replica_mean_step(strategy, model.train_step)
    test_function = _replica_mean_step(strategy, model.test_step)
    model.stop_training = False
    callback_list.on_train_begin()
    epoch_logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        epoch_logs = _train_epoch(model, train_function, train_batches, callback_list, epoch, steps)
        if validation_batches is not None:
            epoch_logs.update(_validation_logs(model, test_function, validation_batches))
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end(epoch_logs)
    return history


def _replica_mean_step(strategy, step):
    """`step` (`Model.train_step` or `test_step`) on every replica, its logs averaged over them."""
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def replica_mean(batch):
        logs = strategy.run(step, args=(batch,))
        return {name: strategy.reduce("MEAN", value, axis=None) for name, value in logs.items()}

    return replica_mean


def _train_epoch(model, train_function, train_batches, callback_list, epoch, steps):
    """One epoch of training steps (until `model.stop_training`); its last step's logs as floats."""
    logs = None
    for step, batch in enumerate(train_batches):
        callback_list.on_train_batch_begin(step)
        logs = train_function(batch)
        callback_list.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    if logs is None:
        raise ValueError(
            f"The training dataset yielded no batch in epoch {epoch + 1}. "
            f"Received: dataset.cardinality()={steps}"
        )
    if steps > 0 and not model.stop_training:
        # Model.fit opens one more iterator at the end of every epoch of known
        # length; doing the same keeps each epoch's shuffle order identical to it.
        iter(train_batches)
    return _as_floats(logs)


def _validation_logs(model, test_function, validation_batches):
    """One validation pass: its last step's logs as `val_<name>` floats (empty: no batch)."""
    model.reset_metrics()
    logs = None
    for batch in validation_batches:
        logs = test_function(batch)
    if logs is None:
        return {}
    return {f"val_{name}": value for name, value in _as_floats(logs).items()}


def _as_floats(logs):
    return {name: float(value) for name, value in logs.items()}
