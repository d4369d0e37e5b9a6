"""`skinseg inspect-data DIR`: check every pair of a dataset folder, report in one line."""

import collections
import concurrent.futures
import os
from pathlib import Path

from skin_segmentation.data.readers import DataError, detect_layout, ignored_files, load_pair, scan_dataset

MAX_PROBLEMS_LISTED = 20
MAX_SIZES_LISTED = 10


def _check(pair):
    try:
        image, mask = load_pair(pair)
    except DataError as error:
        return None, str(error)
    return (f"{image.shape[1]}x{image.shape[0]}", float(mask.mean())), None


def inspect_dataset(directory, workers=None):
    """Decode every pair of a dataset folder and summarize what is usable.

    Args:
        directory: a dataset folder in any layout `read_dataset` understands.
        workers: decoding threads.

    Returns:
        A JSON-ready dict:
        - `directory`, `layout` ("folder", "hgr", "lfw_parts" or "lvs");
        - `pairs`: stems found (complete pairs, plus images without a mask and
          masks without an image);
        - `usable`: pairs that decode, with a two-valued mask of their image's size;
        - `sizes`: `{"WxH": count}` of the usable images, the most common first
          (at most 10, the rest counted under "other");
        - `skin_fraction`: mean, min and max over usable pairs (`None` if none);
        - `problems`: `"path: problem"` lines (at most 20), `problem_count` all;
        - `ignored_files`: files skipped for their extension.

    Raises:
        DataError: when the folder is missing, empty or in no known layout.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> summary = inspect_dataset(sample_datasets()[1])
    >>> summary["pairs"], summary["usable"], summary["problems"]
    (400, 400, [])
    """
    root = Path(directory)
    layout = detect_layout(root)
    pairs, scan_problems = scan_dataset(root)
    problems = [str(problem) for problem in scan_problems]
    workers = workers or min(4, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_check, pairs))
    sizes = collections.Counter()
    fractions = []
    for summary, problem in results:
        if problem is not None:
            problems.append(problem)
            continue
        size, fraction = summary
        sizes[size] += 1
        fractions.append(fraction)
    listed_sizes = dict(sizes.most_common(MAX_SIZES_LISTED))
    if len(sizes) > MAX_SIZES_LISTED:
        listed_sizes["other"] = sum(sizes.values()) - sum(listed_sizes.values())
    ignored = [path for folder in ("images", "masks") for path in ignored_files(root / folder)]
    return {
        "directory": str(root),
        "layout": layout,
        "pairs": len(pairs) + len(scan_problems),
        "usable": len(fractions),
        "sizes": listed_sizes,
        "skin_fraction": (
            {
                "mean": round(sum(fractions) / len(fractions), 4),
                "min": round(min(fractions), 4),
                "max": round(max(fractions), 4),
            }
            if fractions
            else None
        ),
        "problems": problems[:MAX_PROBLEMS_LISTED],
        "problem_count": len(problems),
        "ignored_files": len(ignored),
    }
