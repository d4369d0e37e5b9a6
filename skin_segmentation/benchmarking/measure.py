"""Measurements: the rows of the benchmark's tables (speed, overheads, paper epochs, precision).

Each function builds what it times, measures it with `timing`, and returns
plain dicts, one per table row, with the load average they were taken under.
"""

import statistics
import time
from pathlib import Path

from skin_segmentation.benchmarking.timing import (
    BATCH_SIZE,
    COMPUTE_DTYPE,
    MatmulProbe,
    build_compiled,
    forward_flops,
    fresh_session,
    load,
    synthetic_batch,
    time_decoding,
    time_pipeline,
    timed,
)
from skin_segmentation.models import (
    PAPER_EPOCH_IMAGES,
    PAPER_EPOCH_TRAIN_IMAGES,
    PAPER_EPOCH_VALIDATION_IMAGES,
)


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
    if checkpoint_dir is not None:  # what training writes after every epoch
        path = Path(checkpoint_dir) / f"{preset}.keras"
        start = time.perf_counter()
        entries[0]["model"].save(path)
        save_s = time.perf_counter() - start
        path.unlink()

    return _group_rows(preset, entries, flops, parameters, save_s)


def _share(samples, flops_per_call):
    """Median over timed calls of (the call's FLOP rate / the matmul rate measured before it)."""
    return statistics.median(flops_per_call / seconds / 1e12 / rate for seconds, rate in samples)


def _group_rows(preset, entries, flops, parameters, save_s):
    """One table row per configuration measured by `measure_group`."""
    rows = []
    for entry in entries:
        step = statistics.median(seconds for seconds, _ in entry["train"])
        infer = statistics.median(seconds for seconds, _ in entry["infer"])
        train_img_s = BATCH_SIZE / step
        infer_img_s = BATCH_SIZE / infer
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
            "infer_img_s": infer_img_s,
            "latency_ms": 1000 * statistics.median(seconds for seconds, _ in entry["latency"]),
            "gflop_per_image": flops / 1e9,
            "train_tflop_s": 3 * flops * train_img_s / 1e12,
            "train_share": _share(entry["train"], 3 * flops * BATCH_SIZE),
            "infer_share": _share(entry["infer"], flops * BATCH_SIZE),
            "matmul_tflop_s": statistics.median(rate for _, rate in entry["train"]),
            # One paper epoch: its 2096 training images, then its 524 validation ones.
            "epoch_s_projected": (PAPER_EPOCH_TRAIN_IMAGES / train_img_s
                                  + PAPER_EPOCH_VALIDATION_IMAGES / infer_img_s),
            "checkpoint_save_s": save_s if entry is entries[0] else None,
            "timed_steps": entry["repeats"],
            "load_1min": load(),
        })
    return rows



def measure_pipeline(pairs, batches):
    """Decoding and tf.data images/s (as `experiments/benchmark_pipeline.py` measures them)."""
    return {
        "decode_img_s": time_decoding(pairs),
        "pipeline_img_s": time_pipeline(pairs, "tf", batches),
        "pipeline_pairs": len(pairs),
        "pipeline_load_1min": load(),
    }



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

    steps = -(-PAPER_EPOCH_TRAIN_IMAGES // BATCH_SIZE)
    epoch_s = steps * train_step_s
    rows.append({
        "what": "network arithmetic: training steps of one paper epoch", "seconds": epoch_s,
        "waste_s": 0.0, "per": "epoch", "load_1min": load(),
    })
    for name, save_s in saves.items():  # training writes one after every epoch
        rows.append({
            "what": f"checkpoint of {name} (.keras with optimizer), after every epoch",
            "seconds": save_s, "waste_s": save_s, "per": "epoch", "load_1min": load(),
        })
    if decode_img_s:
        rows.append({
            "what": f"decoding {PAPER_EPOCH_IMAGES} photographs (Pillow, once per process)",
            "seconds": PAPER_EPOCH_IMAGES / decode_img_s,
            "waste_s": PAPER_EPOCH_IMAGES / decode_img_s, "per": "run", "load_1min": load(),
        })
    return rows



def paper_epoch(preset, pairs, precision, out_root, epochs=2):
    """Seconds per paper-profile epoch: 2096 training images, then 524 to validate.

    The paper's epoch is its 2620-image pool with the 20% validation split held
    out (`models.PAPER_EPOCH_IMAGES`). Two epochs through `training.train`: the
    first includes tracing (and XLA compilation where Keras turns it on), the
    second is the steady figure.
    """
    from skin_segmentation.profiles import get_profile
    from skin_segmentation.training import train

    cycled = [pairs[i % len(pairs)] for i in range(PAPER_EPOCH_IMAGES)]
    profile = get_profile("paper").replace(epochs=epochs, patience=epochs, precision=precision)
    fresh_session()
    result = train(
        preset, cycled[:PAPER_EPOCH_TRAIN_IMAGES], cycled[PAPER_EPOCH_TRAIN_IMAGES:],
        Path(out_root) / f"{preset}-{precision}", profile, verbose=0,
    )
    seconds = [float(value) for value in result.history["seconds"]]
    return {"preset": preset, "precision": precision, "epoch_s": seconds[-1],
            "first_epoch_s": seconds[0], "epochs": len(seconds),
            "train_images": PAPER_EPOCH_TRAIN_IMAGES,
            "validation_images": PAPER_EPOCH_VALIDATION_IMAGES,
            "distinct_pairs": min(len(pairs), PAPER_EPOCH_IMAGES), "load_1min": load()}


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

