"""Data: read (photograph, skin mask) pairs, split them, and feed them to Keras.

`readers` find and decode pairs safely, `splits` draws the paper's splits from a
seed and `splits_file` records them, `training_set` says which images one
training run learns from, validates on and leaves unseen, `arrays` decodes and
resizes pairs once, `pipeline` builds the tf.data input (`passes` orders it and
keys its random draws from the seed alone), `augment` holds the two
augmentation backends, `inspect` checks a folder, and `sample` points at the
shipped sample.
`fetch` gets the public datasets of `catalog` (`download`, `archive`, `convert`)
and checks them against the shipped `manifest`s (`skinseg data`).
"""

from skin_segmentation.data.arrays import clear_cache, load_arrays, resize_image, resize_mask
from skin_segmentation.data.augment import (
    AUGMENT_BACKENDS,
    AugmentConfig,
    augment_batch,
    get_augmenter,
    sample_parameters,
)
from skin_segmentation.data.inspect import inspect_dataset
from skin_segmentation.data.pipeline import make_dataset, preprocess_images, standardize
from skin_segmentation.data.readers import (
    IMAGE_EXTENSIONS,
    MASK_ENCODINGS,
    DataError,
    SkinPair,
    decode_mask,
    detect_layout,
    load_image,
    load_mask,
    load_pair,
    read_dataset,
    read_datasets,
    read_folder,
    read_hgr,
    read_lfw_parts,
    read_lvs,
)
from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.data.splits import balanced_pool, split_target, split_validation
from skin_segmentation.data.splits_file import read_splits, select_stems, write_splits

__all__ = [
    "AUGMENT_BACKENDS",
    "IMAGE_EXTENSIONS",
    "MASK_ENCODINGS",
    "AugmentConfig",
    "DataError",
    "SkinPair",
    "augment_batch",
    "balanced_pool",
    "clear_cache",
    "decode_mask",
    "detect_layout",
    "get_augmenter",
    "inspect_dataset",
    "load_arrays",
    "load_image",
    "load_mask",
    "load_pair",
    "make_dataset",
    "preprocess_images",
    "read_dataset",
    "read_datasets",
    "read_folder",
    "read_hgr",
    "read_lfw_parts",
    "read_lvs",
    "read_splits",
    "resize_image",
    "resize_mask",
    "sample_datasets",
    "sample_parameters",
    "select_stems",
    "split_target",
    "split_validation",
    "standardize",
    "write_splits",
]
