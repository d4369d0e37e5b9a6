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
`--epoch` also trains two epochs of the paper profile per preset (its 2620 images:
2096 to train, 524 to validate) through `training.train` (a GPU's job) and reports
the second's seconds (the first includes tracing) beside the paper's.

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
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from skin_segmentation.benchmarking import (  # noqa: E402
    configurations,
    describe_machine,
    fmt,
    load,
    matmul_tflops,
    measure_group,
    measure_overheads,
    measure_pipeline,
    mixed_precision_for,
    paper_epoch,
    plan_for,
    precision_effect,
    print_report,
    write_results,
)

PRESETS = ("unet", "unet_large", "dense_residual_unet")


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
    """Every pair of `folders`."""
    from skin_segmentation.data import read_datasets

    return read_datasets([str(folder) for folder in folders])


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
                        help="also train paper-profile epochs (2096 + 524 validation images) per preset")
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


def matmul_rates(machine, plan):
    """This machine's matrix-multiply rate per dtype, the yardstick of every row."""
    import tensorflow as tf

    size = plan["matmul"] or (8192 if machine["gpu"] else 4096)
    dtypes = ["float32", "bfloat16"] + (["float16"] if machine["gpu"] else [])
    rates = {dtype: matmul_tflops(getattr(tf, dtype), size, plan["matmul_repeats"])
             for dtype in dtypes}
    print("Matrix multiply " + ", ".join(f"{d} {rates[d]:.3f} TFLOP/s" for d in dtypes)
          + f" ({size}x{size}; load {load()})", flush=True)
    return size, rates


def input_pipeline(pairs, plan):
    """Decoding and tf.data images/s on pairs drawn across every source."""
    count = plan["pipeline_pairs"] or len(pairs)
    pipeline_pairs = pairs[:: max(1, len(pairs) // count)][:count]  # every source, not the first
    pipeline = measure_pipeline(pipeline_pairs, plan["pipeline_batches"])
    print(f"Input pipeline: decoding {pipeline['decode_img_s']:.0f} img/s (once per process), "
          f"tf.data with augmentation {pipeline['pipeline_img_s']:.0f} img/s "
          f"({len(pipeline_pairs)} pairs; load {pipeline['pipeline_load_1min']})", flush=True)
    return pipeline


def preset_rows(args, mixed, plan, size, rates, pipeline, started):
    """One row per (preset, precision, XLA): training and inference speed."""
    rows = []
    groups = {}
    for preset, precision, xla in configurations(args, mixed):
        groups.setdefault(preset, []).append((precision, xla))
    with tempfile.TemporaryDirectory() as scratch:
        for preset, configs in groups.items():
            checkpoint_dir = scratch if args.save else None
            for row in measure_group(preset, configs, plan, size, checkpoint_dir):
                row.update({f"matmul_{d}_start_tflop_s": rate for d, rate in rates.items()})
                row.update(pipeline)
                rows.append(row)
                print(f"  {preset} {row['precision']} {fmt(row['xla'])}: {row['train_img_s']:.2f} "
                      f"train img/s, {row['infer_img_s']:.1f} infer img/s, "
                      f"{row['latency_ms']:.0f} ms/image (load {row['load_1min']}, "
                      f"{time.perf_counter() - started:.0f} s so far)", flush=True)
    return rows


def precision_effect_rows(args, mixed):
    """A small U-Net trained in float32 and in mixed precision: what the speed costs."""
    if not (args.precision_effect if args.precision_effect is not None else not args.quick):
        return []
    folders = args.data or default_pool()
    target = next((f for f in folders if Path(f).name == "abdomen"), None) or folders[0]
    precisions = ["float32", mixed] if mixed != "float32" else ["float32"]
    with tempfile.TemporaryDirectory() as scratch:
        effect = precision_effect(target, precisions, args.precision_epochs, scratch)
    for row in effect:
        print(f"  small U-Net {row['precision']}: val Jaccard {row['val_jaccard_best']:.3f} "
              f"(best epoch {row['best_epoch']}), {row['seconds_per_epoch']:.1f} s/epoch "
              f"(load {row['load_1min']})", flush=True)
    return effect


def paper_epoch_rows(args, pairs):
    """With `--epoch`: a timed paper-profile epoch per preset and precision."""
    epochs = []
    if not args.epoch:
        return epochs
    with tempfile.TemporaryDirectory() as scratch:
        for preset in args.presets:
            for precision in dict.fromkeys(["float32", *args.epoch_precisions]):
                epochs.append(paper_epoch(preset, pairs, precision, scratch))
                print(f"  paper epoch of {preset} ({precision}): {epochs[-1]['epoch_s']:.0f} s "
                      f"(load {epochs[-1]['load_1min']})", flush=True)
    return epochs


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    machine = describe_machine()
    mixed = mixed_precision_for(machine, args.precision)
    plan = plan_for(args)
    tag = "gpu" if machine["gpu"] else "cpu"
    out = Path(args.out)
    print(f"Machine: {machine['device']}; CPU {machine['cpu_model']}, {machine['cores']} cores; "
          f"TensorFlow {machine['tf_version']}, Keras {machine['keras_version']}; "
          f"native bfloat16 on CPU: {machine['native_bfloat16']}; load {load()}", flush=True)

    size, rates = matmul_rates(machine, plan)
    pairs = read_pool(args.data or default_pool())
    pipeline = input_pipeline(pairs, plan)
    rows = preset_rows(args, mixed, plan, size, rates, pipeline, started)
    first = next(r for r in rows if r["preset"] == args.presets[0] and r["precision"] == "float32"
                 and not r["xla"])
    overheads = measure_overheads(args.presets[0], "float32", plan, first["train_step_s"],
                                  pipeline["decode_img_s"],
                                  {r["preset"]: r["checkpoint_save_s"] for r in rows
                                   if r["checkpoint_save_s"] is not None})
    effect = precision_effect_rows(args, mixed)
    epochs = paper_epoch_rows(args, pairs)

    print_report(machine, rates, pipeline, rows, overheads, effect, epochs)
    write_results(out, tag, machine, rows, overheads, effect, epochs)
    print(f"\nWrote {out / f'benchmark_{tag}.csv'} and {out / f'overheads_{tag}.csv'} "
          f"in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
