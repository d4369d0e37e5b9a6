"""Where the bundled U-Net lives, and loading any `.keras` skin model for inference.

`skinseg evaluate`, `predict` and `export` use the bundled weights whenever
`--weights` is omitted: the file named by the environment variable
`SKINSEG_WEIGHTS` when it is set, else the repository's `weights/unet.keras`
(beside the package in a source checkout or an editable install). Its model card
is `weights/README.md`.
"""

import os
from pathlib import Path

WEIGHTS_ENV_VAR = "SKINSEG_WEIGHTS"
BUNDLED_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "unet.keras"
# A network of the bundled one's recipe in one command, from random initialization (a
# GPU's work at the `robust` profile's 500 epochs); the bundled file's exact history, on
# a CPU, is experiments/bundled_weights.sh.
TRAIN_COMMAND = (
    "skinseg train --model unet --data data/sfa,data/fasseg,data/hgr_subset,data/ecu,data/ccp,"
    "data/negatives_indoor,data/clinical_ft13 --target-train data/abdomen --profile robust "
    "--out runs/unet"
)


def default_weights_path():
    """The path of the default weights: `$SKINSEG_WEIGHTS`, else `weights/unet.keras`.

    Returns:
        A `Path` to an existing `.keras` file.

    Raises:
        FileNotFoundError: the file is missing; the message says how to pass
            `--weights` or train a model.

    Example:
    >>> import os, tempfile
    >>> os.environ["SKINSEG_WEIGHTS"] = tempfile.mkdtemp() + "/mine.keras"
    >>> open(os.environ["SKINSEG_WEIGHTS"], "wb").close()
    >>> default_weights_path().name
    'mine.keras'
    >>> del os.environ["SKINSEG_WEIGHTS"]
    """
    override = os.environ.get(WEIGHTS_ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"{WEIGHTS_ENV_VAR}={override}: no such file. Point it at a .keras "
                f"model, unset it to use the bundled U-Net, or pass --weights FILE.keras."
            )
        return path
    if not BUNDLED_WEIGHTS.is_file():
        raise FileNotFoundError(
            f"{BUNDLED_WEIGHTS}: no bundled weights in this installation. Pass "
            f"--weights FILE.keras (or set {WEIGHTS_ENV_VAR}), or train one with: "
            f"{TRAIN_COMMAND} (the bundled file's own recipe: experiments/bundled_weights.sh)"
        )
    return BUNDLED_WEIGHTS


def resolve_weights(weights=None):
    """`weights` as an existing `Path`, or the default weights when it is `None`."""
    if weights is None:
        return default_weights_path()
    path = Path(weights).expanduser()
    if path.is_dir():
        raise ValueError(f"{path}: a folder, not a weights file (expected a .keras model).")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such weights file (expected a .keras model).")
    if path.suffix != ".keras":
        raise ValueError(
            f"{path}: weights must be a Keras 3 `.keras` file (model.save(...)). "
            f"Received a file ending in {path.suffix or 'nothing'!r}."
        )
    return path


def model_image_size(model):
    """The `(height, width)` a segmentation model takes, read from the model itself.

    Raises:
        ValueError: the model does not map `(H, W, 3)` images to `(H, W, 1)` maps.
    """
    input_shape = tuple(model.input_shape)
    output_shape = tuple(model.output_shape)
    if len(input_shape) != 4 or input_shape[-1] != 3 or None in input_shape[1:3]:
        raise ValueError(
            f"A skin model must take RGB images of a fixed size (None, H, W, 3). "
            f"Received: model.input_shape={input_shape}"
        )
    if len(output_shape) != 4 or output_shape[-1] != 1:
        raise ValueError(
            f"A skin model must return one confidence map (None, H, W, 1). "
            f"Received: model.output_shape={output_shape}"
        )
    return int(input_shape[1]), int(input_shape[2])


def load_skin_model(weights=None):
    """Load a `.keras` skin model for inference (not compiled).

    Args:
        weights: a `.keras` file written by `skinseg train` or `model.save`, or
            `None` for the default weights (see `default_weights_path`).

    Returns:
        The `keras.Model`; its input size (`model_image_size`) is the size the
        photographs are resized to.

    Raises:
        FileNotFoundError: no file at `weights`.
        ValueError: the file is damaged or not a Keras 3 model
            (`model_files.load_keras_model`), or not a skin model of a square
            input; the message names the file.

    Example:
    >>> import tempfile, skin_segmentation
    >>> path = tempfile.mkdtemp() + "/tiny.keras"
    >>> skin_segmentation.build_model(
    ...     "unet", input_shape=(32, 32, 3), filters=(4, 8, 16)).save(path)
    >>> model_image_size(load_skin_model(path))
    (32, 32)
    """
    from skin_segmentation.model_files import load_keras_model

    path = resolve_weights(weights)
    model = load_keras_model(path)
    try:
        height, width = model_image_size(model)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    if height != width:
        raise ValueError(
            f"{path}: the model takes {height}x{width} inputs; a skin model takes square "
            f"ones (the training pipeline makes square images)."
        )
    return model
