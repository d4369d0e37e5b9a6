"""A TFLite file of a skin model, and running one on photographs of any size.

The `.tflite` keeps the SavedModel's contract (`export.py`) where TFLite's fixed
shapes allow it: signature `serving_default`, input `images` uint8 `[N, S, S, 3]`,
output `skin_confidence` float32 `[N, S, S, 1]`, with the standardization per
image and per channel inside. S is the model's own input size (128 for the
bundled U-Net). The two resizes around it happen outside, as `skinseg predict`
does them:

    photo uint8 (H, W, 3)  --Pillow bilinear (data.arrays.resize_image)-->     (S, S, 3)
    .tflite                                                                   (S, S, 1)
    confidence (S, S)  --bilinear, half-pixel centres (resize_confidence)-->  (H, W)

`TFLiteSkinModel` does both around the interpreter, so its confidence differs
from `inference.predict_confidence`'s only by the arithmetic of TFLite's
kernels (and of float16 weights with `quantize="float16"`).

The conversion takes the Keras 3 path that works: the model is written as a
SavedModel with a uint8 endpoint (`export.serving_archive`, the
`keras.export.ExportArchive` that `model.export(path, "tf_saved_model")` makes),
then converted by `tf.lite.TFLiteConverter.from_saved_model` (`from_keras_model`
fails under Keras 3).
"""

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np

from skin_segmentation.export import INPUT_NAME, OUTPUT_NAME, SIGNATURE_NAME, serving_archive
from skin_segmentation.quiet import hold_native_stderr
from skin_segmentation.weights import load_skin_model, model_image_size, resolve_weights

QUANTIZATIONS = (None, "float16")
# `skinseg export --format tflite` refuses a float32 file whose masks agree with
# Keras's on fewer pixels of the example photographs than this.
MIN_MASK_AGREEMENT = 0.999


def _fixed_size_endpoint(model):
    import tensorflow as tf

    from skin_segmentation.data.pipeline import model_inputs
    from skin_segmentation.models import standardization_of

    standardization = standardization_of(model)

    def serve(images):
        confidence = model(model_inputs(images, standardization), training=False)
        return {OUTPUT_NAME: tf.cast(confidence, tf.float32)}

    return serve


def convert_to_tflite(model, quantize=None):
    """The bytes of a `.tflite` of `model` (see the module docstring for its contract).

    Args:
        model: a skin model (`weights.load_skin_model`).
        quantize: `None` (float32 weights) or `"float16"` (weights stored in
            float16, computed in float32: about half the size).

    Returns:
        `bytes` of the TFLite flatbuffer.
    """
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ValueError(f"`quantize` must be one of {QUANTIZATIONS}. Received: quantize={quantize!r}")
    height, width = model_image_size(model)
    archive = serving_archive(model, _fixed_size_endpoint(model), [None, height, width, 3])
    with tempfile.TemporaryDirectory() as saved_model:
        with hold_native_stderr():
            archive.write_out(saved_model, verbose=False)
            converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, [SIGNATURE_NAME])
            if quantize == "float16":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.target_spec.supported_types = [tf.float16]
            return converter.convert()


def check_tflite_path(path):
    """`path` as a `Path` once it is a `.tflite` name that can be written (`outputs.check_output_file`)."""
    from skin_segmentation.outputs import check_output_file

    path = Path(path)
    if path.suffix != ".tflite":
        raise ValueError(f"{path}: a TFLite file's name must end in .tflite.")
    return check_output_file(path)


def export_tflite(model, path, quantize=None):
    """Write `model` as a `.tflite` file (atomically); see `convert_to_tflite`.

    Args:
        model: a skin model.
        path: the file to write; its name must end in `.tflite`.
        quantize: `None` or `"float16"`.

    Returns:
        The `Path` written.

    Example:
    >>> import skin_segmentation, tempfile
    >>> model = skin_segmentation.build_model(
    ...     "unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    >>> path = export_tflite(model, tempfile.mkdtemp() + "/tiny.tflite")
    >>> lite = TFLiteSkinModel(path)
    >>> lite.image_size, lite.confidence(np.zeros((37, 53, 3), "uint8")).shape
    (32, (37, 53))
    """
    from skin_segmentation.atomic_files import atomic_path

    path = check_tflite_path(path)
    flatbuffer = convert_to_tflite(model, quantize=quantize)
    with atomic_path(path) as temporary:
        temporary.write_bytes(flatbuffer)
    return path


