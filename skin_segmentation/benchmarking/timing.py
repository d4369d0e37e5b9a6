"""Timing: the machine, its matrix-multiply rate, FLOP counts and timed calls, for the benchmark.

Every figure is a median of timed calls after warm-up; the 1-minute load
average is kept beside each, since every figure on a shared machine moves with it.
"""

import datetime
import gc
import os
import platform
import time

from skin_segmentation.data.arrays import load_arrays
from skin_segmentation.data.pipeline import make_dataset

BATCH_SIZE = 16
IMAGE_SIZE = 128


def describe_machine():
    """CPU model, cores, TensorFlow/Keras versions and the device that computes."""
    import keras
    import tensorflow as tf

    from skin_segmentation import precision
    from skin_segmentation.system import cpu_model_and_cores

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
        "native_bfloat16": precision.cpu_has_bfloat16(),
        "python": platform.python_version(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def load():
    """The 1-minute load average, rounded to 0.01."""
    return round(os.getloadavg()[0], 2)



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
    """`preset` at 128x128 in `precision`, compiled the paper's way, XLA on or off."""
    from skin_segmentation.models import build_model
    from skin_segmentation.system import dtype_policy_scope
    from skin_segmentation.training import compile_model

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



def time_decoding(pairs):
    """Pairs per second of Pillow decoding and resizing to 128x128 (no cache)."""
    start = time.perf_counter()
    load_arrays(pairs, IMAGE_SIZE, cache=False)
    return len(pairs) / (time.perf_counter() - start)


def time_pipeline(pairs, augment, batches, warmup=5):
    """Images per second of the tf.data pipeline (`augment` backend) over `batches` batches."""
    dataset = make_dataset(
        pairs, IMAGE_SIZE, BATCH_SIZE, augment=augment, shuffle=True, seed=0, repeat=True
    )
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        images, _ = next(iterator)
    images.numpy()
    return batches * BATCH_SIZE / (time.perf_counter() - start)
