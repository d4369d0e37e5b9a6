"""Precision: the Keras dtype policy a training runs under, chosen for the device.

`resolve_precision("auto")` picks `"mixed_float16"` on GPUs with tensor cores
and, on a CPU with bfloat16 instructions, whichever of `"mixed_bfloat16"` and
`"float32"` trains faster there, measured (`cpu_bfloat16_speedup`): bfloat16
measured 1.6x slower than float32 on one AVX512-BF16 CPU (an Intel Xeon) and
1.4-1.9x faster on another (an AMD EPYC), so a CPU's flags cannot decide it.
The networks keep their last convolution, the rescaled tanh and the Jaccard
loss in float32 under every policy. `gpu_compute_capabilities` and
`cpu_has_bfloat16` (from `cpu_flags`) are the device facts it starts from.
"""

import functools
import time

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# What a profile or `--precision` may name: a policy, or "auto" for `resolve_precision`'s pick.
PRECISION_CHOICES = ("auto", *PRECISIONS)
# On a CPU, "auto" picks bfloat16 only when it trains at least this much faster than float32.
CPU_BFLOAT16_MIN_SPEEDUP = 1.25


def gpu_compute_capabilities():
    """`(major, minor)` compute capability of each GPU TensorFlow sees (empty: none)."""
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability") or (0, 0)))
    return capabilities


def cpu_flags():
    """The CPU's feature flags from `/proc/cpuinfo` (empty where it is absent)."""
    from skin_segmentation.system import cpuinfo_value

    return set((cpuinfo_value("flags") or "").split())


def cpu_has_bfloat16():
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX-BF16)."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def _probe_step_seconds(policy, repeats=3):
    """Seconds of one training step of two 3x3 convolutions (64 filters, 16 images of 64x64)."""
    import keras
    import numpy as np

    from skin_segmentation.system import dtype_policy_scope

    with dtype_policy_scope(policy):
        inputs = keras.Input((64, 64, 3), name="probe_images")
        features = keras.layers.Conv2D(64, 3, padding="same", activation="relu",
                                       name="probe_conv_1")(inputs)
        features = keras.layers.Conv2D(64, 3, padding="same", activation="relu",
                                       name="probe_conv_2")(features)
        outputs = keras.layers.Conv2D(1, 1, activation="sigmoid", dtype="float32",
                                      name="probe_output")(features)
        model = keras.Model(inputs, outputs, name="precision_probe")
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mean_squared_error")
        images = np.random.default_rng(0).random((16, 64, 64, 3), dtype="float32")
        masks = (images[..., :1] > 0.5).astype("float32")
        model.train_on_batch(images, masks)  # traces the step
        start = time.perf_counter()
        for _ in range(repeats):
            model.train_on_batch(images, masks)
        return (time.perf_counter() - start) / repeats


@functools.cache
def cpu_bfloat16_speedup():
    """How many times faster a training step runs under `"mixed_bfloat16"` than `"float32"` here.

    The probe is a small Keras network of the U-Nets' commonest layer (3x3
    convolutions of 64 filters on 16 images of 64x64), trained for a few
    steps under each policy: about 2 s on a 2-core CPU, measured once per
    process. It follows the whole trainings it stands for: 1.5-1.8x on an AMD
    EPYC with AVX512-BF16 whose quick-profile epochs ran 1.4-1.9x faster in
    bfloat16 (`experiments/benchmarks.md`).

    Example:
    >>> cpu_bfloat16_speedup() > 0
    True
    """
    return _probe_step_seconds("float32") / _probe_step_seconds("mixed_bfloat16")


def resolve_precision(name="auto"):
    """A Keras dtype policy name; `"auto"` picks one for the device.

    Args:
        name: `"auto"`, `"float32"`, `"mixed_float16"` or `"mixed_bfloat16"`.
            `"auto"` gives `"mixed_float16"` when every GPU has tensor cores
            (compute capability 7.0 or more) and `"float32"` on other GPUs. On
            a CPU it gives `"mixed_bfloat16"` when the CPU has bfloat16
            instructions and a training step measured there runs at least
            `CPU_BFLOAT16_MIN_SPEEDUP` times faster in it
            (`cpu_bfloat16_speedup`), else `"float32"`: on an Intel Xeon with
            AVX512-BF16 (no AMX) a bfloat16 step measured 1.5-2.5x *slower*
            than float32, on an AMD EPYC with the same flags an epoch 1.4-1.9x
            *faster* (`experiments/benchmarks.md`).

    Example:
    >>> resolve_precision("float32")
    'float32'
    >>> resolve_precision("auto") in PRECISIONS
    True
    """
    if name == "auto":
        capabilities = gpu_compute_capabilities()
        if capabilities:
            return "mixed_float16" if min(capabilities) >= (7, 0) else "float32"
        if cpu_has_bfloat16() and cpu_bfloat16_speedup() >= CPU_BFLOAT16_MIN_SPEEDUP:
            return "mixed_bfloat16"
        return "float32"
    if name not in PRECISIONS:
        raise ValueError(
            f"Unknown precision {name!r}. Choose one of: {', '.join(PRECISION_CHOICES)}."
        )
    return name
