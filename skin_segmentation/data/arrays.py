"""Pairs on disk -> resized arrays in memory, decoded once for the whole process.

Decoding happens once, in Python, with Pillow (`readers.load_pair`: EXIF
orientation, palette, alpha, 16-bit, truncated files); each pair is resized to
the working size (image bilinear, mask by area average then threshold at 0.5)
and kept in memory, in a cache shared by every dataset built in the process
(`load_arrays`; `clear_cache` forgets it). `pipeline` builds the training
batches from these arrays.
"""

import collections
import concurrent.futures
import os
import threading

import numpy as np
from PIL import Image

from skin_segmentation.data.readers import load_pair

DEFAULT_IMAGE_SIZE = 128
CACHE_BYTES = 2 * 1024**3


def check_image_size(image_size):
    """`image_size` as an `int`, checked to be a positive whole number.

    Raises:
        ValueError: naming the value, for a size that is not a positive integer.

    Example:
    >>> check_image_size(64.0)
    64
    """
    if int(image_size) != image_size or image_size < 1:
        raise ValueError(f"`image_size` must be a positive integer. Received: image_size={image_size}")
    return int(image_size)


def resize_image(image, image_size=DEFAULT_IMAGE_SIZE):
    """Resize `uint8 (H, W, 3)` to `(S, S, 3)` with Pillow's bilinear filter.

    Downsizing uses Pillow's antialiased bilinear filter (its support grows with
    the reduction), so a large photograph is averaged rather than aliased.

    Example:
    >>> resize_image(np.zeros((40, 60, 3), "uint8"), 16).shape
    (16, 16, 3)
    """
    image_size = check_image_size(image_size)
    image = np.asarray(image, dtype=np.uint8)
    if image.shape[:2] == (image_size, image_size):
        return image.copy()
    return np.asarray(Image.fromarray(image).resize((image_size, image_size), Image.BILINEAR))


def resize_mask(mask, image_size=DEFAULT_IMAGE_SIZE):
    """Resize a {0, 1} mask to `(S, S)`: area average, then skin where >= 0.5.

    Example:
    >>> mask = np.zeros((4, 4), "uint8"); mask[:, :2] = 1
    >>> resize_mask(mask, 2).tolist()
    [[1, 0], [1, 0]]
    """
    image_size = check_image_size(image_size)
    mask = np.asarray(mask, dtype=np.uint8)
    if mask.shape == (image_size, image_size):
        return mask.copy()
    area = Image.fromarray(mask.astype(np.float32)).resize((image_size, image_size), Image.BOX)
    return (np.asarray(area) >= 0.5).astype(np.uint8)


class _ArrayCache:
    """Resized arrays by (files, their modification times, size); least recently used out."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._entries = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(pair, image_size):
        stamps = []
        for path in (pair.image, pair.mask):
            try:
                stat = os.stat(path)
                stamps.append((os.path.abspath(path), stat.st_mtime_ns, stat.st_size))
            except OSError:
                return None  # load_pair raises the DataError that names it
        return (*stamps, pair.mask_encoding, image_size)

    def get(self, key):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key, value):
        size = value[0].nbytes + value[1].nbytes
        with self._lock:
            if key in self._entries or size > self.max_bytes:
                return
            self._entries[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (image, mask) = self._entries.popitem(last=False)
                self._bytes -= image.nbytes + mask.nbytes

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_CACHE = _ArrayCache(CACHE_BYTES)


def clear_cache():
    """Forget every decoded pair kept by `load_arrays`."""
    _CACHE.clear()


def _load_resized(pair, image_size, cache):
    key = _ArrayCache.key(pair, image_size) if cache else None
    if key is not None:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
    image, mask = load_pair(pair)
    resized = (resize_image(image, image_size), resize_mask(mask, image_size))
    if key is not None:
        _CACHE.put(key, resized)
    return resized


def load_arrays(pairs, image_size=DEFAULT_IMAGE_SIZE, cache=True, workers=None):
    """Decode and resize every pair: `(uint8 (N, S, S, 3), uint8 (N, S, S) in {0, 1})`.

    Args:
        pairs: a list of `SkinPair`.
        image_size: the side `S` of the square working size.
        cache: reuse pairs decoded earlier in this process at this size (files
            are re-read when their modification time changed).
        workers: decoding threads; Pillow releases the GIL while decoding.

    Raises:
        DataError: for the first pair (in list order) that cannot be used.

    Example:
    >>> from skin_segmentation.data import read_folder, sample_datasets
    >>> images, masks = load_arrays(read_folder(sample_datasets()[1])[:4], 64)
    >>> images.shape, masks.shape, images.dtype
    ((4, 64, 64, 3), (4, 64, 64), dtype('uint8'))
    """
    image_size = check_image_size(image_size)
    pairs = list(pairs)
    if not pairs:
        raise ValueError("`pairs` is empty: nothing to load.")
    workers = workers or min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        loaded = list(pool.map(lambda pair: _load_resized(pair, image_size, cache), pairs))
    images = np.stack([image for image, _ in loaded])
    masks = np.stack([mask for _, mask in loaded])
    return images, masks
