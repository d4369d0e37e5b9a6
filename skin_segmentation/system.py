"""System: facts about the machine that trains (CPU, cores, GPUs) and the Keras dtype policy.

`distribute` decides *which* strategy and `precision` which policy to use;
this module only describes the device and scopes a precision policy to one
block of code.
"""

import os
import platform
from pathlib import Path

import keras


def cpuinfo_value(key):
    """The value of the first `/proc/cpuinfo` line named `key`, or None where there is none.

    Example:
    >>> flags = cpuinfo_value("flags")
    >>> flags is None or isinstance(flags, str)
    True
    """
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            name, separator, value = line.partition(":")
            if separator and name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


def cpu_model_and_cores():
    """The CPU's model name (from /proc/cpuinfo where there is one) and usable cores.

    Example:
    >>> model, cores = cpu_model_and_cores()
    >>> isinstance(model, str) and cores >= 1
    True
    """
    model = cpuinfo_value("model name") or platform.processor() or platform.machine()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return model, cores


def describe_device():
    """One line naming what trains: the GPUs, or the CPU and its core count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return f"{len(gpus)} GPU(s): {', '.join(sorted(set(names)))}"
    model, cores = cpu_model_and_cores()
    return f"{cores}-core CPU ({model})"


class dtype_policy_scope:
    """Set the global Keras dtype policy (e.g. `"mixed_bfloat16"`) for a block.

    The previous policy is restored on exit, so one run's precision never leaks
    into the next model a process builds.

    Example:
    >>> with dtype_policy_scope("mixed_bfloat16"):
    ...     inside = keras.mixed_precision.global_policy().name
    >>> inside, keras.mixed_precision.global_policy().name
    ('mixed_bfloat16', 'float32')
    """

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy(self.name)

    def __exit__(self, *exc_info):
        keras.mixed_precision.set_global_policy(self.previous)
