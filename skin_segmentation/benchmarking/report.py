"""Plan and report: which configurations the benchmark measures, and its tables and CSV files."""

import csv

from skin_segmentation.benchmarking.timing import BATCH_SIZE, IMAGE_SIZE
from skin_segmentation.models import PRESETS


def plan_for(args):
    if args.quick:
        return {"steps": (1, 3), "xla_steps": (1, 2), "infer": (1, 3), "latency": (2, 7),
                "matmul": 2048, "matmul_repeats": 3, "pipeline_pairs": 64, "pipeline_batches": 20}
    return {"steps": (2, 10), "xla_steps": (2, 5), "infer": (2, 10), "latency": (3, 30),
            "matmul": None, "matmul_repeats": 7, "pipeline_pairs": None, "pipeline_batches": 100}


def mixed_precision_for(machine, requested):
    """The mixed-precision row's policy: the device's 16-bit format, or `requested`."""
    if requested != "auto":
        from skin_segmentation import precision

        return precision.resolve_precision(requested)
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
              "epoch s (2620: 2096 + 524 val, projected)", "load"]
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
    """Write the benchmark rows, each with the machine's columns, to `path` (atomically)."""
    from skin_segmentation.atomic_files import atomic_path

    machine_columns = {key: machine[key] for key in ("cpu_model", "cores", "tf_version",
                                                     "keras_version", "device", "date")}
    records = [{**row, **machine_columns} for row in rows]
    columns = list(dict.fromkeys(key for record in records for key in record))
    with atomic_path(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for record in records:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in record.items()})


def print_report(machine, rates, pipeline, rows, overheads, effect=(), epochs=()):
    """Print the benchmark's Markdown tables: speed, overheads, precision effect, paper epochs."""
    dtypes = list(rates)
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
        print()
        print("| preset | precision | s/epoch (2nd epoch) | 1st epoch (with tracing) | paper |"
              " device |")
        print("|---|---|---|---|---|---|")
        for row in epochs:
            print(f"| {row['preset']} | {row['precision']} | {row['epoch_s']:.0f} | "
                  f"{row['first_epoch_s']:.0f} | {PRESETS[row['preset']].paper.seconds_per_epoch} | "
                  f"{machine['device']} |")


def write_results(out, tag, machine, rows, overheads, effect=(), epochs=()):
    """Write `benchmark_<tag>.csv`, `overheads_<tag>.csv` and, when measured, the other two."""
    write_csv(out / f"benchmark_{tag}.csv", rows, machine)
    write_csv(out / f"overheads_{tag}.csv", overheads, machine)
    if epochs:
        write_csv(out / f"epochs_{tag}.csv", epochs, machine)
    if effect:
        write_csv(out / f"precision_effect_{tag}.csv", effect, machine)
