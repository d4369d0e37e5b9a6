"""The Bayesian colour-histogram skin classifier of Jones and Rehg (2002).

Two RGB histograms (`HISTOGRAM_BINS` cells per channel) count the colours of
skin and of non-skin pixels over a training pool; a colour is skin when the
likelihood ratio `r = P(c | skin) / P(c | non-skin)` reaches a threshold chosen
for the best pooled pixel F1 on validation images. The confidence is
`r / (r + threshold)`, at least 0.5 exactly where `r >= threshold`. A trained
classifier is a small `.npz` file (`HistogramClassifier.save`, `load_histogram`).

    M. J. Jones and J. M. Rehg, "Statistical color models with application to
    skin detection", Int. J. Comput. Vis. 46(1):81-96, 2002.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from skin_segmentation.baselines.rules import Baseline
from skin_segmentation.metrics import pixel_f1

HISTOGRAM_BINS = 32  # per channel, as Jones and Rehg's 32^3 model
HISTOGRAM_NAME = "histogram.npz"  # what `skinseg train --model histogram` writes in its run folder


def _check_bins(bins):
    if int(bins) != bins or not 2 <= bins <= 256:
        raise ValueError(f"`bins` must be an integer in [2, 256]. Received: bins={bins}")
    return int(bins)


def colour_bins(pixels, bins=HISTOGRAM_BINS):
    """The flat index of each uint8 RGB pixel's cell in a `bins`^3 colour histogram.

    Example:
    >>> colour_bins(np.array([[0, 0, 0], [255, 255, 255], [8, 0, 0]], "uint8")).tolist()
    [0, 32767, 1024]
    """
    cells = np.asarray(pixels, "uint8").astype("int32") * _check_bins(bins) // 256
    return (cells[..., 0] * bins + cells[..., 1]) * bins + cells[..., 2]


def count_colours(image, mask, bins=HISTOGRAM_BINS):
    """Skin and non-skin counts of one photograph's colours: two `bins`^3 int64 arrays.

    Args:
        image: uint8 `(H, W, 3)`.
        mask: `(H, W)`, skin where nonzero (or True).
        bins: cells per channel.

    Example:
    >>> image = np.array([[[0, 0, 0], [255, 0, 0]]], "uint8")
    >>> skin, non_skin = count_colours(image, np.array([[0, 1]]), bins=2)
    >>> skin.tolist(), non_skin.tolist()
    ([0, 0, 0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0])
    """
    mask = np.asarray(mask) > 0
    if mask.shape != np.shape(image)[:2]:
        raise ValueError(
            f"The mask must have the image's height and width {np.shape(image)[:2]}. "
            f"Received: mask.shape={mask.shape}"
        )
    cells = colour_bins(image, bins)
    size = bins**3
    skin = np.bincount(cells[mask], minlength=size).astype("int64")
    non_skin = np.bincount(cells[~mask], minlength=size).astype("int64")
    return skin, non_skin


def _likelihood_ratio(skin, non_skin):
    """P(colour | skin) / P(colour | non-skin) per cell; inf where only skin was seen, 0 where neither."""
    p_skin = skin / max(skin.sum(), 1)
    p_non_skin = non_skin / max(non_skin.sum(), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = p_skin / p_non_skin
    return np.where(p_skin > 0, ratio, 0.0)


def choose_threshold(ratio, validation_skin, validation_non_skin):
    """The likelihood-ratio threshold with the best pixel F1 on validation counts.

    Every distinct finite ratio of a cell is a candidate (skin where
    `ratio >= theta`), and one above them all (only colours never seen off
    skin). Cells with ratio 0 are never skin.

    Args:
        ratio: per-cell likelihood ratio of the training counts.
        validation_skin, validation_non_skin: per-cell counts of validation pixels.

    Returns:
        `(theta, f1)`: the threshold and its pooled pixel F1 on validation.

    Example:
    >>> choose_threshold(np.array([4.0, 1.0, 0.25]), np.array([9, 1, 0]), np.array([1, 9, 10]))
    (4.0, 0.9)
    """
    finite = np.unique(ratio[np.isfinite(ratio) & (ratio > 0)])[::-1]  # descending
    above_all = 2.0 * finite[0] if len(finite) else 1.0
    candidates = np.concatenate([[above_all], finite])
    # A cell passes candidates first_pass, first_pass + 1, ... (those <= its
    # ratio); count validation pixels at the first, then cumulate down the list.
    first_pass = np.searchsorted(-candidates, -ratio, side="left")
    passing = first_pass < len(candidates)
    tp = np.cumsum(np.bincount(first_pass[passing], validation_skin[passing], len(candidates)))
    fp = np.cumsum(np.bincount(first_pass[passing], validation_non_skin[passing], len(candidates)))
    fn = validation_skin.sum() - tp
    f1 = np.array([pixel_f1(*counts)[2] for counts in zip(tp, fp, fn)])
    best = int(np.argmax(f1))
    return float(candidates[best]), float(f1[best])


class HistogramClassifier(Baseline):
    """Jones and Rehg's Bayesian colour-histogram skin classifier.

    A colour is skin when `P(c | skin) / P(c | non-skin) >= threshold`, the
    probabilities being the normalized counts of two `bins`^3 RGB histograms.
    The confidence is `r / (r + threshold)`: the posterior P(skin | c) under the
    prior the threshold implies, 0.5 exactly at the threshold. Colours never
    seen on training skin have confidence 0.

    Args:
        skin_counts, non_skin_counts: int arrays of `bins`^3 cells (flat or cubic).
        threshold: the likelihood-ratio threshold (> 0).
        info: a dict of facts about its training (pixels, validation F1, data).

    Example:
    >>> skin = np.zeros(8, "int64"); skin[4] = 10  # reddish cell of a 2^3 histogram
    >>> non_skin = np.zeros(8, "int64"); non_skin[0] = 10  # dark cell
    >>> model = HistogramClassifier(skin, non_skin, threshold=1.0)
    >>> model.predict([np.array([[[200, 10, 10], [10, 10, 10]]], "uint8")])[0].tolist()
    [[1.0, 0.0]]
    """

    name = "histogram"

    def __init__(self, skin_counts, non_skin_counts, threshold, info=None):
        skin = np.asarray(skin_counts, "int64").ravel()
        non_skin = np.asarray(non_skin_counts, "int64").ravel()
        bins = round(len(skin) ** (1 / 3))
        if skin.shape != non_skin.shape or bins**3 != len(skin):
            raise ValueError(
                f"Skin and non-skin counts must both hold bins^3 cells. Received: "
                f"{skin.shape} and {non_skin.shape}"
            )
        if not np.isfinite(threshold) or threshold <= 0:
            raise ValueError(f"`threshold` must be positive and finite. Received: threshold={threshold}")
        self.bins = _check_bins(bins)
        self.skin_counts, self.non_skin_counts = skin, non_skin
        self.threshold = float(threshold)
        self.info = dict(info or {})
        ratio = _likelihood_ratio(skin, non_skin)
        with np.errstate(invalid="ignore"):
            table = np.where(np.isinf(ratio), 1.0, ratio / (ratio + self.threshold))
        self._table = table.astype("float32")

    def _pixel_rule(self, pixels):
        return self._table[colour_bins(pixels, self.bins)]

    def save(self, path):
        """Write the counts, threshold and info to a compressed `.npz`, atomically."""
        from skin_segmentation.atomic_files import atomic_path

        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"{path}: a histogram model is saved as a .npz file.")
        with atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez_compressed(
                    handle, skin_counts=self.skin_counts, non_skin_counts=self.non_skin_counts,
                    threshold=self.threshold, info=json.dumps(self.info),
                )
        return path

    def __repr__(self):
        return f"HistogramClassifier(bins={self.bins}, threshold={self.threshold:.4g})"


def load_histogram(path):
    """A `HistogramClassifier` saved by its `save` (e.g. `skinseg train --model histogram`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is damaged or not a saved histogram classifier
            (`model_files.check_model_file`).
    """
    from skin_segmentation.model_files import check_model_file

    path = check_model_file(path, "histogram")
    try:
        with np.load(path, allow_pickle=False) as saved:
            return HistogramClassifier(
                saved["skin_counts"], saved["non_skin_counts"], float(saved["threshold"]),
                info=json.loads(str(saved["info"])),
            )
    except (KeyError, OSError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: not a saved histogram classifier ({error}).") from None


def fit_histogram(train_pairs, validation_pairs, bins=HISTOGRAM_BINS, progress=None):
    """Count skin and non-skin colours on training pairs; choose the threshold on validation.

    Args:
        train_pairs: `SkinPair`s whose pixels fill the two histograms.
        validation_pairs: `SkinPair`s on which the threshold with the best
            pooled pixel F1 is chosen.
        bins: cells per RGB channel.
        progress: a callable given the number of pairs done after each, or None.

    Returns:
        A `HistogramClassifier`.

    Raises:
        ValueError: no training or no validation pairs, or no skin among them.
    """
    from skin_segmentation.data.readers import load_pair

    bins = _check_bins(bins)
    if not train_pairs or not validation_pairs:
        raise ValueError(
            f"The histogram needs training and validation pairs. Received: "
            f"{len(train_pairs)} training, {len(validation_pairs)} validation"
        )

    def counted(pairs):
        skin = np.zeros(bins**3, "int64")
        non_skin = np.zeros(bins**3, "int64")
        for pair in pairs:
            image, mask = load_pair(pair)
            pair_skin, pair_non_skin = count_colours(image, mask, bins)
            skin += pair_skin
            non_skin += pair_non_skin
            if progress is not None:
                progress(1)
        return skin, non_skin

    skin, non_skin = counted(train_pairs)
    if not skin.any():
        raise ValueError(f"No skin pixel in the {len(train_pairs)} training pairs.")
    validation_skin, validation_non_skin = counted(validation_pairs)
    threshold, f1 = choose_threshold(_likelihood_ratio(skin, non_skin), validation_skin, validation_non_skin)
    info = {
        "bins": bins,
        "train_pairs": len(train_pairs),
        "validation_pairs": len(validation_pairs),
        "train_skin_pixels": int(skin.sum()),
        "train_non_skin_pixels": int(non_skin.sum()),
        "validation_pixel_f1": f1,
        "sources": sorted({pair.source for pair in train_pairs}),
    }
    return HistogramClassifier(skin, non_skin, threshold, info)

