"""Skin tone of a photograph: its individual typology angle (ITA) and category,
and the Fitzpatrick type a dataset's `pairs.tsv` may give.

The ITA of Chardon et al. (1991) is `arctan((L* - 50) / b*)` in degrees, from
CIELAB (D65) coordinates; here L* and b* are the medians over the photograph's
ground-truth skin pixels (`skimage.color.rgb2lab`), which a lesion or a shadow
moves less than a mean. Its six categories (Del Bino and Bernerd 2013) are
very light (> 55), light (41, 55], intermediate (28, 41], tan (10, 28],
brown (-30, 10] and dark (<= -30). A photograph with fewer than
`MIN_SKIN_PIXELS` skin pixels (100: a 10x10 patch) has tone "unknown": a
handful of edge pixels says nothing about a person's skin.

References:
    A. Chardon, I. Cretois and C. Hourseau, "Skin colour typology and suntanning
    pathways", Int. J. Cosmet. Sci. 13(4):191-208, 1991.
    S. Del Bino and F. Bernerd, "Variations in skin colour and the biological
    consequences of ultraviolet radiation exposure", Br. J. Dermatol. 169
    (Suppl. 3):33-40, 2013.
"""

import csv
from pathlib import Path

import numpy as np

MIN_SKIN_PIXELS = 100
UNKNOWN = "unknown"
# (category, lower bound exclusive), from the lightest down; "dark" takes the rest.
ITA_CATEGORIES = (
    ("very_light", 55.0),
    ("light", 41.0),
    ("intermediate", 28.0),
    ("tan", 10.0),
    ("brown", -30.0),
    ("dark", -np.inf),
)
TONE_ORDER = (*(name for name, _ in ITA_CATEGORIES), UNKNOWN)
FITZPATRICK_COLUMN = "fitzpatrick_type"
FITZPATRICK_TYPES = (1, 2, 3, 4, 5, 6)
TONE_COLUMNS = ("skin_pixels", "lightness", "b_star", "ita", "ita_category")


def ita_degrees(lightness, b_star):
    """The individual typology angle `arctan((L* - 50) / b*)` in degrees, in [-90, 90].

    Computed as `arctan2((L* - 50) * sign(b*), |b*|)`: the same angle wherever
    b* != 0, and +-90 (the sign of L* - 50) at b* = 0 instead of a division by zero.

    Example:
    >>> round(float(ita_degrees(70.0, 20.0)), 2)  # arctan(1): 45 degrees
    45.0
    >>> float(ita_degrees(60.0, 0.0))
    90.0
    """
    lightness = np.asarray(lightness, "float64")
    b_star = np.asarray(b_star, "float64")
    sign = np.where(b_star < 0, -1.0, 1.0)
    return np.degrees(np.arctan2((lightness - 50.0) * sign, np.abs(b_star)))


def ita_category(ita):
    """The ITA category of an angle in degrees; NaN gives "unknown".

    Example:
    >>> [ita_category(a) for a in (60, 55, 41.5, 30, 10, 0, -45, float("nan"))]
    ['very_light', 'light', 'light', 'intermediate', 'brown', 'brown', 'dark', 'unknown']
    """
    if ita is None or np.isnan(ita):
        return UNKNOWN
    for name, lower in ITA_CATEGORIES:
        if ita > lower:
            return name
    return ITA_CATEGORIES[-1][0]


