"""Manifests: what each converted dataset must contain, and checking a folder against one.

`manifests/<name>.tsv.gz` (shipped in the package, made from `../shared/data` by
`experiments/make_manifests.py`) has one row per pair: the dataset's `pairs.tsv`
columns, then

| column | what |
|---|---|
| `image` | the file name under `images/` |
| `image_sha256` | SHA-256 of that file's bytes in the shared data |
| `image_pixels_sha256` | for PNG images only: `pixels_sha256` of the decoded image (another zlib may write other bytes for the same pixels) |
| `mask_sha256` | `pixels_sha256` of the decoded mask |
| `archive_image`, `archive_mask` | paths inside the repository archive (`dir/stem.*`: that stem with any image extension) |

ECU and CCP are downsized in the shared data, so their rows describe the
downsized pairs; `manifests/<name>.MANIFEST.sha256.gz` (the shared data's
`MANIFEST.sha256`) gives the SHA-256 of every original image and label in the
archive. An original-size pair matches when its image is that original and its
mask, brought down by nearest neighbour as `--downsize` does, is the manifest's.
"""

import csv
import dataclasses
import gzip
import hashlib
import io
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from skin_segmentation.data.archive import ANY_IMAGE_SUFFIX
from skin_segmentation.data.catalog import CATALOG
from skin_segmentation.data.convert import downsize_mask
from skin_segmentation.data.download import file_sha256
from skin_segmentation.data.readers import DataError

MANIFEST_DIR = Path(__file__).with_name("manifests")
HASH_COLUMNS = ("image", "image_sha256", "image_pixels_sha256", "mask_sha256", "archive_image", "archive_mask")
MAX_PROBLEMS_LISTED = 5


def pixels_sha256(array):
    """SHA-256 (hex) of decoded pixels: of `"<shape>\\n"` then the C-order bytes.

    Example:
    >>> pixels = np.zeros((2, 3), np.uint8)
    >>> pixels_sha256(pixels) == pixels_sha256(pixels.copy()), pixels_sha256(pixels) == pixels_sha256(pixels.T)
    (True, False)
    """
    array = np.ascontiguousarray(array)
    header = ("x".join(str(side) for side in array.shape) + f" {array.dtype.str}\n").encode()
    return hashlib.sha256(header + array.tobytes()).hexdigest()


def decoded_sha256(path):
    """`pixels_sha256` of an image file as Pillow decodes it (no conversion)."""
    with Image.open(path) as image:
        return pixels_sha256(np.asarray(image))


def manifest_path(name):
    """The shipped manifest of dataset `name`."""
    return MANIFEST_DIR / f"{name}.tsv.gz"


def read_manifest(name):
    """The rows (dicts, in order) and column names of the shipped manifest of `name`.

    Raises:
        DataError: when no manifest of that name ships with the package.

    Example:
    >>> rows, columns = read_manifest("abdomen")
    >>> len(rows), columns[:2], rows[0]["archive_mask"]
    (617, ['stem', 'split_in_source'], 'coco-abdomen/train/annotations/001_skin_001.png')
    """
    path = manifest_path(name)
    if not path.is_file():
        raise DataError(path, f"no manifest of {name!r} ships with this package")
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return list(reader), list(reader.fieldnames)


def read_source_sha256(name):
    """`{archive path: SHA-256}` of the originals of `name` (ECU, CCP), or None."""
    path = MANIFEST_DIR / f"{name}.MANIFEST.sha256.gz"
    if not path.is_file():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return {relative: digest for digest, relative in (line.split(None, 1) for line in handle.read().splitlines())}


def pairs_columns(columns):
    """The manifest columns that make up `pairs.tsv` (all but `HASH_COLUMNS`)."""
    return [column for column in columns if column not in HASH_COLUMNS]


# ----------------------------------------------------------------------------- making


def archive_paths(name, row):
    """Where the pair of a shared `pairs.tsv` row lies in its archive: (image, mask).

    Example:
    >>> archive_paths("sfa", {"source_path": "skin/train/skin_train2019/1.jpeg"})
    ('skin/train/skin_train2019/1.jpeg', 'skin/train/annotations/1_skin_1.png')
    """
    if name in ("sfa", "abdomen"):
        image = PurePosixPath(row["source_path"])
        return str(image), str(image.parent.parent / "annotations" / f"{image.stem}_skin_{image.stem}.png")
    if name == "fasseg":
        image = PurePosixPath("model", row["source_path"])
        labels = image.parent.with_name(image.parent.name.replace("_RGB", "_Labels"))
        return str(image), str(labels / image.stem) + ANY_IMAGE_SUFFIX
    if name == "hgr_subset":
        split, stem = row["split_in_source"], row["stem"]
        return f"{split}/Images/{stem}.jpg", f"{split}/Masks-Ideal/{stem}.bmp"
    if name == "clinical_ft13":
        folder = f"data/annotations/annotator1/{row['stem']}"
        return f"{folder}/{row['source_file']}", f"{folder}/nonskin.png"
    if name == "negatives_indoor":
        return row["source_path"], ""
    if name in ("ecu", "ccp"):
        return row["source_image"], row["source_mask"]
    raise ValueError(f"no archive layout known for dataset {name!r}")


