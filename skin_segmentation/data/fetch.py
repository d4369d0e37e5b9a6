"""`skinseg data get`: download a catalogued dataset, convert it, check it, put it in place.

For each dataset: the pinned archive is downloaded (resumably) to
`<root>/.downloads/`, the files its manifest lists are taken out of it, each pair
is converted (`convert`) and checked against the manifest (`manifest`), and the
folder is built as `<root>/.<folder>.partial` and renamed to `<root>/<folder>` only
when every pair matched. A failure or an interruption leaves no folder that looks
complete (the `.partial` one is removed; the `.part` download stays, so running the
command again resumes it). ECU's test split goes only to `<root>/ecu_test/`, marked
evaluation only; no manifest of it ships, so it is not checked pair by pair.

The data root is `--to DIR`, else `$SKINSEG_DATA`, else `./data`; archives come
from `$SKINSEG_DATA_MIRROR` (default https://github.com), same paths.
"""

import csv
import dataclasses
import os
import shutil
import sys
from pathlib import Path, PurePosixPath

from PIL import Image

from skin_segmentation.data.archive import MemberMatcher, extract
from skin_segmentation.data.catalog import DEFAULT_MIRROR, get_source
from skin_segmentation.data.convert import FASSEG_CLASSES_TEXT, convert_pair, fasseg_classes
from skin_segmentation.data.download import download, file_sha256
from skin_segmentation.data.manifest import (
    image_matches,
    mask_matches,
    pairs_columns,
    read_manifest,
    read_source_sha256,
)
from skin_segmentation.data.readers import DataError

DATA_DIR_ENV = "SKINSEG_DATA"
MIRROR_ENV = "SKINSEG_DATA_MIRROR"
ACCEPT_TERMS_ENV = "SKINSEG_ACCEPT_TERMS"
DEFAULT_DATA_DIR = "data"
DOWNLOADS = ".downloads"
ECU_TEST_README = """# ECU test split: EVALUATION ONLY

The {count} pairs of ECU's test split, as listed by `dataset/test.txt` of
ttarasiewicz/Skinny @ {commit}. They are held out for evaluation: never train,
fine-tune, tune or select a model on them, and keep this folder out of every
`--data`/`--pretrain` list. Masks: the label PNG's first channel > 127 is skin.
No manifest of this split ships with skinseg, so these pairs were not checked
against a reference copy.
"""


@dataclasses.dataclass
class FetchResult:
    """What `fetch_dataset` did: the folder, its pairs, and whether it was checked."""

    name: str
    folder: Path
    pairs: int
    verified: bool
    already_present: bool = False


