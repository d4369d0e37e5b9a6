"""What training and inference cost on this machine: one table, written as CSV.

For each preset (and each speed option asked for) at the paper's 128x128, batch 16:

- training images/s: median of timed SGD steps (`train_on_batch`: the paper's SGD
  with momentum 0.9 on the Jaccard distance, with its metrics) after warm-up;
- inference images/s at batch 16 and single-image latency (`predict_on_batch`,
  the call `skinseg evaluate` and `predict` make), medians after warm-up;
- forward FLOPs per image, counted from the layers (2 x multiply-adds of every
  convolution, transposed convolution and dense layer; training = 3 x forward);
- the achieved share of this machine's matrix-multiply rate, measured in the same
  run: every timed call is preceded by four chained 2048x2048 (GPU: 8192) `tf.matmul`s
  in the row's compute dtype (float32, bfloat16, float16), and the share is the
  median over calls of (the call's FLOP rate / that matmul's rate), so that both
  see the same load on a shared machine;
- the input pipeline's images/s (`experiments/benchmark_pipeline.py`'s
  measurements: Pillow decoding once, then the tf.data pipeline with augmentation);
- where time is lost besides the network's arithmetic (`overheads`): Keras call
  paths for one image, retracing on a new batch size, checkpoint writing, decoding.

The device is detected: on a GPU the mixed-precision row is `mixed_float16`, on a
CPU with bfloat16 instructions (AVX512-BF16, AMX) `mixed_bfloat16`; the XLA rows
use `jit_compile=True`. `--precision-effect` (on by default without `--quick`)
trains a small U-Net in float32 and in that mixed precision with the same seed
and data and reports both validation Jaccards and their speeds.
`--epoch` also trains two epochs of the paper profile over 2620 images per preset
through `training.train` (a GPU's job) and reports the second's seconds (the first
includes tracing) beside the paper's.

    python experiments/benchmark.py --quick          # < 10 min on a 2-core CPU
    python experiments/benchmark.py                  # every option on every preset
    python experiments/benchmark.py --epoch          # + paper epochs per preset

The configurations of one preset (float32, mixed precision, XLA) are timed in
turn, one step of each, so that they are compared under the same load.

`--quick` times 1 warm-up + 3 steps (XLA: 1 + 2) instead of 2 + 10, measures the
speed options (XLA, mixed precision) on `unet` only, decodes 64 pairs for the
pipeline figure and uses a 2048-wide matmul (4096 without it on a CPU). Every
figure on a shared machine moves with its load: the 1-minute load average is
written beside each row.
"""

import argparse
import csv
import datetime
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

PRESETS = ("unet", "unet_large", "dense_residual_unet")
PAPER_IMAGES_PER_EPOCH = 2620
BATCH_SIZE = 16
IMAGE_SIZE = 128


# --------------------------------------------------------------------------- machine


