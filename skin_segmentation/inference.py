"""Inference on photographs at their own resolution: confidence maps, masks and overlays.

Every path from a photograph to a mask goes through `predict_confidence`, which
does exactly what training did to an image (`data.pipeline.preprocess_images`:
Pillow's bilinear resize, antialiased when shrinking, to the model's own input
size, read from `model.input_shape`; then standardization per image and per
channel), runs the network, and resizes the confidence map bilinearly back to
the photograph's height and width. A pixel is skin when its confidence
is at least 0.5 (`metrics.THRESHOLD`); `predict_files` can then turn small
non-skin islands into skin (`postprocess.fill_small_holes`). `skinseg predict`, `skinseg evaluate`
(`evaluation`) and the check of `skinseg export` all use it. A baseline
(`baselines`: colour rules and histogram) in place of the network is applied to
the photographs as they are; `load_detector` gives either by name.
"""

import contextlib
import sys
import typing
from pathlib import Path

import numpy as np

from skin_segmentation.baselines import BASELINES, Baseline, get_baseline
from skin_segmentation.masks import (  # noqa: F401  (part of this module's interface)
    OVERLAY_ALPHA,
    OVERLAY_COLOR,
    confidence_to_mask,
    overlay_mask,
    resize_confidence,
    resized_mask,
)
from skin_segmentation.models import standardization_of
from skin_segmentation.postprocess import check_fill_shares, fill_small_holes
from skin_segmentation.weights import load_skin_model, model_image_size, resolve_weights

BATCH_SIZE = 16
# A batch of `predict_files` holds at most this many decoded pixels (one photograph
# at least): 16 photographs of 8000 x 8000 would otherwise be 3 GB at once.
BATCH_PIXELS = 2**25


def check_batch_size(batch_size):
    """`batch_size` as an int, or a ValueError when it is not a positive integer."""
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size}")
    return int(batch_size)


def _check_photo(index, image):
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3 or 0 in image.shape:
        raise ValueError(
            f"Images must be uint8 arrays of shape (height, width, 3), as "
            f"`data.readers.load_image` returns. Received: images[{index}] with "
            f"dtype={image.dtype}, shape={image.shape}"
        )
    return image


def predict_confidence(model, images, batch_size=BATCH_SIZE, resize=True):
    """Skin confidence of every pixel of photographs of any sizes.

    Args:
        model: a skin model (`keras.Model` mapping `(None, S, S, 3)` to
            `(None, S, S, 1)`), e.g. from `weights.load_skin_model`, or a
            `baselines.Baseline`.
        images: a list of uint8 RGB arrays `(H_i, W_i, 3)`; sizes may differ.
        batch_size: images per network call.
        resize: bring each network map to its photograph's size
            (`resize_confidence`); `False` leaves it at the network's `(S, S)`,
            for `resized_mask` to threshold at full size in bounded memory (a
            baseline's maps are at the photograph's size either way).

    Returns:
        A list of float32 arrays `(H_i, W_i)` in [0, 1], one per image, at each
        image's own size. Skin is `confidence >= 0.5`.

    Example:
    >>> import skin_segmentation
    >>> model = skin_segmentation.build_model(
    ...     "unet", input_shape=(32, 32, 3), filters=(4, 8, 16))
    >>> photos = [np.zeros((37, 53, 3), "uint8"), np.zeros((20, 90, 3), "uint8")]
    >>> [c.shape for c in predict_confidence(model, photos)]
    [(37, 53), (20, 90)]
    """
    from skin_segmentation.data.pipeline import preprocess_images

    batch_size = check_batch_size(batch_size)
    images = [_check_photo(index, image) for index, image in enumerate(images)]
    if isinstance(model, Baseline):
        return model.predict(images)
    height, width = model_image_size(model)
    if height != width:
        raise ValueError(
            f"The training pipeline makes square inputs; this model takes "
            f"{height}x{width}. Received: model.input_shape={tuple(model.input_shape)}"
        )
    standardization = standardization_of(model)
    confidences = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        inputs = np.asarray(preprocess_images(batch, height, standardization), "float32")
        outputs = np.asarray(model.predict_on_batch(inputs), "float32")
        for image, output in zip(batch, outputs):
            confidences.append(resize_confidence(output, *image.shape[:2]) if resize
                               else output[..., 0])
    return confidences


class Detector(typing.NamedTuple):
    """A skin detector loaded by `load_detector`: what it is, its name, its weights file."""

    model: object  # a keras.Model or a baselines.Baseline
    name: str  # the baseline's name, or the network's (its file's stem, or folder's)
    weights: object  # the Path of its weights, or None for a rule


