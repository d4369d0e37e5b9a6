"""A TensorFlow SavedModel that takes raw photographs and returns skin confidence.

The serving graph holds the whole inference path of `evaluation.predict_confidence`:
the resize of the uint8 images to the network's input size (Pillow's bilinear
resize, as training did, reproduced bit for bit in TensorFlow ops by
`pillow_resize`), the network's input standardization
(`data.pipeline.model_inputs`, traced: per image and channel, or nothing for a
network that scales raw pixels itself), the network, and a bilinear resize of the confidence back to the images' own
height and width. Users of TF Serving or `tf.saved_model.load` need nothing from
this package:

    import tensorflow as tf
    serving = tf.saved_model.load("exported").signatures["serving_default"]
    confidence = serving(images=tf.constant(batch_uint8))["skin_confidence"]
    mask = confidence[..., 0] >= 0.5

A batch holds images of one size (`[N, H, W, 3]`); different calls may use
different sizes. Any other rank or channel count (a grey `[H, W]` or
`[N, H, W, 1]`, an RGBA `[N, H, W, 4]`, a single `[H, W, 3]`) is refused inside
the graph with an `InvalidArgumentError` that says what was expected and what
was received (`check_images`).

`export_saved_model` builds the SavedModel in a temporary folder beside its
destination and renames it when complete, so a kill at any moment leaves the
old export, the new one, or none. It replaces an earlier export of this package
(a folder holding `skinseg_export.json`) and refuses any other folder that is
not empty.
"""

import json
from pathlib import Path

import numpy as np

from skin_segmentation.pillow_resize import pillow_bilinear_resize, pillow_pass_order
from skin_segmentation.weights import load_skin_model, model_image_size, resolve_weights

SIGNATURE_NAME = "serving_default"
INPUT_NAME = "images"
OUTPUT_NAME = "skin_confidence"
EXPORT_INFO_NAME = "skinseg_export.json"
TOLERANCE = 1e-4
EXPECTED_IMAGES = "uint8 [batch, height, width, 3] (RGB; convert grey or RGBA images first)"


def check_images(images):
    """`images` once the graph has checked, when it runs, that they are `[N, H, W, 3]`.

    The serving signature declares `[None, None, None, 3]`, but a signature
    call does not enforce shapes, and TensorFlow folds the declared rank into
    constants; the check therefore reads the shape through an op of unknown
    shape (`placeholder_with_default`), so it sees the tensor actually fed.

    Raises:
        tf.errors.InvalidArgumentError: (when run) another rank or channel
            count; the message states `EXPECTED_IMAGES` and the shape received.

    Example:
    >>> import tensorflow as tf
    >>> check_images(tf.zeros((1, 4, 4, 3), tf.uint8)).shape
    TensorShape([1, 4, 4, 3])
    >>> check_images(tf.zeros((1, 4, 4, 4), tf.uint8))
    Traceback (most recent call last):
    tensorflow.python.framework.errors_impl.InvalidArgumentError: ...images must be uint8 [batch, height, width, 3]...
    """
    import tensorflow as tf

    shape = tf.shape(tf.compat.v1.placeholder_with_default(images, shape=None))
    valid = tf.logical_and(tf.equal(tf.size(shape), 4), tf.equal(shape[-1], 3))
    check = tf.debugging.Assert(
        valid, [f"{INPUT_NAME} must be {EXPECTED_IMAGES}; received shape", shape], summarize=8
    )
    with tf.control_dependencies([check]):
        return tf.identity(images)


def is_export(folder):
    """Whether `folder` holds a SavedModel written by `export_saved_model`."""
    folder = Path(folder)
    return (folder / EXPORT_INFO_NAME).is_file() and (folder / "saved_model.pb").is_file()


def check_export_folder(out_dir):
    """Refuse, before any work, an `out_dir` that `export_saved_model` may not write.

    A missing or empty folder, or an earlier export of this package, is fine
    (the export replaces it); a file, a folder holding anything else, or a
    place that cannot be written is a one-line `ValueError`.

    Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> check_export_folder(folder)
    Traceback (most recent call last):
    ValueError: ...: holds files that are not an earlier export (no skinseg_export.json); ...
    """
    from skin_segmentation.outputs import check_output_folder

    out_dir = check_output_folder(out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not is_export(out_dir):
        raise ValueError(
            f"{out_dir}: holds files that are not an earlier export (no {EXPORT_INFO_NAME}); "
            f"name a new or empty folder."
        )
    return out_dir


def make_serving_function(model):
    """`images uint8 [N, H, W, 3] -> {"skin_confidence": float32 [N, H, W, 1]}`.

    Args:
        model: a skin model; its input size (read from `model.input_shape`) is
            the size the images are resized to.

    Returns:
        A Python function of TensorFlow ops (wrap it in `tf.function`).
    """
    import tensorflow as tf

    from skin_segmentation.data.pipeline import model_inputs
    from skin_segmentation.models import standardization_of

    height, width = model_image_size(model)
    pass_order = pillow_pass_order()
    standardization = standardization_of(model)

    def serve(images):
        images = check_images(images)
        size = tf.shape(images)[1:3]
        resized = pillow_bilinear_resize(images, height, width, pass_order)
        inputs = model_inputs(resized, standardization)
        confidence = tf.cast(model(inputs, training=False), tf.float32)
        return {OUTPUT_NAME: tf.image.resize(confidence, size, method="bilinear")}

    return serve


def serving_archive(model, serve, image_shape=(None, None, None, 3)):
    """A `keras.export.ExportArchive` of `model` with one endpoint, `serve`.

    The endpoint takes one uint8 tensor named `images` and is also the
    SavedModel's `serving_default` signature (the first endpoint added).

    Args:
        model: the Keras model whose variables the archive tracks.
        serve: a function of TensorFlow ops, `images -> {"skin_confidence": ...}`.
        image_shape: the input's `[N, H, W, 3]`, `None` where any size goes.

    Returns:
        The archive, to `write_out`.

    Example:
    >>> import skin_segmentation, tensorflow as tf, tempfile
    >>> model = skin_segmentation.build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    >>> archive = serving_archive(model, lambda images: {OUTPUT_NAME: model(tf.cast(images, "float32"))},
    ...                           [None, 32, 32, 3])
    >>> folder = tempfile.mkdtemp()
    >>> archive.write_out(folder, verbose=False)
    >>> serving = tf.saved_model.load(folder).signatures["serving_default"]
    >>> serving(images=tf.zeros((2, 32, 32, 3), tf.uint8))[OUTPUT_NAME].shape
    TensorShape([2, 32, 32, 1])
    """
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serve",  # also registered as "serving_default", the first endpoint
        fn=serve,
        input_signature=[tf.TensorSpec(list(image_shape), tf.uint8, name=INPUT_NAME)],
    )
    return archive


