"""Strategies, TF_CONFIG checks, precision, and distributed training matching one process.

The distributed runs are separate processes (a multi-worker strategy must be
created before TensorFlow runs anything, and logical CPUs must be configured
before it starts), each bounded by a timeout so that a stuck collective fails
the test instead of hanging CI. They talk over 127.0.0.1 only.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from skin_segmentation import distribute, precision
from skin_segmentation.losses import JaccardDistance

REPO_ROOT = Path(__file__).resolve().parents[1]

TIMEOUT_S = 300

# `skinseg train` on a folder of synthetic pairs with a miniature U-Net (no noise,
# no dropout: nothing random but the seeded initialization and data order).
# "mirrored_2cpu" splits this machine's CPU into two logical devices and makes
# `--strategy mirrored` use both (it would use the GPUs of a GPU machine).
JOB = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    mode, data_dir, profile, out = sys.argv[1:5]
    import skin_segmentation.distribute as distribute

    make_strategy = distribute.get_strategy
    if mode == "mirrored_2cpu":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        make_strategy = lambda name: tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        mode = "mirrored"

    def get_strategy(name):
        strategy = make_strategy(name)
        print("replicas", strategy.num_replicas_in_sync, "chief", distribute.is_chief(strategy),
              flush=True)
        return strategy

    distribute.get_strategy = get_strategy
    from skin_segmentation.cli import main

    sys.exit(main(["train", "--model", "unet", "--data", data_dir, "--profile", profile,
                   "--out", str(Path(out) / "run"), "--strategy", mode]))
    """
)
PROFILE = {
    "base": "tiny",
    "name": "distributed-test",
    "epochs": 2,
    "patience": 5,
    "batch_size": 4,
    "pretrain_images": 20,
    "learning_rate": 0.05,
    "model_overrides": {"unet": {"filters": [4, 8, 16], "noise_stddev": 0.0, "dropout_rate": 0.0}},
}


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The job script, a folder of 20 synthetic 32x32 pairs and the profile file."""
    from PIL import Image

    root = tmp_path_factory.mktemp("job")
    rng = np.random.default_rng(0)
    for folder in ("images", "masks"):
        (root / "data" / folder).mkdir(parents=True)
    for index in range(20):
        image = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
        skin = (image[..., 0].astype(int) + image[..., 1] // 2) > 180
        Image.fromarray(image).save(root / "data" / "images" / f"pair{index:02d}.png")
        Image.fromarray((skin * 255).astype(np.uint8)).save(root / "data" / "masks" / f"pair{index:02d}.png")
    (root / "profile.json").write_text(json.dumps(PROFILE))
    (root / "job.py").write_text(JOB)
    return root


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tf_config=None):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("TF_CONFIG", None)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        CUDA_VISIBLE_DEVICES="-1",  # CPU workers, even on a GPU machine
        TF_CPP_MIN_LOG_LEVEL="3",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


def _run_jobs(job, jobs):
    """Start every `(mode, out_dir, env)` job at once; wait for all within the timeout."""
    processes = [
        subprocess.Popen(
            [sys.executable, str(job / "job.py"), mode, str(job / "data"),
             str(job / "profile.json"), str(out_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for mode, out_dir, env in jobs
    ]
    outputs = []
    try:
        for process in processes:
            output, _ = process.communicate(timeout=TIMEOUT_S)
            outputs.append(output)
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
            process.communicate()
        pytest.fail(f"distributed training did not finish within {TIMEOUT_S} s")
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-4000:]
    return outputs


def _trained(run_dir):
    """Final weights and history of a run folder written by `skinseg train`."""
    import pandas as pd

    model = keras.models.load_model(run_dir / "model.keras", compile=False)
    return model.get_weights(), pd.read_csv(run_dir / "history.csv")


@pytest.fixture(scope="module")
def single_process(job, tmp_path_factory):
    """The reference: the same `skinseg train` in one process, batch 4."""
    out_dir = tmp_path_factory.mktemp("single")
    _run_jobs(job, [("default", out_dir, _environment())])
    return _trained(out_dir / "run")


def _assert_same_training(run_dir, single_process, history_atol=1e-5, weights_atol=1e-5):
    reference_weights, reference_history = single_process
    weights, history = _trained(run_dir)
    assert len(weights) == len(reference_weights)
    for ours, theirs in zip(weights, reference_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=weights_atol)
    for column in ("loss", "val_loss", "jaccard", "val_jaccard"):
        np.testing.assert_allclose(history[column], reference_history[column], atol=history_atol)
    assert len(history) == 2
    return weights


@pytest.mark.slow
def test_two_cpu_workers_train_like_one_process(job, tmp_path, single_process):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    jobs = []
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        jobs.append(("multi_worker", tmp_path, _environment(tf_config)))
    outputs = _run_jobs(job, jobs)
    assert "replicas 2 chief True" in outputs[0]
    assert "replicas 2 chief False" in outputs[1]
    run = tmp_path / "run"
    chief = _assert_same_training(run, single_process)
    assert (run / "splits.json").is_file()
    # The other worker wrote its own copy, never the chief's files, and ended with
    # the very same weights: the training is synchronous.
    worker_run = run / ".worker-worker-1"
    assert not (worker_run / "splits.json").exists()
    worker, _ = _trained(worker_run)
    for ours, theirs in zip(worker, chief):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.slow
def test_mirrored_over_two_devices_trains_like_one(job, tmp_path, single_process):
    outputs = _run_jobs(job, [("mirrored_2cpu", tmp_path, _environment())])
    assert "replicas 2 chief True" in outputs[0]
    # Under a strategy Keras' Model.fit draws one batch before training (to build
    # the model), which shifts the seeded shuffle by one epoch's order: the same
    # data and steps in another order, so close rather than equal. (A gradient
    # not averaged over the two replicas, i.e. twice the step, is 0.01 off; the other
    # order alone has been measured up to 0.0031 off.)
    _assert_same_training(tmp_path / "run", single_process, history_atol=5e-3, weights_atol=1e-2)


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "not set"),
        ("{not json", "not valid JSON"),
        ('{"cluster": {}, "task": {"type": "worker", "index": 0}}', '"worker" list'),
        ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
         "host:port"),
        ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "ps", "index": 0}}', '"type"'),
        ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
         "from 0 to 1"),
    ],
)
def test_malformed_tf_config_is_named_with_its_value(value, message):
    environ = {} if value is None else {"TF_CONFIG": value}
    with pytest.raises(ValueError, match=message) as info:
        distribute.read_tf_config(environ)
    assert "TF_CONFIG" in str(info.value)
    assert "Received: TF_CONFIG=" in str(info.value)


def test_multi_worker_without_tf_config_is_a_value_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.get_strategy("multi_worker")


def test_unknown_strategy_shows_the_choices():
    with pytest.raises(ValueError, match="'gpus'.*default, mirrored, multi_worker"):
        distribute.get_strategy("gpus")


def test_single_process_is_chief_and_writes_its_folder(tmp_path):
    strategy = distribute.get_strategy("default")
    assert distribute.is_chief(strategy) and not distribute.is_multi_worker(strategy)
    assert distribute.worker_dir(tmp_path, strategy) == tmp_path
    assert distribute.worker_dir(tmp_path, None) == tmp_path


def test_precision_names(monkeypatch):
    assert precision.resolve_precision("mixed_float16") == "mixed_float16"
    with pytest.raises(ValueError, match="'half'"):
        precision.resolve_precision("half")
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: [(9, 0)])
    assert precision.resolve_precision("auto") == "mixed_float16"
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: [(6, 1)])
    assert precision.resolve_precision("auto") == "float32"  # no tensor cores
    # CPUs: bfloat16 where the CPU has it and a training step measured faster in it.
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: [])
    monkeypatch.setattr(precision, "cpu_bfloat16_speedup", lambda: 1.6)
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert precision.resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(precision, "cpu_bfloat16_speedup", lambda: 1.1)  # a Xeon measured 0.5
    assert precision.resolve_precision("auto") == "float32"
    monkeypatch.setattr(precision, "cpu_bfloat16_speedup", lambda: 1.6)
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})
    assert precision.resolve_precision("auto") == "float32"  # emulated bfloat16: not measured
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert precision.cpu_has_bfloat16()
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})
    assert not precision.cpu_has_bfloat16()
    # The names `distribute` offered before `precision` had a module of its own.
    assert distribute.resolve_precision is precision.resolve_precision


def test_bfloat16_speedup_is_measured_on_this_cpu():
    """The probe times real training steps: a positive, finite ratio, measured once."""
    speedup = precision.cpu_bfloat16_speedup()
    assert 0.05 < speedup < 20
    assert precision.cpu_bfloat16_speedup() == speedup
    assert keras.mixed_precision.global_policy().name == "float32"



@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_output_and_loss_in_float32(policy):
    from skin_segmentation.models import build_dense_residual_unet

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = build_dense_residual_unet((32, 32, 3), filters=(4, 8, 16), fc_units=8)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    compute = {layer.compute_dtype for layer in model.layers if layer.weights}
    assert policy.split("_")[1] in compute  # the body computes in 16 bits
    images = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    confidence = model(images, training=False)
    assert keras.backend.standardize_dtype(confidence.dtype) == "float32"
    loss = JaccardDistance()(np.ones((2, 32, 32, 1), "float32"), confidence)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