def _make_interpreter(path):
    """LiteRT's interpreter when `ai-edge-litert` is installed, else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings(), hold_native_stderr():
        # tf.lite.Interpreter warns that it moves to LiteRT; it works in TF 2.21.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
    return interpreter


class TFLiteSkinModel:
    """A `.tflite` written by `export_tflite`, run on uint8 photographs of any size.

    Args:
        path: the `.tflite` file.

    Attributes:
        image_size: the side S the file takes; photographs are resized to S x S
            with Pillow's bilinear filter, and the confidence resized back.

    Raises:
        ValueError: the file is not a TFLite model with the `serving_default`
            signature `images` -> `skin_confidence` of `export_tflite`.

    Example:
    >>> lite = TFLiteSkinModel("unet.tflite")  # doctest: +SKIP
    >>> mask = lite.confidence(load_image("photo.jpg")) >= 0.5  # doctest: +SKIP
    """

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such TFLite file.")
        try:
            interpreter = _make_interpreter(self.path)
            self._runner = interpreter.get_signature_runner(SIGNATURE_NAME)
            details = self._runner.get_input_details()[INPUT_NAME]
        except (ValueError, RuntimeError, KeyError) as error:
            raise ValueError(
                f"{self.path}: not a TFLite skin model with signature {SIGNATURE_NAME!r} "
                f"({INPUT_NAME} -> {OUTPUT_NAME}) ({error})."
            ) from None
        shape = [int(side) for side in details["shape"]]
        if details["dtype"] != np.uint8 or len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3:
            raise ValueError(
                f"{self.path}: expected uint8 input [N, S, S, 3]; the file takes "
                f"{np.dtype(details['dtype']).name} {shape}."
            )
        self.image_size = shape[1]

    def confidence(self, image):
        """Skin confidence `float32 (H, W)` in [0, 1] of one uint8 `(H, W, 3)` photograph."""
        from skin_segmentation.data.arrays import resize_image
        from skin_segmentation.inference import resize_confidence

        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3 or 0 in image.shape:
            raise ValueError(
                f"The photograph must be a uint8 array (height, width, 3). "
                f"Received: dtype={image.dtype}, shape={image.shape}"
            )
        resized = resize_image(image, self.image_size)[None]
        output = self._runner(**{INPUT_NAME: resized})[OUTPUT_NAME]
        return resize_confidence(output[0], *image.shape[:2])

    def predict_confidence(self, images):
        """`confidence` of each photograph: a list of float32 `(H_i, W_i)`."""
        return [self.confidence(image) for image in images]


def compare_with_keras(lite, model, images):
    """How far a `.tflite` strays from the Keras model it came from.

    Args:
        lite: a `TFLiteSkinModel`.
        model: the Keras skin model (run by `inference.predict_confidence`).
        images: uint8 `(H, W, 3)` photographs.

    Returns:
        A dict: `mask_agreement`, the fraction of all pixels where both give
        the same mask (confidence >= 0.5); `pixels_differing`;
        `images_differing`, those with at least one such pixel;
        `max_abs_difference` and `mean_abs_difference` of the confidence;
        `pixels`; `images`.
    """
    from skin_segmentation.inference import predict_confidence

    images = list(images)
    differing = pixels = images_differing = 0
    worst, total = 0.0, 0.0
    for image, reference in zip(images, predict_confidence(model, images)):
        ours = lite.confidence(image)
        disagreeing = int(np.count_nonzero((ours >= 0.5) != (reference >= 0.5)))
        differing += disagreeing
        images_differing += int(disagreeing > 0)
        difference = np.abs(ours.astype(np.float64) - reference)
        worst = max(worst, float(difference.max()))
        total += float(difference.sum())
        pixels += reference.size
    return {
        "mask_agreement": 1.0 - differing / pixels,
        "pixels_differing": differing,
        "images_differing": images_differing,
        "max_abs_difference": worst,
        "mean_abs_difference": total / pixels,
        "pixels": pixels,
        "images": len(images),
    }


def tflite_from_cli(args):
    """`skinseg export --format tflite --out FILE.tflite [--quantize float16]`."""
    from skin_segmentation.data.examples import example_photos
    from skin_segmentation.data.readers import load_image

    check_tflite_path(args.out)
    weights = resolve_weights(args.weights)
    model = load_skin_model(weights)
    quantize = getattr(args, "quantize", None)
    path = export_tflite(model, args.out, quantize=quantize)
    check = compare_with_keras(
        TFLiteSkinModel(path), model, [load_image(photo) for photo in example_photos()]
    )
    if quantize is None and check["mask_agreement"] < MIN_MASK_AGREEMENT:
        raise RuntimeError(
            f"{path}: its masks agree with `skinseg predict`'s on only "
            f"{check['mask_agreement']:.4%} of the example photographs' pixels "
            f"(at least {MIN_MASK_AGREEMENT:.1%} expected); please report this."
        )
    print(json.dumps({
        "tflite": str(path),
        "bytes": path.stat().st_size,
        "quantize": quantize,
        "signature": SIGNATURE_NAME,
        "input": [INPUT_NAME, "uint8", [1, *model_image_size(model), 3]],
        "output": [OUTPUT_NAME, "float32", [1, *model_image_size(model), 1]],
        "weights": str(weights),
        "examples_mask_agreement": check["mask_agreement"],
        "examples_max_abs_difference": check["max_abs_difference"],
    }))
    return 0