def load_detector(model=None, weights=None):
    """A skin detector by name: a baseline, or a network's `.keras` file.

    Args:
        model: a name of `baselines.BASELINES` (`"histogram"` needs `weights`,
            its `.npz`), or `None` / `"network"` for a network.
        weights: the network's `.keras` (default: `weights.default_weights_path`),
            or the histogram's `.npz`.

    Returns:
        A `Detector`; its `model` is what `predict_confidence` takes.

    Raises:
        ValueError: an unknown name, or weights where the model takes none.
        FileNotFoundError: the weights file does not exist.

    Example:
    >>> load_detector("ycrcb")
    Detector(model=YCrCbRule(), name='ycrcb', weights=None)
    """
    if model in (None, "network"):
        path = resolve_weights(weights)
        # `skinseg train` names every network model.keras: its run folder names it.
        name = path.parent.name if path.stem == "model" else path.stem
        return Detector(load_skin_model(path), name, path)
    if model not in BASELINES:
        raise ValueError(
            f"Unknown model {model!r}. Choose a baseline ({', '.join(BASELINES)}) or "
            f"'network' (a .keras file given by --weights)."
        )
    return Detector(get_baseline(model, weights), model, None if weights is None else Path(weights))


@contextlib.contextmanager
def progress_bar(total, enabled=True, unit_name="image"):
    """A `keras.utils.Progbar` drawn on stderr, so stdout stays one JSON line.

    When stderr is not a terminal (a log file), one plain line at the end instead.
    """
    import keras

    if not enabled:
        yield lambda count: None
        return
    with contextlib.redirect_stdout(sys.stderr):
        verbose = 1 if sys.stderr.isatty() else 2
        bar = keras.utils.Progbar(total, unit_name=unit_name, verbose=verbose)
    done = 0

    def advance(count):
        nonlocal done
        done += count
        with contextlib.redirect_stdout(sys.stderr):
            bar.update(done)

    yield advance


def _is_prediction(path):
    return path.name.endswith(("_mask.png", "_overlay.png"))


def collect_images(inputs, out_dir=None):
    """The photographs named by files and folders (a folder: its image files, sorted).

    Args:
        inputs: paths of image files or of folders holding them (not recursive;
            files with an extension of `data.readers.IMAGE_EXTENSIONS`, any case;
            a file named explicitly is read whatever its extension).
        out_dir: the folder predictions go to; when it is also an input folder,
            the `<stem>_mask.png` and `<stem>_overlay.png` already there are not
            photographs to predict.

    Returns:
        A list of `Path`s, each file once.

    Raises:
        FileNotFoundError: an input does not exist.
        ValueError: a folder holds no images, or two files share a stem (their
            masks would overwrite each other); the message names both files.
    """
    from skin_segmentation.data.readers import IMAGE_EXTENSIONS

    out_dir = None if out_dir is None else Path(out_dir).resolve()
    images = []
    for entry in inputs:
        path = Path(entry)
        if path.is_dir():
            skip_predictions = path.resolve() == out_dir
            found = sorted(
                child for child in path.iterdir()
                if child.is_file() and child.suffix.lower() in IMAGE_EXTENSIONS
                and not (skip_predictions and _is_prediction(child))
            )
            if not found:
                raise ValueError(
                    f"{path}: no image files in this folder (looked for "
                    f"{', '.join(IMAGE_EXTENSIONS)})."
                )
            images.extend(found)
        elif path.is_file():
            images.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder.")
    unique, seen_files, by_stem = [], set(), {}
    for path in images:
        key = path.resolve()
        if key in seen_files:
            continue
        seen_files.add(key)
        if path.stem in by_stem:
            raise ValueError(
                f"{by_stem[path.stem]} and {path} would both be written as "
                f"{path.stem}_mask.png; rename one or predict them in separate runs."
            )
        by_stem[path.stem] = path
        unique.append(path)
    return unique


def output_paths(out_dir, photo):
    """`(mask, overlay)` paths `skinseg predict` writes for `photo` in `out_dir`.

    Example:
    >>> [path.name for path in output_paths("masks", "photos/arm.jpg")]
    ['arm_mask.png', 'arm_overlay.png']
    """
    stem = Path(photo).stem
    return Path(out_dir) / f"{stem}_mask.png", Path(out_dir) / f"{stem}_overlay.png"


