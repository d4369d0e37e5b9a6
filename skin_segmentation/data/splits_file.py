"""The splits file: which images a run drew into each split, by stem, as JSON.

`write_splits` records named lists of stems with the seed they were drawn with
(`{"seed": 0, "splits": {"train": [stem, ...], ...}}`), `read_splits` reads them
back, refusing in one line a file that is not one, and `select_stems` rebuilds a
recorded split from a fresh read of the data.
"""

import json
from pathlib import Path

from skin_segmentation.data.readers import DataError, SkinPair


def _stems(values):
    stems = []
    for value in values:
        stems.append(value.stem if isinstance(value, SkinPair) else str(value))
    return stems


def write_splits(path, seed=None, **named_lists):
    """Write named splits as JSON: `{"seed": seed, "splits": {name: [stem, ...]}}`.

    Args:
        path: the JSON file to write (its folder is created).
        seed: the seed the splits were drawn with, recorded beside them.
        **named_lists: lists of `SkinPair` or of stems, e.g.
            `train=..., validation=..., evaluation=...`.

    Returns:
        The path written.

    Example:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "splits.json")
    >>> _ = write_splits(path, seed=0, train=["a", "b"], evaluation=["c"])
    >>> read_splits(path)
    {'train': ['a', 'b'], 'evaluation': ['c']}
    """
    if not named_lists:
        raise ValueError("`write_splits` needs at least one named list, e.g. train=[...].")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"seed": seed, "splits": {name: _stems(values) for name, values in named_lists.items()}}
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


def read_splits(path, with_seed=False):
    """Read a file written by `write_splits`.

    Args:
        path: the JSON file.
        with_seed: also return the recorded seed.

    Returns:
        `{name: [stem, ...]}`, or `(that dict, seed)` when `with_seed`.

    Raises:
        DataError: naming the file when it is not a splits file.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(path, "no such splits file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(path, f"not valid JSON ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("splits"), dict):
        raise DataError(path, 'expected {"seed": ..., "splits": {name: [stem, ...]}}')
    splits = {name: [str(stem) for stem in stems] for name, stems in document["splits"].items()}
    return (splits, document.get("seed")) if with_seed else splits


def select_stems(pairs, stems):
    """The pairs whose stems are listed, in the order of `stems`.

    Use it to rebuild a split recorded by `write_splits` from a fresh read of
    the data.

    Raises:
        ValueError: listing stems that no pair has.

    Example:
    >>> from skin_segmentation.data import read_folder, sample_datasets
    >>> pairs = read_folder(sample_datasets()[1])
    >>> [p.stem for p in select_stems(pairs, [pairs[2].stem, pairs[0].stem])] == [pairs[2].stem, pairs[0].stem]
    True
    """
    by_stem = {pair.stem: pair for pair in pairs}
    missing = [stem for stem in stems if stem not in by_stem]
    if missing:
        raise ValueError(
            f"{len(missing)} recorded stems are not in the data (e.g. {missing[:5]}); "
            "was the split recorded on another dataset?"
        )
    return [by_stem[stem] for stem in stems]