def export_saved_model(model, out_dir, weights=None):
    """Write `model` as a SavedModel whose serving signature takes uint8 images.

    Args:
        model: a skin model (`weights.load_skin_model`).
        out_dir: the SavedModel folder: built beside it and renamed when
            complete; an earlier export there is replaced, any other non-empty
            folder refused (`check_export_folder`).
        weights: the `.keras` file the model came from, recorded in
            `out_dir/skinseg_export.json`.

    Returns:
        The `Path` of the SavedModel. Its `serving_default` signature takes
        `images`, uint8 `[N, H, W, 3]`, and returns `{"skin_confidence": float32
        [N, H, W, 1]}`; the same function is the loaded object's `serve`.

    Raises:
        ValueError: `out_dir` may not be written (`check_export_folder`).

    Example:
    >>> import skin_segmentation, tensorflow as tf, tempfile
    >>> model = skin_segmentation.build_model(
    ...     "unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    >>> path = export_saved_model(model, tempfile.mkdtemp() + "/exported")
    >>> serving = tf.saved_model.load(str(path)).signatures["serving_default"]
    >>> serving(images=tf.zeros((2, 37, 53, 3), tf.uint8))["skin_confidence"].shape
    TensorShape([2, 37, 53, 1])
    """
    from skin_segmentation.atomic_files import atomic_folder

    height, width = model_image_size(model)
    out_dir = check_export_folder(out_dir)
    archive = serving_archive(model, make_serving_function(model))
    info = {
        "signature": SIGNATURE_NAME,
        "input": {"name": INPUT_NAME, "dtype": "uint8", "shape": ["N", "H", "W", 3]},
        "output": {"name": OUTPUT_NAME, "dtype": "float32", "shape": ["N", "H", "W", 1]},
        "model_image_size": [height, width],
        "skin_threshold": 0.5,
        "preprocessing": "Pillow's bilinear resize (antialiased when shrinking) to "
                         "model_image_size, per-image per-channel standardization; "
                         "confidence resized bilinearly to H x W",
        "weights": None if weights is None else str(weights),
        "model_name": model.name,
    }
    with atomic_folder(out_dir, replace=is_export) as temporary:
        archive.write_out(str(temporary), verbose=False)
        (temporary / EXPORT_INFO_NAME).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return out_dir


def verify_export(saved_model_dir, model, images):
    """Largest difference between the SavedModel's confidence and `predict_confidence`.

    Args:
        saved_model_dir: a folder written by `export_saved_model`.
        model: the model it was exported from.
        images: uint8 `(H, W, 3)` arrays; each is run alone (sizes may differ).

    Returns:
        The maximum absolute difference over every pixel of every image.
    """
    import tensorflow as tf

    from skin_segmentation.inference import predict_confidence

    serving = tf.saved_model.load(str(saved_model_dir)).signatures[SIGNATURE_NAME]
    expected = predict_confidence(model, images)
    worst = 0.0
    for image, reference in zip(images, expected):
        exported = serving(**{INPUT_NAME: tf.constant(image[None])})[OUTPUT_NAME]
        worst = max(worst, float(np.max(np.abs(exported.numpy()[0, ..., 0] - reference))))
    return worst


def export_from_cli(args):
    """`skinseg export [--weights W] --out DIR` (`--format tflite`: `export_tflite.tflite_from_cli`).

    Exports, then checks the result against `skinseg predict`'s confidence.
    """
    if getattr(args, "quantize", None) is not None:
        raise ValueError("--quantize applies to --format tflite only; a SavedModel keeps float32.")
    check_export_folder(args.out)
    weights = resolve_weights(args.weights)
    model = load_skin_model(weights)
    out_dir = export_saved_model(model, args.out, weights=weights)
    rng = np.random.default_rng(0)
    height, width = model_image_size(model)
    probes = [  # larger, smaller, and tall (Pillow 13 resamples it vertically first)
        rng.integers(0, 256, (height + 37, width + 53, 3), dtype=np.uint8),
        rng.integers(0, 256, (height // 2 + 3, width, 3), dtype=np.uint8),
        rng.integers(0, 256, (3 * height, width // 2 + 5, 3), dtype=np.uint8),
    ]
    difference = verify_export(out_dir, model, probes)
    if not difference < TOLERANCE:
        raise RuntimeError(
            f"{out_dir}: the SavedModel's confidence differs from `skinseg predict`'s by "
            f"{difference:.3g} (more than {TOLERANCE}); please report this."
        )
    print(json.dumps({
        "saved_model": str(out_dir),
        "signature": SIGNATURE_NAME,
        "model_image_size": [height, width],
        "weights": str(weights),
        "max_abs_difference_from_predict": difference,
    }))
    return 0