def describe_machine():
    """CPU model, cores, TensorFlow/Keras versions and the device that computes."""
    import keras
    import tensorflow as tf

    from skin_segmentation import distribute
    from skin_segmentation.training import cpu_model_and_cores

    cpu_model, cores = cpu_model_and_cores()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"{len(gpus)} x GPU {details.get('device_name', gpus[0].name)}"
    else:
        device = f"CPU ({cores} cores)"
    return {
        "cpu_model": cpu_model,
        "cores": cores,
        "tf_version": tf.__version__,
        "keras_version": keras.__version__,
        "device": device,
        "gpu": bool(gpus),
        "native_bfloat16": distribute.cpu_has_bfloat16(),
        "python": platform.python_version(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def load():
    return round(os.getloadavg()[0], 2)


# --------------------------------------------------------------------------- FLOPs


def forward_flops(model):
    """Floating-point operations of one image's forward pass, counted from the layers.

    2 x multiply-adds of every `Conv2D`, `Conv2DTranspose` and `Dense` layer
    (biases, activations, pooling, concatenations and additions are left out:
    under 1% here). Shapes come from the functional graph, batch excluded.

    Example:
    >>> import keras
    >>> inputs = keras.Input((8, 8, 3))
    >>> model = keras.Model(inputs, keras.layers.Conv2D(4, 3, padding="same")(inputs))
    >>> forward_flops(model)  # 2 * 8 * 8 * (3 * 3 * 3) * 4
    13824
    """
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
            continue
        kind = type(layer).__name__
        if kind not in ("Conv2D", "Conv2DTranspose", "Dense"):
            continue
        in_shape = layer.input.shape
        out_shape = layer.output.shape
        if kind == "Dense":
            macs = in_shape[-1] * layer.units
        else:
            kernel_h, kernel_w = layer.kernel_size
            per_position = kernel_h * kernel_w * in_shape[-1] * layer.filters
            # A convolution computes per output position, a transposed one per input position.
            positions = out_shape[1] * out_shape[2] if kind == "Conv2D" else in_shape[1] * in_shape[2]
            macs = positions * per_position
        total += 2 * int(macs)
    return total


# --------------------------------------------------------------------------- timing


def timed(fn, warmup, repeats):
    """`(seconds of the first call, [seconds of each timed call])`; fn must block."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    for _ in range(max(0, warmup - 1)):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, times


class MatmulProbe:
    """Times `chain` chained `size` x `size` matrix multiplies in `dtype`: TFLOP/s."""

    def __init__(self, dtype, size, chain=4):
        import tensorflow as tf

        self.flops = chain * 2 * size**3
        a = tf.cast(tf.random.normal((size, size), seed=1), dtype)
        b = tf.cast(tf.random.normal((size, size), seed=2) / size**0.5, dtype)

        @tf.function
        def run():
            c = a
            for _ in range(chain):
                c = tf.matmul(c, b)
            return tf.reduce_sum(tf.cast(c[:1], tf.float32))

        self._run = run
        run().numpy()  # trace and warm up

    def __call__(self):
        start = time.perf_counter()
        self._run().numpy()
        return self.flops / (time.perf_counter() - start) / 1e12


def matmul_tflops(dtype, size, repeats):
    """The machine's matrix-multiply rate in `dtype`: the best of `repeats` runs."""
    probe = MatmulProbe(dtype, size)
    return max(probe() for _ in range(repeats))


COMPUTE_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def synthetic_batch(batch_size, seed=0):
    """Standardized-looking images and {0, 1} masks as tensors on the device."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    images = rng.normal(size=(batch_size, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    masks = (images[..., :1] + 0.3 * rng.normal(size=images[..., :1].shape) > 0).astype("float32")
    return tf.constant(images), tf.constant(masks)


def build_compiled(preset, precision, xla):
    from skin_segmentation.models import build_model
    from skin_segmentation.training import compile_model, dtype_policy_scope

    with dtype_policy_scope(precision):
        model = build_model(preset, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3))
        compile_model(model, learning_rate=0.01)
    model.jit_compile = xla
    return model


def fresh_session():
    """Free the models measured before (one 150M model holds ~2 GB with its optimizer)."""
    import keras

    keras.backend.clear_session()
    gc.collect()


def measure_group(preset, configs, plan, matmul_size, checkpoint_dir):
    """Rows of the table for one preset's `(precision, xla)` configurations.

    The configurations' timed calls are interleaved (one step of each in turn),
    and each timed call is preceded by one matmul probe in its compute dtype,
    so that a change of load on a shared machine hits every option alike and
    every share of the matmul rate is taken under the load of its own step.
    """
    import tensorflow as tf

    fresh_session()
    images, masks = synthetic_batch(BATCH_SIZE)
    single = images[:1]
    probes = {}
    entries = []
    for precision, xla in configs:
        dtype = COMPUTE_DTYPE[precision]
        if dtype not in probes:
            probes[dtype] = MatmulProbe(getattr(tf, dtype), matmul_size)
        model = build_compiled(preset, precision, xla)
        warmup, repeats = plan["xla_steps"] if xla else plan["steps"]
        first, _ = timed(lambda: model.train_on_batch(images, masks), warmup, 0)
        model.predict_on_batch(images)
        model.predict_on_batch(single)
        entries.append({"precision": precision, "xla": xla, "model": model, "probe": probes[dtype],
                        "repeats": repeats, "first": first, "train": [], "infer": [],
                        "latency": []})

    def interleave(key, call, repeats_of):
        for round_ in range(max(repeats_of(entry) for entry in entries)):
            for entry in entries:
                if round_ < repeats_of(entry):
                    rate = entry["probe"]()
                    start = time.perf_counter()
                    call(entry["model"])
                    entry[key].append((time.perf_counter() - start, rate))

    interleave("train", lambda m: m.train_on_batch(images, masks), lambda e: e["repeats"])
    interleave("infer", lambda m: m.predict_on_batch(images), lambda e: plan["infer"][1])
    interleave("latency", lambda m: m.predict_on_batch(single), lambda e: plan["latency"][1])

    flops = forward_flops(entries[0]["model"])
    parameters = entries[0]["model"].count_params()
    save_s = None
    if checkpoint_dir is not None:  # what training.py writes after every epoch
        path = Path(checkpoint_dir) / f"{preset}.keras"
        start = time.perf_counter()
        entries[0]["model"].save(path)
        save_s = time.perf_counter() - start
        path.unlink()

    def share(samples, flops_per_call):
        return statistics.median(flops_per_call / seconds / 1e12 / rate for seconds, rate in samples)

    rows = []
    for entry in entries:
        step = statistics.median(seconds for seconds, _ in entry["train"])
        infer = statistics.median(seconds for seconds, _ in entry["infer"])
        train_img_s = BATCH_SIZE / step
        rows.append({
            "preset": preset,
            "parameters": parameters,
            "precision": entry["precision"],
            "xla": entry["xla"],
            "batch": BATCH_SIZE,
            "train_img_s": train_img_s,
            "train_step_s": step,
            "train_step_min_s": min(seconds for seconds, _ in entry["train"]),
            "first_step_s": entry["first"],
            "infer_img_s": BATCH_SIZE / infer,
            "latency_ms": 1000 * statistics.median(seconds for seconds, _ in entry["latency"]),
            "gflop_per_image": flops / 1e9,
            "train_tflop_s": 3 * flops * train_img_s / 1e12,
            "train_share": share(entry["train"], 3 * flops * BATCH_SIZE),
            "infer_share": share(entry["infer"], flops * BATCH_SIZE),
            "matmul_tflop_s": statistics.median(rate for _, rate in entry["train"]),
            "epoch_s_projected": PAPER_IMAGES_PER_EPOCH / train_img_s,
            "checkpoint_save_s": save_s if entry is entries[0] else None,
            "timed_steps": entry["repeats"],
            "load_1min": load(),
        })
    return rows


# --------------------------------------------------------------------------- data


def default_pool():
    """`../shared/data`'s folders when present, else the shipped sample's."""
    shared = REPO.parent / "shared" / "data"
    names = ("abdomen", "sfa", "fasseg", "hgr_subset")
    folders = [shared / name for name in names if (shared / name / "images").is_dir()]
    if folders:
        return folders
    from skin_segmentation.data import sample_datasets

    pretrain, target = sample_datasets()
    return [target, *pretrain]


def read_pool(folders):
    from skin_segmentation.data import read_datasets

    return read_datasets([str(folder) for folder in folders])


def measure_pipeline(pairs, batches):
    """Decoding and tf.data images/s (benchmark_pipeline's measurements)."""
    from benchmark_pipeline import time_decoding, time_pipeline

    return {
        "decode_img_s": time_decoding(pairs),
        "pipeline_img_s": time_pipeline(pairs, "tf", batches),
        "pipeline_pairs": len(pairs),
        "pipeline_load_1min": load(),
    }


# --------------------------------------------------------------------------- overheads


def measure_overheads(preset, precision, plan, train_step_s, decode_img_s, saves):
    """Costs outside the network's arithmetic, each as seconds per paper epoch or call."""
    import tensorflow as tf

    fresh_session()
    images, _ = synthetic_batch(BATCH_SIZE)
    single = images[:1].numpy()
    model = build_compiled(preset, precision, xla=False)
    rows = []

    warmup, repeats = plan["latency"]
    _, predict_times = timed(lambda: model.predict(single, verbose=0), warmup, repeats)
    _, on_batch_times = timed(lambda: model.predict_on_batch(single), warmup, repeats)
    serve = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    _, function_times = timed(lambda: serve(single).numpy(), warmup, repeats)
    best = min(map(statistics.median, (predict_times, on_batch_times, function_times)))
    for label, times in (
        ("one image: model.predict", predict_times),
        ("one image: model.predict_on_batch", on_batch_times),
        ("one image: tf.function(model)", function_times),
    ):
        rows.append({
            "what": label, "seconds": statistics.median(times),
            "waste_s": statistics.median(times) - best, "per": "call", "load_1min": load(),
        })

    # A batch size not seen before: predict_on_batch traces the graph again
    # (once; later sizes reuse a shape-relaxed trace).
    for size in (5, 11):
        start = time.perf_counter()
        model.predict_on_batch(images[:size])
        first = time.perf_counter() - start
        _, again = timed(lambda: model.predict_on_batch(images[:size]), 1, 2)
        rows.append({
            "what": f"predict_on_batch, first call at batch {size} (retrace)", "seconds": first,
            "waste_s": first - statistics.median(again), "per": "new batch size", "load_1min": load(),
        })

    steps = -(-PAPER_IMAGES_PER_EPOCH // BATCH_SIZE)
    epoch_s = steps * train_step_s
    rows.append({
        "what": "network arithmetic: training steps of one paper epoch", "seconds": epoch_s,
        "waste_s": 0.0, "per": "epoch", "load_1min": load(),
    })
    for name, save_s in saves.items():  # training.py writes one after every epoch
        rows.append({
            "what": f"checkpoint of {name} (.keras with optimizer), after every epoch",
            "seconds": save_s, "waste_s": save_s, "per": "epoch", "load_1min": load(),
        })
    if decode_img_s:
        rows.append({
            "what": f"decoding {PAPER_IMAGES_PER_EPOCH} photographs (Pillow, once per process)",
            "seconds": PAPER_IMAGES_PER_EPOCH / decode_img_s,
            "waste_s": PAPER_IMAGES_PER_EPOCH / decode_img_s, "per": "run", "load_1min": load(),
        })
    return rows


# --------------------------------------------------------------------------- one paper epoch


def paper_epoch(preset, pairs, precision, out_root, epochs=2):
    """Seconds per paper-profile epoch over 2620 training images (+655 validation).

    Two epochs through `training.train`: the first includes tracing (and XLA
    compilation where Keras turns it on), the second is the steady figure.
    """
    from skin_segmentation.profiles import get_profile
    from skin_segmentation.training import train

    validation_count = PAPER_IMAGES_PER_EPOCH // 4  # the paper's 80/20 split
    needed = PAPER_IMAGES_PER_EPOCH + validation_count
    cycled = [pairs[i % len(pairs)] for i in range(needed)]
    profile = get_profile("paper").replace(epochs=epochs, patience=epochs, precision=precision)
    fresh_session()
    result = train(
        preset, cycled[:PAPER_IMAGES_PER_EPOCH], cycled[PAPER_IMAGES_PER_EPOCH:],
        Path(out_root) / f"{preset}-{precision}", profile, verbose=0,
    )
    seconds = [float(value) for value in result.history["seconds"]]
    return {"preset": preset, "precision": precision, "epoch_s": seconds[-1],
            "first_epoch_s": seconds[0], "epochs": len(seconds),
            "train_images": PAPER_IMAGES_PER_EPOCH, "validation_images": validation_count,
            "distinct_pairs": min(len(pairs), needed), "load_1min": load()}


# --------------------------------------------------------------------------- precision and Jaccard


def precision_effect(target_dir, precisions, epochs, out_root, pairs_used=300):
    """Train a small U-Net once per precision, same data and seed; Jaccard and speed.

    The U-Net has filters (8, 16, 32, 64) at 64x64 (the quick profile's size);
    `pairs_used` target pairs are split 80/20 with seed 0; augmentation "tf".
    """
    from skin_segmentation.data import read_dataset
    from skin_segmentation.data.splits import split_validation
    from skin_segmentation.profiles import get_profile
    from skin_segmentation.training import train

    pairs = sorted(read_dataset(str(target_dir)), key=lambda pair: pair.stem)[:pairs_used]
    train_pairs, validation_pairs = split_validation(pairs, fraction=0.2, seed=0)
    rows = []
    for precision in precisions:
        profile = get_profile("quick").replace(
            name="precision-effect", epochs=epochs, patience=epochs, image_size=64,
            precision=precision, seed=0, model_overrides={"unet": {"filters": (8, 16, 32, 64)}},
        )
        fresh_session()
        result = train("unet", train_pairs, validation_pairs, Path(out_root) / precision,
                       profile, verbose=0)
        best = result.history.iloc[result.best_epoch - 1]
        last = result.history.iloc[-1]
        rows.append({
            "precision": precision, "epochs": len(result.history), "best_epoch": result.best_epoch,
            "val_jaccard_best": float(best["val_jaccard"]), "val_loss_best": float(best["val_loss"]),
            "val_jaccard_last": float(last["val_jaccard"]),
            "seconds_per_epoch": result.seconds_per_epoch,
            "train_images": len(train_pairs), "validation_images": len(validation_pairs),
            "initial_weights_sha256": result.initial_weights_sha256[:12], "load_1min": load(),
        })
    return rows


# --------------------------------------------------------------------------- output


def plan_for(args):
    if args.quick:
        return {"steps": (1, 3), "xla_steps": (1, 2), "infer": (1, 3), "latency": (2, 7),
                "matmul": 2048, "matmul_repeats": 3, "pipeline_pairs": 64, "pipeline_batches": 20}
    return {"steps": (2, 10), "xla_steps": (2, 5), "infer": (2, 10), "latency": (3, 30),
            "matmul": None, "matmul_repeats": 7, "pipeline_pairs": None, "pipeline_batches": 100}


def mixed_precision_for(machine, requested):
    """The mixed-precision row's policy: the device's 16-bit format, or `requested`."""
    if requested != "auto":
        from skin_segmentation import distribute

        return distribute.resolve_precision(requested)
    if machine["gpu"]:
        return "mixed_float16"
    return "mixed_bfloat16" if machine["native_bfloat16"] else "float32"


def configurations(args, mixed):
    """(preset, precision, xla) rows to measure."""
    presets = args.presets
    rows = []
    for preset in presets:
        options = preset == presets[0] or not args.quick
        rows.append((preset, "float32", False))
        if options and mixed != "float32":
            rows.append((preset, mixed, False))
        if options and args.xla:
            rows.append((preset, "float32", True))
            if not args.quick and mixed != "float32":
                rows.append((preset, mixed, True))
    return rows


def fmt(value, digits=2):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "XLA" if value else "graph"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(rows):
    header = ["preset", "params", "precision", "mode", "train img/s", "step s", "infer img/s",
              "latency ms", "GFLOP/img", "train TFLOP/s", "% matmul (train)", "% matmul (infer)",
              "epoch s (2620, projected)", "load"]
    lines = [header]
    for row in rows:
        lines.append([
            row["preset"], f"{row['parameters'] / 1e6:.1f}M", row["precision"], fmt(row["xla"]),
            fmt(row["train_img_s"]), fmt(row["train_step_s"]), fmt(row["infer_img_s"]),
            fmt(row["latency_ms"], 0), fmt(row["gflop_per_image"], 1), fmt(row["train_tflop_s"], 3),
            f"{100 * row['train_share']:.0f}%", f"{100 * row['infer_share']:.0f}%",
            fmt(row["epoch_s_projected"], 0), fmt(row["load_1min"]),
        ])
    print("| " + " | ".join(lines[0]) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for line in lines[1:]:
        print("| " + " | ".join(line) + " |")


def write_csv(path, rows, machine):
    path.parent.mkdir(parents=True, exist_ok=True)
    machine_columns = {key: machine[key] for key in ("cpu_model", "cores", "tf_version",
                                                     "keras_version", "device", "date")}
    records = [{**row, **machine_columns} for row in rows]
    columns = list(dict.fromkeys(key for record in records for key in record))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for record in records:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in record.items()})


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer timed steps; speed options on the first preset only (<10 min CPU)")
    parser.add_argument("--presets", default=",".join(PRESETS),
                        type=lambda v: [p for p in v.split(",") if p])
    parser.add_argument("--precision", default="auto",
                        help="the mixed-precision row: auto (device's), mixed_bfloat16, "
                             "mixed_float16, or float32 for none")
    parser.add_argument("--no-xla", dest="xla", action="store_false", help="skip the XLA rows")
    parser.add_argument("--no-save", dest="save", action="store_false",
                        help="skip timing checkpoint writes")
    parser.add_argument("--data", default=None, type=lambda v: [p for p in v.split(",") if p],
                        help="DIR[,DIR...] for the pipeline and --epoch "
                             "(default: ../shared/data, else the shipped sample)")
    parser.add_argument("--precision-effect", dest="precision_effect", action="store_true",
                        default=None, help="train a small U-Net in float32 and mixed precision "
                        "and compare validation Jaccard (default: on without --quick)")
    parser.add_argument("--precision-epochs", type=int, default=8)
    parser.add_argument("--epoch", action="store_true",
                        help="also train paper-profile epochs (2620 images) per preset")
    parser.add_argument("--epoch-precisions", default=[], type=lambda v: [p for p in v.split(",") if p],
                        help="precisions besides float32 for --epoch, e.g. mixed_float16")
    parser.add_argument("--out", default=str(HERE / "results"),
                        help="folder for benchmark_<device>.csv, overheads_<device>.csv, "
                             "epochs_<device>.csv")
    args = parser.parse_args(argv)
    from skin_segmentation.models import PRESETS as KNOWN

    unknown = [p for p in args.presets if p not in KNOWN]
    if unknown or not args.presets:
        parser.error(f"unknown preset(s) {unknown}; choose from {', '.join(KNOWN)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    import tensorflow as tf

    machine = describe_machine()
    mixed = mixed_precision_for(machine, args.precision)
    plan = plan_for(args)
    tag = "gpu" if machine["gpu"] else "cpu"
    out = Path(args.out)
    print(f"Machine: {machine['device']}; CPU {machine['cpu_model']}, {machine['cores']} cores; "
          f"TensorFlow {machine['tf_version']}, Keras {machine['keras_version']}; "
          f"native bfloat16 on CPU: {machine['native_bfloat16']}; load {load()}", flush=True)

    size = plan["matmul"] or (8192 if machine["gpu"] else 4096)
    dtypes = ["float32", "bfloat16"] + (["float16"] if machine["gpu"] else [])
    rates = {}
    for dtype in dtypes:
        rates[dtype] = matmul_tflops(getattr(tf, dtype), size, plan["matmul_repeats"])
    print("Matrix multiply " + ", ".join(f"{d} {rates[d]:.3f} TFLOP/s" for d in dtypes)
          + f" ({size}x{size}; load {load()})", flush=True)

    pairs = read_pool(args.data or default_pool())
    count = plan["pipeline_pairs"] or len(pairs)
    pipeline_pairs = pairs[:: max(1, len(pairs) // count)][:count]  # every source, not the first
    pipeline = measure_pipeline(pipeline_pairs, plan["pipeline_batches"])
    print(f"Input pipeline: decoding {pipeline['decode_img_s']:.0f} img/s (once per process), "
          f"tf.data with augmentation {pipeline['pipeline_img_s']:.0f} img/s "
          f"({len(pipeline_pairs)} pairs; load {pipeline['pipeline_load_1min']})", flush=True)

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        groups = {}
        for preset, precision, xla in configurations(args, mixed):
            groups.setdefault(preset, []).append((precision, xla))
        for preset, configs in groups.items():
            checkpoint_dir = scratch if args.save else None
            for row in measure_group(preset, configs, plan, size, checkpoint_dir):
                row.update({f"matmul_{d}_start_tflop_s": rates[d] for d in dtypes})
                row.update(pipeline)
                rows.append(row)
                print(f"  {preset} {row['precision']} {fmt(row['xla'])}: {row['train_img_s']:.2f} "
                      f"train img/s, {row['infer_img_s']:.1f} infer img/s, "
                      f"{row['latency_ms']:.0f} ms/image (load {row['load_1min']}, "
                      f"{time.perf_counter() - started:.0f} s so far)", flush=True)

    first = next(r for r in rows if r["preset"] == args.presets[0] and r["precision"] == "float32"
                 and not r["xla"])
    overheads = measure_overheads(args.presets[0], "float32", plan, first["train_step_s"],
                                  pipeline["decode_img_s"],
                                  {r["preset"]: r["checkpoint_save_s"] for r in rows
                                   if r["checkpoint_save_s"] is not None})

    effect = []
    if args.precision_effect if args.precision_effect is not None else not args.quick:
        target = next((f for f in (args.data or default_pool()) if Path(f).name == "abdomen"),
                      None) or (args.data or default_pool())[0]
        with tempfile.TemporaryDirectory() as scratch:
            effect = precision_effect(target, ["float32", mixed] if mixed != "float32"
                                      else ["float32"], args.precision_epochs, scratch)
        for row in effect:
            print(f"  small U-Net {row['precision']}: val Jaccard {row['val_jaccard_best']:.3f} "
                  f"(best epoch {row['best_epoch']}), {row['seconds_per_epoch']:.1f} s/epoch "
                  f"(load {row['load_1min']})", flush=True)

    epochs = []
    if args.epoch:
        with tempfile.TemporaryDirectory() as scratch:
            for preset in args.presets:
                for precision in dict.fromkeys(["float32", *args.epoch_precisions]):
                    epochs.append(paper_epoch(preset, pairs, precision, scratch))
                    print(f"  paper epoch of {preset} ({precision}): {epochs[-1]['epoch_s']:.0f} s "
                          f"(load {epochs[-1]['load_1min']})", flush=True)

    print()
    print(f"Batch {BATCH_SIZE}, {IMAGE_SIZE}x{IMAGE_SIZE}, {machine['device']}, TF "
          f"{machine['tf_version']}; matmul {', '.join(f'{d} {rates[d]:.3f}' for d in dtypes)} "
          f"TFLOP/s; pipeline {pipeline['pipeline_img_s']:.0f} img/s (decode "
          f"{pipeline['decode_img_s']:.0f} img/s, once)")
    print_table(rows)
    print()
    print("Where time goes besides the network (unet, float32):")
    for row in overheads:
        print(f"  {row['what']:<62} {row['seconds']:>9.3f} s per {row['per']}"
              f"  (lost: {row['waste_s']:.3f} s; load {row['load_1min']})")
    if effect:
        print()
        print("Mixed precision and accuracy (U-Net 8-64 filters, 64x64, same seed and data):")
        print("| precision | val Jaccard (best epoch) | best epoch | val Jaccard (last) | s/epoch |"
              " speed vs float32 | load |")
        print("|---|---|---|---|---|---|---|")
        for row in effect:
            print(f"| {row['precision']} | {row['val_jaccard_best']:.4f} | {row['best_epoch']} | "
                  f"{row['val_jaccard_last']:.4f} | {row['seconds_per_epoch']:.1f} | "
                  f"{effect[0]['seconds_per_epoch'] / row['seconds_per_epoch']:.2f}x | "
                  f"{row['load_1min']} |")
    if epochs:
        from skin_segmentation.models import PRESETS as KNOWN

        print()
        print("| preset | precision | s/epoch (2nd epoch) | 1st epoch (with tracing) | paper |"
              " device |")
        print("|---|---|---|---|---|---|")
        for row in epochs:
            print(f"| {row['preset']} | {row['precision']} | {row['epoch_s']:.0f} | "
                  f"{row['first_epoch_s']:.0f} | {KNOWN[row['preset']].paper.seconds_per_epoch} | "
                  f"{machine['device']} |")

    write_csv(out / f"benchmark_{tag}.csv", rows, machine)
    write_csv(out / f"overheads_{tag}.csv", overheads, machine)
    if epochs:
        write_csv(out / f"epochs_{tag}.csv", epochs, machine)
    if effect:
        write_csv(out / f"precision_effect_{tag}.csv", effect, machine)
    print(f"\nWrote {out / f'benchmark_{tag}.csv'} and {out / f'overheads_{tag}.csv'} "
          f"in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
