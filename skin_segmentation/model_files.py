"""Saved model files checked before they are loaded: `.keras` networks and `.npz` histograms.

Both formats are zip archives (`model.save` writes `metadata.json`,
`config.json` and `model.weights.h5`; `numpy.savez_compressed` one `.npy` per
array). `check_model_file` opens the archive and reads every member against
its CRC before anything is deserialized, so an empty, truncated, damaged or
foreign file is reported in one line that names the file and what is wrong
with it, never as a traceback or as "not found". `load_keras_model` is the one
way the package loads a `.keras` file (inference, fine-tuning, resuming a run):
the check, then Keras, whose own failures (a layer this Keras does not know, a
file from another Keras) become the same kind of one-line error.
"""

import json
import zipfile
from pathlib import Path

KERAS_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
HISTOGRAM_MEMBERS = ("skin_counts.npy", "non_skin_counts.npy", "threshold.npy", "info.npy")
# kind -> (members, what the file should be, its name in "no such ... file")
_KINDS = {
    "keras": (KERAS_MEMBERS, "a Keras 3 .keras model (written by model.save)", "model"),
    "histogram": (HISTOGRAM_MEMBERS, "a histogram model (.npz of skinseg train --model histogram)",
                  "histogram model"),
}
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"


def _one_line(error, limit=240):
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _not_a_zip(path, size, what):
    with open(path, "rb") as handle:
        head = handle.read(8)
    if size == 0:
        return f"{path}: empty file (0 bytes); expected {what}."
    if head.startswith(_ZIP_SIGNATURE):
        return (f"{path}: truncated or damaged zip archive ({size} bytes, its directory at the "
                f"end is missing); copy or save it again.")
    if head == _HDF5_SIGNATURE:
        return (f"{path}: an HDF5 file (a Keras 2 .h5 model?), not {what}; load it in the Keras "
                f"that wrote it and save it again as .keras.")
    return f"{path}: not a zip archive ({size} bytes starting {head!r}); expected {what}."


def check_model_file(path, kind="keras"):
    """Check a saved model file before it is loaded; return it as a `Path`.

    Args:
        path: a `.keras` file (`kind="keras"`) or a histogram's `.npz`
            (`kind="histogram"`).
        kind: `"keras"` or `"histogram"`.

    Returns:
        `Path(path)`: an intact zip archive holding every member the format has.

    Raises:
        FileNotFoundError: nothing exists at `path`.
        ValueError: `path` is a folder, is empty, truncated, not a zip archive,
            fails a CRC check (its bytes were damaged), lacks a member of the
            format, or (`.keras`) holds a `config.json` that is not JSON. The
            message names the file and the problem.

    Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.keras"
    >>> _ = path.write_text("not a model")
    >>> check_model_file(path)
    Traceback (most recent call last):
    ValueError: .../notes.keras: not a zip archive (11 bytes starting b'not a mo'); expected a Keras 3 ...
    """
    if kind not in _KINDS:
        raise ValueError(f"`kind` must be one of {tuple(_KINDS)}. Received: kind={kind!r}")
    members, what, noun = _KINDS[kind]
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: a folder, not a file; expected {what}.")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such {noun} file; expected {what}.")
    size = path.stat().st_size
    if not zipfile.is_zipfile(path):
        raise ValueError(_not_a_zip(path, size, what))
    try:
        with zipfile.ZipFile(path) as archive:
            missing = [name for name in members if name not in archive.namelist()]
            if missing:
                raise ValueError(f"{path}: not {what}: the archive lacks {', '.join(missing)}.")
            damaged = archive.testzip()  # reads every member, checking its CRC
            if damaged is not None:
                raise ValueError(f"{path}: damaged: {damaged} inside fails its CRC check; copy or "
                                 f"save the file again.")
            if kind == "keras":
                json.loads(archive.read("config.json"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: damaged: its config.json is not JSON ({error}).") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as error:
        raise ValueError(f"{path}: damaged zip archive ({_one_line(error)}).") from None
    return path


def saving_keras_version(path):
    """The Keras version that wrote a `.keras` file (its `metadata.json`), or `None`."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("metadata.json")).get("keras_version")
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, AttributeError):
        return None


def load_keras_model(path, compile=False):
    """Load a `.keras` file after `check_model_file`; every failure is one line naming it.

    Args:
        path: a `.keras` file.
        compile: restore the optimizer, loss and metrics too (resuming a run).

    Returns:
        The `keras.Model`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is damaged (see `check_model_file`) or this Keras
            cannot rebuild it (a class it does not know, another Keras's file).

    Example:
    >>> import tempfile, keras
    >>> path = tempfile.mkdtemp() + "/tiny.keras"
    >>> inputs = keras.Input((4, 4, 3))
    >>> keras.Model(inputs, keras.layers.Conv2D(1, 1)(inputs)).save(path)
    >>> load_keras_model(path).output_shape
    (None, 4, 4, 1)
    """
    import keras

    import skin_segmentation  # noqa: F401  (registers the custom objects of older files)

    path = check_model_file(path, "keras")
    try:
        return keras.models.load_model(path, compile=compile)
    except Exception as error:  # noqa: BLE001 - Keras raises many types for one cause
        saved_by = saving_keras_version(path)
        raise ValueError(
            f"{path}: Keras {keras.__version__} cannot load this model (saved by Keras "
            f"{saved_by or 'unknown'}): {_one_line(error)}"
        ) from None