def unfinished(paths, out_dir):
    """The photographs of `paths` whose mask or overlay is not yet in `out_dir`.

    Masks and overlays are written atomically, so one that exists is complete:
    a run that stopped continues with these (`skinseg predict --skip-existing`).
    """
    return [Path(path) for path in paths
            if not all(output.is_file() for output in output_paths(out_dir, path))]


def _save_png(array, path):
    from PIL import Image

    from skin_segmentation.atomic_files import atomic_path

    with atomic_path(path) as temporary:
        Image.fromarray(array).save(temporary, format="PNG")


def _readable_batches(paths, batch_size, on_error):
    """`(loaded, tried)`: up to `batch_size` decoded `(path, image)`s of at most
    `BATCH_PIXELS` pixels in all (one photograph at least), and how many paths
    were tried for them; the photographs that do not decode go to `on_error`."""
    from skin_segmentation.data.readers import DataError, load_image

    loaded, pixels, tried = [], 0, 0
    for path in paths:
        try:
            image = load_image(path)
        except DataError as error:
            if on_error is None:
                raise
            on_error(error, path)
            tried += 1
            continue
        size = image.shape[0] * image.shape[1]
        if loaded and (len(loaded) == batch_size or pixels + size > BATCH_PIXELS):
            yield loaded, tried
            loaded, pixels, tried = [], 0, 0
        loaded.append((path, image))
        pixels += size
        tried += 1
    if loaded or tried:
        yield loaded, tried


def predict_files(model, paths, out_dir, batch_size=BATCH_SIZE, progress=False, on_error=None,
                  fill_holes=0.0, fill_enclosed=0.0):
    """Write `<stem>_mask.png` (0/255) and `<stem>_overlay.png` for each photograph.

    Args:
        model: a skin model or a baseline (see `predict_confidence`).
        paths: image files any `data.readers.load_image` accepts (EXIF-rotated;
            grayscale, RGBA, palette and 16-bit converted to RGB). Stems must be
            distinct (`collect_images` checks).
        out_dir: the folder to write into (made if missing). Each file is
            written atomically, replacing one of the same name.
        batch_size: photographs per network call.
        progress: draw a progress bar on stderr.
        on_error: called as `on_error(error, path)` for a photograph that
            cannot be read (`DataError`), which is then skipped
            (`problems.ProblemLog.add`); `None`: the error is raised.
        fill_holes: non-skin regions smaller than this share of a photograph
            become skin in its mask and overlay (`postprocess.fill_small_holes`);
            `0` leaves the thresholded mask as it is.
        fill_enclosed: non-skin regions that skin encloses (touching no edge)
            become skin up to this larger share; `0`: as any other region.

    Returns:
        One dict per photograph written: `image`, `mask`, `overlay` (paths as
        str), `height`, `width`, `skin_fraction`.

    Example:
    >>> predict_files(load_skin_model(), ["photo.jpg"], "masks/")  # doctest: +SKIP
    [{'image': 'photo.jpg', 'mask': 'masks/photo_mask.png', ...}]
    """
    batch_size = check_batch_size(batch_size)
    fill = check_fill_shares(fill_holes, fill_enclosed)
    paths = [Path(path) for path in paths]
    stems = {}
    for path in paths:
        if path.stem in stems:
            raise ValueError(
                f"{stems[path.stem]} and {path} would both be written as {path.stem}_mask.png."
            )
        stems[path.stem] = path
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with progress_bar(len(paths), enabled=progress) as advance:
        for loaded, tried in _readable_batches(paths, batch_size, on_error):
            images = [image for _, image in loaded]
            confidences = (predict_confidence(model, images, batch_size, resize=False)
                           if loaded else [])
            del images
            while loaded:  # each photograph is let go as soon as it is written
                path, image = loaded.pop(0)
                mask = resized_mask(confidences.pop(0), *image.shape[:2])
                mask = fill_small_holes(mask, fill["fill_holes"], in_place=True,
                                        enclosed_fraction=fill["fill_enclosed"])
                mask_path, overlay_path = output_paths(out_dir, path)
                overlay = overlay_mask(image, mask)
                del image
                _save_png(overlay, overlay_path)
                del overlay
                _save_png(mask, mask_path)
                written.append({
                    "image": str(path),
                    "mask": str(mask_path),
                    "overlay": str(overlay_path),
                    "height": int(mask.shape[0]),
                    "width": int(mask.shape[1]),
                    "skin_fraction": float(np.count_nonzero(mask)) / mask.size,
                })
            advance(tried)
    return written