def skin_tone(image, mask, min_pixels=MIN_SKIN_PIXELS):
    """ITA and category of one photograph from its ground-truth skin pixels.

    Args:
        image: uint8 RGB `(H, W, 3)`.
        mask: `(H, W)`, skin where nonzero (or True).
        min_pixels: fewer skin pixels than this give tone "unknown".

    Returns:
        A dict: `skin_pixels`, `lightness` (median L*), `b_star` (median b*),
        `ita` (degrees) and `ita_category`; the three figures are NaN when the
        tone is unknown.

    Raises:
        ValueError: image and mask shapes differ, or the image is not RGB.

    Example:
    >>> image = np.full((20, 20, 3), (224, 172, 150), "uint8")  # a light skin colour
    >>> tone = skin_tone(image, np.ones((20, 20)))
    >>> tone["ita_category"], round(tone["ita"], 1)
    ('light', 52.7)
    """
    from skimage.color import rgb2lab

    image = np.asarray(image)
    mask = np.asarray(mask) > 0
    if image.ndim != 3 or image.shape[-1] != 3 or mask.shape != image.shape[:2]:
        raise ValueError(
            f"Expected an RGB image (H, W, 3) and a mask (H, W) of the same size. "
            f"Received: image.shape={image.shape}, mask.shape={mask.shape}"
        )
    count = int(np.count_nonzero(mask))
    if count < min_pixels:
        return {"skin_pixels": count, "lightness": np.nan, "b_star": np.nan,
                "ita": np.nan, "ita_category": UNKNOWN}
    lab = rgb2lab(image[mask][None])[0]  # only the skin pixels: (count, 3)
    lightness, b_star = float(np.median(lab[:, 0])), float(np.median(lab[:, 2]))
    ita = float(ita_degrees(lightness, b_star))
    return {"skin_pixels": count, "lightness": lightness, "b_star": b_star,
            "ita": ita, "ita_category": ita_category(ita)}


def skin_tones(pairs, min_pixels=MIN_SKIN_PIXELS):
    """`skin_tone` of every pair, with its Fitzpatrick type where `pairs.tsv` gives one.

    Args:
        pairs: `SkinPair`s (`data.readers.read_dataset`).
        min_pixels: see `skin_tone`.

    Returns:
        A DataFrame with `stem`, `TONE_COLUMNS` and `fitzpatrick_type`
        (nullable integer, missing where unknown), one row per pair in order.

    Example:
    >>> from skin_segmentation.data.readers import read_dataset  # doctest: +SKIP
    >>> skin_tones(read_dataset("../shared/data/clinical_ft13"))  # doctest: +SKIP
    """
    import pandas as pd

    from skin_segmentation.data.readers import load_pair

    pairs = list(pairs)
    rows = []
    for pair in pairs:
        image, mask = load_pair(pair)
        rows.append({"stem": pair.stem, **skin_tone(image, mask, min_pixels)})
    tones = pd.DataFrame(rows, columns=["stem", *TONE_COLUMNS])
    types = fitzpatrick_for_pairs(pairs)
    tones[FITZPATRICK_COLUMN] = pd.array([types.get(pair.stem) for pair in pairs], dtype="Int64")
    return tones


def read_fitzpatrick(dataset_dir):
    """Fitzpatrick type (1-6) per stem from `dataset_dir/pairs.tsv`, if it has the column.

    Args:
        dataset_dir: a dataset folder (`images/`, `masks/`, `pairs.tsv`).

    Returns:
        `{stem: type}` for the rows whose `fitzpatrick_type` is 1 to 6; empty
        when there is no `pairs.tsv` or no such column. Blank, "unknown" or
        out-of-range values (Fitzpatrick 17k marks unknown as -1) are left out.

    Raises:
        ValueError: a value that is not a number, naming the file and the row.

    Example:
    >>> read_fitzpatrick("../shared/data/clinical_ft13")["00f1b7bb9581e91250a2bb224c3321b8"]  # doctest: +SKIP
    4
    """
    path = Path(dataset_dir) / "pairs.tsv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if FITZPATRICK_COLUMN not in (reader.fieldnames or ()) or "stem" not in reader.fieldnames:
            return {}
        types = {}
        for line, row in enumerate(reader, start=2):
            value = (row[FITZPATRICK_COLUMN] or "").strip()
            if value.lower() in ("", "unknown", "nan", "na", "n/a"):
                continue
            try:
                number = float(value)
            except ValueError:
                raise ValueError(
                    f"{path}: line {line}: {FITZPATRICK_COLUMN} {value!r} is not a number 1-6."
                ) from None
            if number in FITZPATRICK_TYPES:
                types[row["stem"]] = int(number)
    return types


def fitzpatrick_for_pairs(pairs):
    """`{stem: Fitzpatrick type}` of pairs, read from each of their datasets' `pairs.tsv`."""
    types = {}
    for folder in sorted({Path(pair.image).parent.parent for pair in pairs}):
        types.update(read_fitzpatrick(folder))
    stems = {pair.stem for pair in pairs}
    return {stem: value for stem, value in types.items() if stem in stems}
