"""Is the input pipeline what limits training? Images per second of each, on this machine.

Measures, on the shipped sample's 400 abdominal pairs (or --data DIR):
- decoding: Pillow decode + resize to 128x128 of every pair (once per process);
- the tf.data pipeline alone (shuffle, augmentation, standardization, batches of
  16, prefetch) without augmentation, with the "tf" backend and, when imgaug is
  importable, with the "imgaug" backend;
- one training step of the paper's U-Net (7.8M parameters) at batch 16, SGD with
  momentum 0.9 and the Jaccard distance, 1 warm-up step then 3 timed.

    python experiments/benchmark_pipeline.py [--quick] [--data DIR] [--json OUT]
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from skin_segmentation.benchmarking import BATCH_SIZE, IMAGE_SIZE, time_decoding, time_pipeline  # noqa: E402
from skin_segmentation.data import read_dataset, sample_datasets  # noqa: E402
from skin_segmentation.data.augment import import_imgaug  # noqa: E402


def time_unet_step(steps, warmup=1):
    import keras

    from skin_segmentation.losses import JaccardDistance
    from skin_segmentation.models import build_model

    model = build_model("unet", input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss=JaccardDistance())
    rng = np.random.default_rng(0)
    images = rng.normal(size=(BATCH_SIZE, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    masks = (rng.random((BATCH_SIZE, IMAGE_SIZE, IMAGE_SIZE, 1)) > 0.5).astype("float32")
    for _ in range(warmup):
        model.train_on_batch(images, masks)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, masks)
    return steps * BATCH_SIZE / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and training steps")
    parser.add_argument("--data", default=None, help="dataset folder (default: the shipped sample's target)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    pairs = read_dataset(args.data or sample_datasets()[1])
    batches = 20 if args.quick else 100
    steps = 2 if args.quick else 3
    try:
        import_imgaug()
        backends = [None, "tf", "imgaug"]
    except ImportError:
        backends = [None, "tf"]

    rows = [("decode + resize (once, Pillow)", time_decoding(pairs))]
    for augment in backends:
        label = f"pipeline, augment={augment or 'none'}"
        rows.append((label, time_pipeline(pairs, augment, batches)))
    unet = time_unet_step(steps)
    rows.append(("U-Net training step, batch 16", unet))

    print(f"{len(pairs)} pairs at {IMAGE_SIZE}x{IMAGE_SIZE}, batch {BATCH_SIZE}; "
          f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, numpy {np.__version__}, "
          f"{platform.machine()}")
    if "imgaug" not in backends:
        print("imgaug not importable here: pip install -e .[imgaug] (numpy < 2) to time it")
    print(f"| {'what':<34} | {'images/s':>9} | {'x U-Net step':>12} |")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 14}|")
    for label, rate in rows:
        print(f"| {label:<34} | {rate:>9.1f} | {rate / unet:>12.1f} |")
    slowest_pipeline = min(rate for label, rate in rows if label.startswith("pipeline"))
    verdict = "does not limit" if slowest_pipeline > unet else "LIMITS"
    print(f"The slowest pipeline setting runs {slowest_pipeline / unet:.0f}x faster than training: "
          f"the input pipeline {verdict} training.")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"pairs": len(pairs), "images_per_second": dict(rows),
                       "cpu_count": os.cpu_count(), "tensorflow": tf.__version__}, handle, indent=1)
    return 0 if slowest_pipeline > unet else 1


if __name__ == "__main__":
    sys.exit(main())
