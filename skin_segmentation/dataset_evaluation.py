"""`skinseg evaluate` without its command line: one detector scored on a dataset folder.

`evaluate_dataset` reads the folder, keeps the split asked for
(`evaluation.select_split`), scores the detector at each photograph's own size
(`evaluation.evaluate_pairs`) or, `by_tone`, per skin-tone group beside colour
baselines (`evaluation.evaluate_by_tone`, which writes its tables and figure at
`tone_report_prefix`), writes the per-image CSV and the unreadable pairs
(`problems.csv`) beside it, and returns the summary the command prints.
"""

from pathlib import Path

from skin_segmentation import evaluation
from skin_segmentation.inference import BATCH_SIZE
from skin_segmentation.postprocess import check_fill_shares


def tone_report_prefix(data, split="all", out=None, report=None):
    """Where the `by_tone` tables and figure go: `report`, else beside `out`, else here.

    Args:
        data: the dataset folder.
        split: the split scored (it names the default prefix).
        out: the per-image CSV, or `None`.
        report: a prefix chosen by the caller, or `None`.

    Returns:
        A `Path` without suffix: `report`; else `<out's stem>_by_tone` beside
        `out`; else `<data's name>_<split>_by_tone` in the working folder.

    Example:
    >>> tone_report_prefix("data/abdomen", "eval").as_posix()
    'abdomen_eval_by_tone'
    >>> tone_report_prefix("data/abdomen", out="scores/unet.csv").as_posix()
    'scores/unet_by_tone'
    """
    if report:
        return Path(report)
    if out:
        out = Path(out)
        return out.with_name(f"{out.stem}_by_tone")
    return Path(f"{Path(data).name}_{split}_by_tone")


def tone_detectors(detector, baselines):
    """The detectors scored side by side `by_tone`: `detector` first, then the baselines.

    Args:
        detector: an `inference.Detector` (`inference.load_detector`).
        baselines: names of `baselines.BASELINES`; one that is `detector`'s own
            name is not repeated.

    Returns:
        `{name: model}` in that order, as `evaluation.evaluate_by_tone` takes it.

    Example:
    >>> from skin_segmentation.inference import load_detector
    >>> list(tone_detectors(load_detector("all_skin"), ["ycrcb", "all_skin", "hsv"]))
    ['all_skin', 'ycrcb', 'hsv']
    """
    from skin_segmentation.baselines import get_baseline

    detectors = {detector.name: detector.model}
    detectors.update({name: get_baseline(name) for name in baselines if name not in detectors})
    return detectors


def write_scores(out, per_image, problems):
    """Write the per-image CSV at `out` and `problems.csv` beside it, atomically.

    Args:
        out: the CSV's path.
        per_image: the per-image DataFrame.
        problems: the run's `problems.ProblemLog`; without problems, an earlier
            run's `problems.csv` beside `out` is removed.

    Returns:
        The path of `problems.csv` as a string, or `None` when there were none.
    """
    from skin_segmentation.atomic_files import write_csv_atomic

    out = Path(out)
    write_csv_atomic(out, per_image)
    problems_csv = problems.write_csv(out.parent)
    return None if problems_csv is None else str(problems_csv)


def _score_by_tone(detector, pairs, baselines, prefix, title, batch_size, progress, on_error, fill):
    """`detector`'s per-image scores, the group tables as Markdown, the files written.

    `fill` holds `evaluate_by_tone`'s `fill_holes` and `fill_enclosed`.
    """
    from skin_segmentation.groups import groups_markdown

    per_image, reports, paths = evaluation.evaluate_by_tone(
        tone_detectors(detector, baselines), pairs, out=prefix, batch_size=batch_size,
        progress=progress, title=title, on_error=on_error, **fill,
    )
    markdown = [groups_markdown(table, gaps, title=f"{title} by {by.replace('_', ' ')}")
                for by, (table, gaps) in reports.items()]
    files = {by: {kind: str(path) for kind, path in written.items()}
             for by, written in paths.items() if by in reports}
    files["per_image"] = str(paths["per_image"])
    return per_image[per_image["model"] == detector.name].drop(columns="model"), markdown, files