def make_manifest(folder, name):
    """The manifest rows and columns of a converted dataset folder (as in `../shared/data`).

    Args:
        folder: a dataset folder with `images/`, `masks/` and `pairs.tsv`.
        name: its catalogue name (chooses `archive_paths`).

    Returns:
        (rows, columns), ready for `write_manifest`.
    """
    folder = Path(folder)
    with open(folder / "pairs.tsv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        pairs, columns = list(reader), list(reader.fieldnames)
    images = {path.stem: path for path in (folder / "images").iterdir()}
    rows = []
    for pair in pairs:
        image = images[pair["stem"]]
        archive_image, archive_mask = archive_paths(name, pair)
        rows.append({
            **pair,
            "image": image.name,
            "image_sha256": file_sha256(image),
            "image_pixels_sha256": decoded_sha256(image) if image.suffix == ".png" else "",
            "mask_sha256": decoded_sha256(folder / "masks" / f"{pair['stem']}.png"),
            "archive_image": archive_image,
            "archive_mask": archive_mask,
        })
    return rows, columns + list(HASH_COLUMNS)


def write_manifest(rows, columns, path):
    """Write rows as a gzip TSV, byte-identical for identical rows (no timestamp)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    Path(path).write_bytes(gzip.compress(text.getvalue().encode("utf-8"), mtime=0))


# ----------------------------------------------------------------------------- checking


def image_matches(row, path, source_sha256=None):
    """True when `path` is the manifest's image, or (ECU, CCP) the original it came from."""
    actual = file_sha256(path)
    if actual == row["image_sha256"]:
        return True
    if source_sha256 is not None and actual == source_sha256.get(row["archive_image"]):
        return True
    return bool(row["image_pixels_sha256"]) and decoded_sha256(path) == row["image_pixels_sha256"]


def mask_matches(row, path, downsize_to=None):
    """True when the decoded mask is the manifest's (checked downsized when `downsize_to`)."""
    with Image.open(path) as image:
        pixels = np.asarray(image)
    if pixels_sha256(pixels) == row["mask_sha256"]:
        return True
    if downsize_to is None or pixels.ndim != 2 or pixels.dtype != np.uint8:
        return False
    return pixels_sha256(downsize_mask(pixels, downsize_to)) == row["mask_sha256"]


@dataclasses.dataclass
class VerifyReport:
    """How a folder compares with a manifest (see `verify_folder`)."""

    folder: str
    dataset: str
    expected: int
    matching: int = 0
    missing: int = 0
    differing: int = 0
    extra: int = 0
    problems: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        return self.matching == self.expected and self.extra == 0

    def summary(self):
        """One line for people."""
        return (f"{self.dataset}: {self.matching} of {self.expected} pairs match the manifest, "
                f"{self.missing} missing, {self.differing} differ, {self.extra} not in it ({self.folder})")


def _folder_stems(folder):
    pairs_tsv = folder / "pairs.tsv"
    if pairs_tsv.is_file():
        with open(pairs_tsv, encoding="utf-8", newline="") as handle:
            return {row["stem"] for row in csv.DictReader(handle, delimiter="\t")}
    images = folder / "images"
    return {path.stem for path in images.iterdir() if not path.name.startswith(".")} if images.is_dir() else set()


def detect_dataset(folder):
    """The catalogue name whose manifest shares the most stems with `folder`.

    Raises:
        DataError: when the folder has no stems, or none that any manifest lists.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "no such folder")
    stems = _folder_stems(folder)
    overlaps = {name: len(stems & {row["stem"] for row in read_manifest(name)[0]})
                for name in CATALOG if manifest_path(name).is_file()}
    best = max(overlaps, key=overlaps.get)
    if not overlaps[best]:
        raise DataError(folder, f"none of its {len(stems)} stems is in a shipped manifest "
                                f"({', '.join(overlaps)}); ECU's test split has none")
    return best


def verify_folder(folder, name=None):
    """Compare every pair of a dataset folder with its manifest.

    Args:
        folder: a folder with `images/` and `masks/` (and usually `pairs.tsv`).
        name: its dataset; detected from its stems when None.

    Returns:
        A `VerifyReport`: pairs matching, missing (no image or no mask), differing,
        and stems the manifest does not list; up to 5 `"path: problem"` lines.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> report = verify_folder(sample_datasets()[1], "abdomen")  # 400 pairs, downsized
    >>> report.expected, report.matching, report.missing, report.differing
    (617, 0, 217, 400)
    """
    folder = Path(folder)
    name = name or detect_dataset(folder)
    rows, _ = read_manifest(name)
    source_sha256 = read_source_sha256(name)
    downsize_to = CATALOG[name].downsize_max_side
    report = VerifyReport(str(folder), name, len(rows))
    report.extra = len(_folder_stems(folder) - {row["stem"] for row in rows})
    for row in rows:
        image, mask = folder / "images" / row["image"], folder / "masks" / f"{row['stem']}.png"
        if not (image.is_file() and mask.is_file()):
            report.missing += 1
            continue
        problem = None
        try:
            if not image_matches(row, image, source_sha256):
                problem = f"{image}: differs from the manifest"
            elif not mask_matches(row, mask, downsize_to):
                problem = f"{mask}: differs from the manifest"
        except (OSError, ValueError) as error:
            problem = f"{image.parent.parent}/{row['stem']}: unreadable ({error})"
        if problem is None:
            report.matching += 1
        else:
            report.differing += 1
            if len(report.problems) < MAX_PROBLEMS_LISTED:
                report.problems.append(problem)
    return report
