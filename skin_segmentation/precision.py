"""Precision: the Keras dtype policy a training runs under, chosen for the device.

`resolve_precision("auto")` picks `"mixed_float16"` on GPUs with tensor cores
and `"float32"` on CPUs, where bfloat16 measured 1.6x slower than float32 on
one AVX512-BF16 CPU (an Intel Xeon) and 1.4-1.9x faster on another (an AMD
EPYC), so a CPU's flags cannot decide it.
The networks keep their last convolution, the rescaled tanh and the Jaccard
loss in float32 under every policy. `gpu_compute_capabilities` is the device
fact it decides from; `cpu_has_bfloat16` (from `cpu_flags`) tells a benchmark
whether the CPU computes in bfloat16 natively.
"""

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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


def resolve_precision(name="auto"):
    """A Keras dtype policy name; `"auto"` picks one for the device.

    Args:
        name: `"auto"`, `"float32"`, `"mixed_float16"` or `"mixed_bfloat16"`.
            `"auto"` gives `"mixed_float16"` when every GPU has tensor cores
            (compute capability 7.0 or more) and `"float32"` otherwise, CPUs
            included: on an Intel Xeon with AVX512-BF16 (no AMX) a bfloat16
            training step measured 1.5-2.5x *slower* than float32, on an AMD
            EPYC with the same flags an epoch 1.4-1.9x *faster*
            (`experiments/benchmarks.md`). Measure a CPU before choosing
            `"mixed_bfloat16"` there.

    Example:
    >>> resolve_precision("float32")
    'float32'
    >>> resolve_precision("auto") in PRECISIONS
    True
    """
    if name == "auto":
        capabilities = gpu_compute_capabilities()
        if capabilities and min(capabilities) >= (7, 0):
            return "mixed_float16"
        return "float32"
    if name not in PRECISIONS:
        raise ValueError(
            f"Unknown precision {name!r}. Choose one of: auto, {', '.join(PRECISIONS)}."
        )
    return name
