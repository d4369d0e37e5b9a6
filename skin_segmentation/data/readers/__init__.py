"""Readers: find (image, skin mask) pairs on disk and decode them safely.

One module per layout (`folder`, `hgr`, `lfw_parts`, `lvs`), `layouts` to
recognise and read any of them, `pairs` for `SkinPair` and `DataError`, and
`images` to decode photographs and masks.

Four layouts are understood, each giving a list of `SkinPair` (where an image and
its mask are, which dataset they came from and how the mask encodes skin):

- a plain folder, `images/<stem>.<ext>` beside `masks/<stem>.<ext>`, optionally
  with a `pairs.tsv` whose `stem` column lists every pair (the layout of
  `../shared/data/*` and how a clinic's own set arrives); masks are white = skin;
- HGR (Kawulok et al. 2014) as distributed: `original_images/<stem>.jpg` beside
  `skin_masks/<stem>.bmp`, where **black is skin**;
- LFW Part Labels (Kae et al. 2013): funneled 250x250 images
  `lfw_funneled/<Person_Name>/<Person_Name>_<NNNN>.jpg` and ground truth
  `parts_lfw_funneled_gt_images/<Person_Name>_<NNNN>.ppm` whose colours code
  hair (red), **skin (green)** and background (blue);
- LVS, frames of videos with one mask per frame; the layout assumed here is
  `<video>/frames/<frame>.<ext>` beside `<video>/masks/<frame>.<ext>` (white =
  skin), and a pair's stem is `<video>__<frame>`.

Every problem with the input raises `DataError`, whose message starts with the
offending file: a reader never guesses which mask belongs to an image, and a
decoder never guesses what an ambiguous mask meant.
"""

from skin_segmentation.data.readers.folder import read_folder, scan_folder
from skin_segmentation.data.readers.hgr import read_hgr, scan_hgr
from skin_segmentation.data.readers.images import (
    AMBIGUOUS_MARGIN,
    LFW_MAX_COLOUR_DISTANCE,
    LFW_PART_COLOURS,
    MAX_AMBIGUOUS_FRACTION,
    decode_mask,
    load_image,
    load_mask,
    load_pair,
)
from skin_segmentation.data.readers.layouts import (
    detect_layout,
    read_dataset,
    read_datasets,
    scan_dataset,
)
from skin_segmentation.data.readers.lfw_parts import read_lfw_parts, scan_lfw_parts
from skin_segmentation.data.readers.lvs import read_lvs, scan_lvs
from skin_segmentation.data.readers.pairs import (
    IMAGE_EXTENSIONS,
    MASK_ENCODINGS,
    DataError,
    SkinPair,
    ignored_files,
)

__all__ = [
    "AMBIGUOUS_MARGIN",
    "IMAGE_EXTENSIONS",
    "LFW_MAX_COLOUR_DISTANCE",
    "LFW_PART_COLOURS",
    "MASK_ENCODINGS",
    "MAX_AMBIGUOUS_FRACTION",
    "DataError",
    "SkinPair",
    "decode_mask",
    "detect_layout",
    "ignored_files",
    "load_image",
    "load_mask",
    "load_pair",
    "read_dataset",
    "read_datasets",
    "read_folder",
    "read_hgr",
    "read_lfw_parts",
    "read_lvs",
    "scan_dataset",
    "scan_folder",
    "scan_hgr",
    "scan_lfw_parts",
    "scan_lvs",
]
