"""Skin detectors that need no network: the floor and the classics to beat.

- `all_skin`: every pixel is skin (what the target's skin fraction alone scores);
- `ycrcb`: the explicit chrominance rule of Chai and Ngan (1999);
- `hsv`: the explicit hue/saturation rule of Sobottka and Pitas (1996, 1998);
- `histogram`: the Bayesian colour histogram of Jones and Rehg (2002), trained
  on a pool (`skinseg train --model histogram`) and saved as a small `.npz`.

Each has `predict(images)`: uint8 RGB photographs at their own sizes in, float32
confidence maps `(H, W)` in [0, 1] out, skin at `>= 0.5` (see `rules.Baseline`).
"""

from skin_segmentation.baselines.histogram import (
    HISTOGRAM_BINS,
    HISTOGRAM_NAME,
    HistogramClassifier,
    choose_threshold,
    colour_bins,
    count_colours,
    fit_histogram,
    load_histogram,
)
from skin_segmentation.baselines.rules import (
    HSV_RULE,
    YCRCB_RULE,
    AllSkin,
    Baseline,
    HSVRule,
    YCrCbRule,
    rgb_to_crcb,
    rgb_to_hue_saturation,
)

BASELINES = {"all_skin": AllSkin, "ycrcb": YCrCbRule, "hsv": HSVRule, "histogram": load_histogram}


def get_baseline(name, weights=None):
    """A baseline by name; `"histogram"` is loaded from `weights` (its `.npz`).

    Args:
        name: one of `BASELINES`.
        weights: the `.npz` of a trained histogram (only for `"histogram"`).

    Raises:
        ValueError: an unknown name, or `"histogram"` without `weights`.

    Example:
    >>> get_baseline("ycrcb")
    YCrCbRule()
    """
    if name not in BASELINES:
        raise ValueError(f"Unknown baseline {name!r}. Choose from: {', '.join(BASELINES)}.")
    if name == "histogram":
        if weights is None:
            raise ValueError(
                "The histogram baseline is trained: give its .npz (skinseg train --model histogram)."
            )
        return load_histogram(weights)
    if weights is not None:
        raise ValueError(f"The {name} baseline has no weights. Received: weights={weights}")
    return BASELINES[name]()


__all__ = [
    "BASELINES",
    "HISTOGRAM_BINS",
    "HISTOGRAM_NAME",
    "HSV_RULE",
    "YCRCB_RULE",
    "AllSkin",
    "Baseline",
    "HSVRule",
    "HistogramClassifier",
    "YCrCbRule",
    "choose_threshold",
    "colour_bins",
    "count_colours",
    "fit_histogram",
    "get_baseline",
    "load_histogram",
    "rgb_to_crcb",
    "rgb_to_hue_saturation",
]