def evaluate_dataset(detector, data, split="all", seed=None, splits_file=None, by_tone=False,
                     baselines=(), report=None, out=None, batch_size=BATCH_SIZE, progress=False,
                     problems=None, fill_holes=0.0, fill_enclosed=0.0):
    """Score `detector` on a split of the dataset folder `data`, as `skinseg evaluate` does.

    Args:
        detector: an `inference.Detector` (`inference.load_detector`).
        data: a dataset folder (`data.readers.read_dataset`).
        split, splits_file: the pairs scored (`evaluation.select_split`).
        seed: the seed of `split` `"eval"`/`"train"`; default
            `evaluation.SPLIT_SEED`, as `skinseg train` and `replicate`.
        by_tone: also score per skin-tone group beside `baselines` (names of
            `baselines.BASELINES`), writing the tables, figure and every
            model's per-image scores at `report` (default `tone_report_prefix`).
        out: the per-image CSV to write (and `problems.csv` beside it), or `None`.
        batch_size: images per network call.
        progress: draw a progress bar on stderr.
        problems: a `problems.ProblemLog` that keeps the pairs that cannot be
            read; default: the first one raises its `DataError`.
        fill_holes: predicted non-skin regions smaller than this share of
            their photograph are made skin before scoring
            (`postprocess.fill_small_holes`; `0`: none).
        fill_enclosed: regions that skin encloses are filled up to this
            larger share (`0`: as any other region).

    Returns:
        `(per_image, summary, markdown)`: `detector`'s per-image scores
        (`evaluation.PER_IMAGE_COLUMNS`, and the tone columns `by_tone`); the
        command's JSON summary (`evaluation.summarize`, then `data`, `split`,
        `model`, `weights`, `fill_holes`, `fill_enclosed`, the `splits` file or the
        `seed`, with `by_tone`
        the files written under `by_tone`, and `problems`, `problem_count`,
        `problems_csv`); the group tables as Markdown (empty unless `by_tone`).

    Raises:
        ValueError: no pair could be read (after `out` is written), a bad
            `split`, or a fill share not in [0, 1).

    Example:
    >>> from skin_segmentation.data.sample import SAMPLE_ROOT
    >>> from skin_segmentation.inference import load_detector
    >>> per_image, summary, _ = evaluate_dataset(load_detector("all_skin"), SAMPLE_ROOT / "sfa")
    >>> summary["n"], summary["pixel_recall"], summary["model"]
    (100, 1.0, 'all_skin')
    """
    from skin_segmentation.data.readers import read_dataset
    from skin_segmentation.problems import ProblemLog

    seed = evaluation.SPLIT_SEED if seed is None else seed
    fill = check_fill_shares(fill_holes, fill_enclosed)
    pairs = evaluation.select_split(read_dataset(data), split, seed=seed, splits_file=splits_file)
    if problems is None:  # an empty ProblemLog is falsy: test for None
        problems = ProblemLog("evaluate_dataset", strict=True, echo=False)
    markdown, extra = [], {}
    if by_tone:
        prefix = tone_report_prefix(data, split, out, report)
        title = f"{Path(data).name} ({split}, {len(pairs)} images)"
        per_image, markdown, extra["by_tone"] = _score_by_tone(
            detector, pairs, baselines, prefix, title, batch_size, progress, problems.add, fill
        )
        summary = evaluation.summarize(per_image)
    else:
        per_image, summary = evaluation.evaluate_pairs(
            detector.model, pairs, batch_size=batch_size, progress=progress, on_error=problems.add,
            **fill,
        )
    problems_csv = write_scores(out, per_image, problems) if out else None
    if per_image.empty:
        raise ValueError(f"{data}: none of the {len(pairs)} pairs could be read.")
    summary.update({"data": str(data), "split": split, "model": detector.name,
                    "weights": None if detector.weights is None else str(detector.weights),
                    **fill})
    if splits_file is not None:
        summary["splits"] = str(splits_file)
    elif split != "all":
        summary["seed"] = seed
    summary.update(extra)
    summary.update(problems=problems.listed(), problem_count=len(problems), problems_csv=problems_csv)
    return per_image, summary, markdown
