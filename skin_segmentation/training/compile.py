"""Compiling: build a preset for a profile, load starting weights, fingerprint them, compile.

The paper's optimizer and loss: SGD with momentum 0.9 on the Jaccard distance
(Yuan et al. 2017), with the Jaccard index and Dice coefficient as metrics.
"""

import hashlib

import keras
import numpy as np

from skin_segmentation.losses import JaccardDistance
from skin_segmentation.metrics import DiceCoefficient, JaccardIndex
from skin_segmentation.models import build_model, standardization_of
from skin_segmentation.profiles import get_profile

MOMENTUM = 0.9


def compile_model(model, learning_rate, warmup_steps=0):
    """Compile `model` the paper's way: SGD with momentum 0.9 on the Jaccard distance.

    Args:
        model: a network of `skin_segmentation.models`.
        learning_rate: 0.01 from random initialization, 0.001 for fine-tuning.
        warmup_steps: SGD steps over which the rate rises linearly from 0 to
            `learning_rate` (`Profile.lr_warmup_steps`); 0, the paper: none.

    Returns:
        `model`, compiled with `JaccardIndex` and `DiceCoefficient` as metrics.

    Example:
    >>> from skin_segmentation.models import build_model
    >>> model = compile_model(build_model("unet", (32, 32, 3), filters=(4, 8)), 0.01)
    >>> type(model.optimizer).__name__, float(model.optimizer.momentum)
    ('SGD', 0.9)
    >>> optimizer = compile_model(model, 0.01, warmup_steps=100).optimizer
    >>> rates = []
    >>> for step in (0, 50, 100, 1000):
    ...     _ = optimizer.iterations.assign(step)
    ...     rates.append(round(float(optimizer.learning_rate), 4))
    >>> rates
    [0.0, 0.005, 0.01, 0.01]
    """
    if not learning_rate > 0:
        raise ValueError(f"`learning_rate` must be positive. Received: learning_rate={learning_rate}")
    if warmup_steps:
        # A linear warm-up to `learning_rate`, then (alpha=1) no decay at all.
        learning_rate = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=1, alpha=1.0, warmup_target=learning_rate, warmup_steps=int(warmup_steps))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=MOMENTUM),
        loss=JaccardDistance(),
        metrics=[JaccardIndex(), DiceCoefficient()],
    )
    return model


def weights_fingerprint(model):
    """SHA-256 of a model's weights (float32 bytes, in `get_weights` order).

    Two models share a fingerprint exactly when all their weights are equal,
    which is how the records prove where a training started from.

    Example:
    >>> from skin_segmentation.models import build_model
    >>> model = build_model("unet", (32, 32, 3), filters=(4, 8))
    >>> weights_fingerprint(model) == weights_fingerprint(model)
    True
    """
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(np.ascontiguousarray(array, dtype="float32").tobytes())
    return digest.hexdigest()


def load_initial_weights(model, path):
    """Copy the weights of the model saved at `path` into `model`, layer by layer.

    Layers are matched by name (every preset names its layers the same way in
    every build), and every weight must have the same shape in both models: the
    same preset at the same input size.

    Args:
        model: a freshly built network.
        path: a `.keras` file saved by `train` (or `model.save`).

    Returns:
        The number of weight tensors copied.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: the file is damaged or not a `.keras` model
            (`model_files.load_keras_model`), or a layer of `model` is missing
            from the saved model or its weights have other shapes; the message
            names them.
    """
    from skin_segmentation.model_files import load_keras_model

    source = load_keras_model(path)
    source_layers = {layer.name: layer for layer in source.layers}
    problems = []
    assignments = []
    for layer in model.layers:
        if not layer.weights:
            continue
        other = source_layers.get(layer.name)
        if other is None:
            problems.append(f"layer {layer.name!r} is missing there")
            continue
        ours = [tuple(w.shape) for w in layer.weights]
        theirs = [tuple(w.shape) for w in other.weights]
        if ours != theirs:
            problems.append(f"layer {layer.name!r} has weights {theirs} there, {ours} here")
            continue
        assignments.append((layer, other.get_weights()))
    if problems:
        shown = "; ".join(problems[:4]) + ("; ..." if len(problems) > 4 else "")
        raise ValueError(
            f"{path}: cannot initialize {model.name!r} (input {model.input_shape}) from "
            f"{source.name!r} (input {source.input_shape}): {len(problems)} layer(s) do not "
            f"match: {shown}. Use weights of the same preset at the same image size."
        )
    for layer, weights in assignments:
        layer.set_weights(weights)
    return sum(len(weights) for _, weights in assignments)


def build_for_profile(preset, profile):
    """Build `preset` at the profile's image size with its model overrides.

    Example:
    >>> from skin_segmentation.profiles import get_profile
    >>> build_for_profile("unet", get_profile("tiny")).input_shape
    (None, 32, 32, 3)
    """
    profile = get_profile(profile)
    overrides = {"standardization": profile.standardization, **profile.overrides_for(preset)}
    return build_model(preset, input_shape=profile.input_shape, **overrides)


def network_to_fine_tune(path, profile):
    """The network saved at `path` and the profile to fine-tune it with.

    Fine-tuning trains the saved network itself, in its own architecture, at
    its own input size and with its own input standardization: a profile of
    another `image_size` is adapted to the network (with a printed note), never
    the network to the profile, so that a 128-pixel model is not silently
    fine-tuned at 64 pixels. (To move weights into a network of the profile's
    own settings instead, `train(preset, ..., init_weights=path)` copies them
    layer by layer: `skinseg train --warm-start`.)

    Args:
        path: a `.keras` skin model (e.g. the bundled `weights/unet.keras`).
        profile: a `Profile` or its name.

    Returns:
        `(model, profile)`: the uncompiled network and the profile at its size.

    Raises:
        ValueError: the file is not a skin model of a square input (the message
            names the file and both sizes).

    Example:
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/tiny.keras"
    >>> build_model("unet", input_shape=(32, 32, 3), filters=(4, 8, 16)).save(path)
    >>> model, profile = network_to_fine_tune(path, "quick")  # quick is 64 px
    Fine-tuning ... at its own input size, 32x32 (the quick profile's is 64x64).
    >>> profile.image_size
    32
    """
    from skin_segmentation.weights import load_skin_model, model_image_size

    profile = get_profile(profile)
    model = load_skin_model(path)  # refuses a file that is not a skin model of a square input
    height, width = model_image_size(model)
    if height != profile.image_size:
        print(f"Fine-tuning {path} at its own input size, {height}x{width} (the {profile.name} "
              f"profile's is {profile.image_size}x{profile.image_size}).")
        profile = profile.replace(image_size=height)
    return model, profile.replace(standardization=standardization_of(model))