def data_root(to=None):
    """The data root: `to`, else `$SKINSEG_DATA`, else `./data`."""
    return Path(to or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def terms_notice(sources):
    """The terms of `sources`, as printed before anything is downloaded."""
    blocks = [f"{source.name} ({source.licence}):\n  {source.terms}" for source in sources]
    return "Terms of the requested datasets:\n" + "\n".join(blocks)


def confirm_terms(sources, assume_yes=False, stdin=None, stdout=None):
    """Tell the user the terms and get their consent before anything is written.

    Consent is `assume_yes` (`--yes`), `$SKINSEG_ACCEPT_TERMS=1`, or "y" typed on a
    terminal. Without a terminal and without either, nothing is asked.

    Raises:
        ValueError: one line naming each dataset's licence, when not accepted.
    """
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    accepted = assume_yes or os.environ.get(ACCEPT_TERMS_ENV, "").lower() in ("1", "yes", "true")
    if not accepted and not stdin.isatty():
        summary = "; ".join(f"{source.name}: {source.licence}" for source in sources)
        raise ValueError(f"accept the terms ({summary}) with --yes or {ACCEPT_TERMS_ENV}=1 "
                         "(no terminal to ask on)")
    print(terms_notice(sources), file=stdout, flush=True)
    if not accepted:
        stdout.write("Accept these terms? [y/N] ")
        stdout.flush()
        if stdin.readline().strip().lower() not in ("y", "yes"):
            raise ValueError("terms not accepted: nothing was downloaded")


class _EcuTestMatcher:
    """ECU images and labels not in the train/val manifest, and `dataset/test.txt`."""

    def __init__(self, kept_out):
        self.kept_out = kept_out
        self.paths = ["dataset/test.txt"]  # required; the pairs it lists are checked by _ecu_test_rows

    def key(self, path):
        pure = PurePosixPath(path)
        if path == "dataset/test.txt":
            return path
        if str(pure.parent) in ("dataset/org/features", "dataset/org/labels") and pure.stem not in self.kept_out:
            return path
        return None


def _ecu_test_rows(found, archive):
    """Manifest-like rows of the pairs `dataset/test.txt` lists (no hashes: none ship)."""
    rows = []
    for line in found["dataset/test.txt"].read_text().split():
        identifier = PurePosixPath(line).stem
        image, mask = f"dataset/org/features/{identifier}.jpg", f"dataset/org/labels/{identifier}.png"
        if image not in found or mask not in found:
            raise DataError(archive, f"test.txt lists {identifier}, but {image if image not in found else mask} "
                                     "is missing or is a training/validation image")
        with Image.open(found[image]) as photo:
            width, height = photo.size
        rows.append({"stem": f"ecu_{identifier}", "split_in_source": "test", "source_image": image,
                     "source_mask": mask, "orig_width": width, "orig_height": height,
                     "image": f"ecu_{identifier}.jpg", "archive_image": image, "archive_mask": mask})
    return rows, ["stem", "split_in_source", "source_image", "source_mask", "orig_width", "orig_height"]


def _check_originals(rows, found, source_sha256):
    """ECU/CCP originals: each image and label must have the SHA-256 of `MANIFEST.sha256`."""
    for row in rows:
        for relative in (row["archive_image"], row["archive_mask"]):
            if file_sha256(found[relative]) != source_sha256.get(relative):
                raise DataError(relative, "differs from the shipped MANIFEST.sha256 of the originals")


def _write_extras(source, build, rows, columns, source_sha256):
    with open(build / "pairs.tsv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, delimiter="\t", lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (build / "CITATION.md").write_text(f"# {source.name}\n\nCite:\n\n{source.citation}\n\n"
                                       f"Source: {source.archive_url()}\n")
    (build / "TERMS").write_text(f"{source.name}: {source.licence}\n\n{source.terms}\n")
    if source_sha256 is not None:
        wanted = [path for row in rows for path in (row["archive_image"], row["archive_mask"])]
        (build / "MANIFEST.sha256").write_text("".join(f"{source_sha256[p]}  {p}\n" for p in wanted))
    if source.evaluation_only:
        (build / "README.md").write_text(ECU_TEST_README.format(count=len(rows), commit=source.commit))


def _convert_all(source, rows, found, build, max_side, source_sha256, verify):
    (build / "images").mkdir()
    (build / "masks").mkdir()
    if source.mask_rule == "fasseg_skin_and_nose":
        (build / "labels_orig").mkdir()
        (build / "labels_orig" / "CLASSES.txt").write_text(FASSEG_CLASSES_TEXT)
    for row in rows:
        image, mask = build / "images" / row["image"], build / "masks" / f"{row['stem']}.png"
        label = found.get(row["archive_mask"]) if row["archive_mask"] else None
        convert_pair(found[row["archive_image"]], label, source.mask_rule, image, mask, max_side)
        if source.mask_rule == "fasseg_skin_and_nose":
            Image.fromarray(fasseg_classes(label)).save(build / "labels_orig" / f"{row['stem']}.png")
        if verify and not image_matches(row, image, None if max_side else source_sha256):
            raise _not_reproduced(source, image)
        if verify and not mask_matches(row, mask, None if max_side else source.downsize_max_side):
            raise _not_reproduced(source, mask)


def _not_reproduced(source, path):
    return DataError(f"{source.folder}/{path.parent.name}/{path.name}", "the conversion does not reproduce the "
                     "manifest (the archive or the converter differs from the shared data's)")


def _rows_and_matcher(source, stems):
    if source.evaluation_only:
        kept_out = {PurePosixPath(row["archive_image"]).stem for row in read_manifest("ecu")[0]}
        return None, None, _EcuTestMatcher(kept_out)
    rows, columns = read_manifest(source.name)
    if stems is not None:
        unknown = set(stems) - {row["stem"] for row in rows}
        if unknown:
            raise ValueError(f"{source.name} has no stem {sorted(unknown)[0]!r}")
        rows = [row for row in rows if row["stem"] in set(stems)]
    wanted = [path for row in rows for path in (row["archive_image"], row["archive_mask"]) if path]
    return rows, pairs_columns(columns), MemberMatcher(wanted)


def fetch_dataset(name, root=None, *, downsize=False, stems=None, mirror=None, timeout=60.0,
                  retries=3, progress="stderr"):
    """Download, convert and check one catalogued dataset into `<root>/<folder>`.

    Args:
        name: a catalogue name (`skinseg data list`); `ecu-test` for ECU's test split.
        root: the data root (default `data_root()`).
        downsize: ECU and CCP only: downsize as `../shared/data` holds them.
        stems: convert only these stems (a quick look, or a test on a small archive).
        mirror: scheme and host of the archives (default `$SKINSEG_DATA_MIRROR` or GitHub).
        timeout, retries: see `download.download`.
        progress: a text stream for progress lines, `"stderr"` (default) or `None`.

    Returns:
        A `FetchResult`. An existing `<root>/<folder>` is left as it is.

    Raises:
        DataError: naming the address, archive or file at fault (download failed,
            archive corrupted or incomplete, a pair that does not match the
            manifest); nothing is left at `<root>/<folder>`.
        ValueError: for an unknown name, `downsize` of another dataset, or an
            unknown stem.

    Example:
    >>> fetch_dataset("abdomen", "/tmp/none", mirror="http://127.0.0.1:9", retries=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skin_segmentation.data.readers.pairs.DataError: http://127.0.0.1:9/MRE-Lab-UMD/...: cannot download (...)
    """
    source = get_source(name)
    progress = sys.stderr if progress == "stderr" else progress
    if downsize and source.downsize_max_side is None:
        raise ValueError(f"--downsize applies to ecu, ecu-test and ccp, not {source.name}")
    root = data_root(root)
    target = root / source.folder
    if target.exists():
        return FetchResult(source.name, target, _count_pairs(target), verified=False, already_present=True)
    rows, columns, matcher = _rows_and_matcher(source, stems)
    url = source.archive_url(mirror or os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR)
    archive = download(url, root / DOWNLOADS / source.archive_name, sha256=source.archive_sha256,
                       timeout=timeout, retries=retries, progress=progress)
    build = root / f".{source.folder}.partial"
    shutil.rmtree(build, ignore_errors=True)
    try:
        _say(progress, f"{source.name}: unpacking {archive.name}")
        found = _extract_or_discard(archive, source, matcher, build / ".source")
        missing = [path for path in matcher.paths if path not in found]
        if missing:
            raise DataError(archive, f"has no {source.archive_top}/{missing[0]} ({len(missing)} files missing)")
        if rows is None:
            rows, columns = _ecu_test_rows(found, archive)
        source_sha256 = None if source.evaluation_only else read_source_sha256(source.name)
        if source_sha256 is not None:
            _check_originals(rows, found, source_sha256)
        _say(progress, f"{source.name}: converting {len(rows)} pairs")
        max_side = source.downsize_max_side if downsize else None
        _convert_all(source, rows, found, build, max_side, source_sha256, verify=not source.evaluation_only)
        _write_extras(source, build, rows, columns, source_sha256)
        shutil.rmtree(build / ".source")
        os.rename(build, target)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return FetchResult(source.name, target, len(rows), verified=not source.evaluation_only)


def _extract_or_discard(archive, source, matcher, destination):
    try:
        return extract(archive, source.archive_top, matcher, destination)
    except DataError:
        archive.unlink(missing_ok=True)  # corrupted: the next run downloads it afresh
        raise


def _count_pairs(folder):
    masks = folder / "masks"
    return sum(1 for _ in masks.iterdir()) if masks.is_dir() else 0


def _say(stream, line):
    if stream is not None:
        print(line, file=stream, flush=True)


def remove_archives(root, names):
    """Delete the downloaded archives of `names` from `<root>/.downloads` (after use)."""
    for name in names:
        path = data_root(root) / DOWNLOADS / get_source(name).archive_name
        path.unlink(missing_ok=True)
