"""Benchmarking: FLOP counts, call counting of the timer, the plan and the CSV, without timing."""

import argparse
import csv

import keras

from skin_segmentation.benchmarking import (
    configurations,
    fmt,
    forward_flops,
    mixed_precision_for,
    plan_for,
    timed,
    write_csv,
)


def test_benchmark_counts_flops_of_convolutions_and_dense_layers():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8*8 positions * 3*3*3 * 4
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2DTranspose(2, 2, strides=2)(x)  # 4*4 inputs * 2*2*4 * 2
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(5)(x)  # (8*8*2) * 5
    model = keras.Model(inputs, outputs)
    assert forward_flops(model) == 2 * (8 * 8 * 27 * 4 + 4 * 4 * 16 * 2 + 128 * 5)


def test_timed_calls_warmup_then_repeats():
    calls = []
    first, times = timed(lambda: calls.append(1), warmup=3, repeats=5)
    assert len(calls) == 3 + 5
    assert len(times) == 5 and first >= 0


def args(**overrides):
    values = dict(quick=False, presets=["unet", "unet_large"], xla=True)
    values.update(overrides)
    return argparse.Namespace(**values)


def test_configurations_measure_every_option_on_every_preset_without_quick():
    rows = configurations(args(), "mixed_bfloat16")
    assert rows == [
        ("unet", "float32", False), ("unet", "mixed_bfloat16", False),
        ("unet", "float32", True), ("unet", "mixed_bfloat16", True),
        ("unet_large", "float32", False), ("unet_large", "mixed_bfloat16", False),
        ("unet_large", "float32", True), ("unet_large", "mixed_bfloat16", True),
    ]


def test_quick_configurations_time_the_options_on_the_first_preset_only():
    rows = configurations(args(quick=True), "mixed_bfloat16")
    assert rows == [
        ("unet", "float32", False), ("unet", "mixed_bfloat16", False), ("unet", "float32", True),
        ("unet_large", "float32", False),
    ]
    assert configurations(args(xla=False), "float32") == [
        ("unet", "float32", False), ("unet_large", "float32", False),
    ]


def test_plan_and_mixed_precision():
    assert plan_for(args(quick=True))["steps"] == (1, 3)
    assert plan_for(args())["steps"] == (2, 10)
    assert mixed_precision_for({"gpu": True, "native_bfloat16": False}, "auto") == "mixed_float16"
    assert mixed_precision_for({"gpu": False, "native_bfloat16": True}, "auto") == "mixed_bfloat16"
    assert mixed_precision_for({"gpu": False, "native_bfloat16": False}, "auto") == "float32"
    assert mixed_precision_for({"gpu": False, "native_bfloat16": False}, "float32") == "float32"


def test_fmt():
    assert [fmt(None), fmt(True), fmt(False), fmt(1.23456), fmt(1.5, 0), fmt(7)] == [
        "n/a", "XLA", "graph", "1.23", "2", "7",
    ]


def test_write_csv_adds_the_machine_to_every_row(tmp_path):
    machine = {"cpu_model": "x", "cores": 2, "tf_version": "2", "keras_version": "3",
               "device": "CPU", "date": "today", "gpu": False}
    path = tmp_path / "sub" / "rows.csv"
    write_csv(path, [{"preset": "unet", "seconds": 1 / 3}, {"preset": "unet", "extra": 1}], machine)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["seconds"] == "0.333333" and rows[0]["cores"] == "2" and "gpu" not in rows[0]
    assert rows[1]["extra"] == "1" and rows[1]["seconds"] == ""
