"""The sample shipped with the package: small real pairs to run everything on.

`skin_segmentation/data/sample/` holds, downsized, 400 abdominal photographs
(the target: enough for the paper's 100/300 protocol) and 100 pairs each of
SFA, FASSEG and HGR (the pre-training pool), in the plain folder layout
(`images/`, `masks/`, `pairs.tsv`). `experiments/make_sample.py` rebuilds it
from `../shared/data`; `sample/ATTRIBUTION.md` cites the sources and licences.
"""

from pathlib import Path

SAMPLE_ROOT = Path(__file__).resolve().parent / "sample"
PRETRAIN_SOURCES = ("sfa", "fasseg", "hgr_subset")
TARGET_SOURCE = "abdomen"


def sample_datasets():
    """Folders of the shipped sample: `(pretrain_dirs, target_dir)`.

    Returns:
        `([sample/sfa, sample/fasseg, sample/hgr_subset], sample/abdomen)` as
        `pathlib.Path`s.

    Raises:
        FileNotFoundError: when the installed package lacks its sample.

    Example:
    >>> pretrain, target = sample_datasets()
    >>> [path.name for path in pretrain], target.name
    (['sfa', 'fasseg', 'hgr_subset'], 'abdomen')
    """
    folders = [SAMPLE_ROOT / name for name in PRETRAIN_SOURCES]
    target = SAMPLE_ROOT / TARGET_SOURCE
    for folder in [*folders, target]:
        if not (folder / "images").is_dir():
            raise FileNotFoundError(
                f"{folder}: the shipped sample is missing; reinstall the package or run "
                "python experiments/make_sample.py"
            )
    return folders, target
