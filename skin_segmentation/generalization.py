"""The generalization report: how a recipe does on photographs of a kind it never saw.

Two experiments, each scored at native resolution beside colour baselines:

- `leave_one_source_out`: for each named source, train on every other source
  and score the one left out (faces, hands, abdomens, people in the wild...);
- `kfold_finetune`: split a small clinical set into k folds; score a model on
  each fold directly, and after fine-tuning it on the other k - 1 folds. The
  folds are cross-validation of fine-tuning, not a test set. Every held-out
  image's scores are kept with its skin tone (`tone`: the ITA category of its
  ground-truth skin, and the Fitzpatrick type its `pairs.tsv` gives), and
  `kfold_by_tone` groups them by each (`groups.metrics_by_group`).

Scores (`evaluation.set_scores`) are pooled over all pixels of the images scored: the
2-class mIoU (the mean of the skin IoU and the non-skin IoU), the skin Jaccard
(pooled and the mean of per-image Jaccards), and pixel F1 with precision and
recall. `write_report` turns the rows, and the tone tables, into `generalization.md`
and `.csv`.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from skin_segmentation.atomic_files import write_csv_atomic, write_text_atomic
from skin_segmentation.baselines import get_baseline
from skin_segmentation.data.readers import read_dataset
from skin_segmentation.data.splits import select_pool
from skin_segmentation.data.training_set import split_training
from skin_segmentation.evaluation import SET_SCORES, evaluate_models, evaluate_pairs, set_scores
from skin_segmentation.groups import group_gaps, groups_markdown, metrics_by_group, write_group_tables
from skin_segmentation.profiles import get_profile
from skin_segmentation.training import train
from skin_segmentation.weights import load_skin_model, model_image_size

BASELINES_FOR_SCALE = ("all_skin", "ycrcb")
SCORE_COLUMNS = SET_SCORES
# Every held-out image of every fold: model, fold, scores, pixel counts, tone, Fitzpatrick type.
KFOLD_PER_IMAGE = "kfold_finetune_per_image.csv"
# The groupings of `kfold_by_tone`, with their titles.
TONE_GROUPINGS = {"fitzpatrick_type": "Fitzpatrick type", "ita_category": "ITA category"}


def kfolds(pairs, k, seed=0):
    """Split pairs into `k` folds of (almost) equal size, by a seeded shuffle of stems.

    Returns:
        A list of `k` `(training_pairs, held_out_pairs)`; every pair is held out
        exactly once.

    Example:
    >>> [len(held) for _, held in kfolds(list("abcdefg"), 3)]
    [3, 2, 2]
    """
    pairs = sorted(pairs, key=lambda pair: getattr(pair, "stem", pair))
    if not 2 <= k <= len(pairs):
        raise ValueError(f"`k` must lie in [2, {len(pairs)}] for {len(pairs)} pairs. Received: k={k}")
    order = np.random.default_rng(seed).permutation(len(pairs))
    splits = []
    for fold in np.array_split(order, k):
        held = set(fold.tolist())
        splits.append(([pairs[i] for i in sorted(order) if i not in held], [pairs[i] for i in sorted(held)]))
    return splits


@dataclasses.dataclass
class _Scorer:
    """Scores detectors on held-out pairs and keeps the rows and per-image frames."""

    out_dir: Path
    rows: list = dataclasses.field(default_factory=list)

    def score(self, experiment, held_out, detector_name, detector, pairs, **extra):
        per_image, _ = evaluate_pairs(detector, pairs)
        return self.add(experiment, held_out, detector_name, per_image, **extra)

    def add(self, experiment, held_out, detector_name, per_image, **extra):
        """Keep a detector's per-image scores (a CSV) and its row of set scores."""
        per_image_dir = self.out_dir / "per_image"
        per_image_dir.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(per_image_dir / f"{experiment}_{held_out}_{detector_name}.csv", per_image)
        self.rows.append({"experiment": experiment, "held_out": held_out, "model": detector_name,
                          **extra, **set_scores(per_image)})
        return per_image


def _score_baselines(scorer, experiment, held_out, pairs, baselines):
    for name in baselines:
        scorer.score(experiment, held_out, name, get_baseline(name), pairs)


def leave_one_source_out(folders, held_out_sources, profile, out_dir, baselines=BASELINES_FOR_SCALE,
                         preset="unet", verbose="auto"):
    """Train on every source but one, score the one left out; once per named source.

    Args:
        folders: dataset folders; each folder's name is its source.
        held_out_sources: the sources to leave out in turn (names of `folders`).
        profile: a `Profile` or its name: the recipe under test (from random
            initialization, at its `learning_rate`).
        out_dir: where each training run (`loso-<source>/`, resumable) and the
            per-image CSVs go.
        baselines: baseline names scored on the same held-out images.
        preset: the network.

    Returns:
        A DataFrame, one row per (held-out source, model) with `SCORE_COLUMNS`.
    """
    profile = get_profile(profile)
    out_dir = Path(out_dir)
    by_source = {Path(folder).name: read_dataset(folder) for folder in folders}
    unknown = sorted(set(held_out_sources) - set(by_source))
    if unknown:
        raise ValueError(f"Held-out sources {unknown} are not among the folders' names {sorted(by_source)}.")
    scorer = _Scorer(out_dir)
    for number, held_out in enumerate(held_out_sources, start=1):
        print(f"[leave-one-source-out {number}/{len(held_out_sources)}] training without {held_out}", flush=True)
        others = [pair for source, pairs in by_source.items() if source != held_out for pair in pairs]
        train_pairs, validation_pairs = split_training(select_pool(others, profile), profile)
        result = train(preset, train_pairs, validation_pairs, out_dir / f"loso-{held_out}", profile,
                       resume=True, verbose=verbose)
        scorer.score("leave_one_source_out", held_out, preset, result.model, by_source[held_out],
                     trained_on=len(train_pairs))
        _score_baselines(scorer, "leave_one_source_out", held_out, by_source[held_out], baselines)
    return pd.DataFrame(scorer.rows)


def kfold_finetune(folder, weights, profile, out_dir, k=5, baselines=BASELINES_FOR_SCALE, verbose="auto",
                   fill_holes=0.0, fill_enclosed=0.0):
    """Cross-validate fine-tuning on a small set: direct and fine-tuned scores per fold.

    Each fold's model starts from `weights` and trains, at the profile's
    `fine_tune_learning_rate` and at the weights' own input size, on the other
    folds (their validation share held out for early stopping); the fold itself
    is scored before (`direct`) and after (`fine-tuned`), beside the baselines.
    Rows with `held_out == "all folds"` pool the held-out images of every fold,
    whose per-image scores, ITA category and Fitzpatrick type (where the
    dataset's `pairs.tsv` has one) go to `out_dir/KFOLD_PER_IMAGE`.

    Args:
        folder: the dataset folder (e.g. `clinical_ft13`).
        weights: the `.keras` model to start from.
        profile: a `Profile` or its name (its augmentation applies).
        out_dir: where each fold's run (`fold-<i>/`, resumable) and the
            per-image CSVs go.
        k: the number of folds.
        baselines: baseline names scored on the same folds.
        verbose: Keras `fit` verbosity.
        fill_holes, fill_enclosed: score every model's masks after
            `skinseg predict`'s post-processing (`evaluation.evaluate_pairs`);
            `0`: the masks as predicted.

    Returns:
        A DataFrame, one row per (fold, model) and the pooled rows.
    """
    out_dir = Path(out_dir)
    direct_model = load_skin_model(weights)
    profile = get_profile(profile).replace(image_size=model_image_size(direct_model)[0])
    scorer = _Scorer(out_dir)
    held_out_scores = []
    for number, (train_folds, held_out) in enumerate(kfolds(read_dataset(folder), k, profile.seed), start=1):
        print(f"[k-fold fine-tuning {number}/{k}] fine-tuning on {len(train_folds)} images, "
              f"scoring {len(held_out)}", flush=True)
        name = f"fold-{number}"
        train_pairs, validation_pairs = split_training(train_folds, profile)
        result = train(load_skin_model(weights), train_pairs, validation_pairs, out_dir / name, profile,
                       learning_rate=profile.fine_tune_learning_rate, resume=True, verbose=verbose)
        detectors = {"direct": direct_model, "fine-tuned": result.model,
                     **{baseline: get_baseline(baseline) for baseline in baselines}}
        per_image = evaluate_models(detectors, held_out, tone=True, fill_holes=fill_holes,
                                    fill_enclosed=fill_enclosed)
        per_image.insert(1, "fold", name)
        for model_name, frame in per_image.groupby("model", sort=False):
            scorer.add("kfold_finetune", name, model_name, frame.drop(columns=["model", "fold"]))
        held_out_scores.append(per_image)
    every = pd.concat(held_out_scores, ignore_index=True)
    write_csv_atomic(out_dir / KFOLD_PER_IMAGE, every)
    for model_name, frame in every.groupby("model", sort=False):
        scorer.rows.append({"experiment": "kfold_finetune", "held_out": "all folds", "model": model_name,
                            **set_scores(frame)})
    return pd.DataFrame(scorer.rows)


def kfold_by_tone(out_dir):
    """The held-out images of every fold grouped by Fitzpatrick type and by ITA category.

    Args:
        out_dir: the folder `kfold_finetune` wrote `KFOLD_PER_IMAGE` into.

    Returns:
        `{grouping: (table, gaps)}` for `TONE_GROUPINGS` present in the data
        (a dataset whose `pairs.tsv` gives no Fitzpatrick type has only the ITA
        grouping): per model and group, `n`, the mean and the pooled Jaccard,
        pixel F1, precision and recall (`groups.metrics_by_group`), and each
        model's best and worst group (`groups.group_gaps`).

    Raises:
        FileNotFoundError: `out_dir` holds no `KFOLD_PER_IMAGE`.

    Example:
    >>> tables = kfold_by_tone("experiments/results/generalization")  # doctest: +SKIP
    >>> tables["fitzpatrick_type"][0]  # doctest: +SKIP
    """
    path = Path(out_dir) / KFOLD_PER_IMAGE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no k-fold per-image scores here; run kfold_finetune first")
    per_image = pd.read_csv(path, dtype={"fitzpatrick_type": "Int64"})
    tables = {}
    for by in TONE_GROUPINGS:
        if by in per_image and per_image[by].notna().any():
            table = metrics_by_group(per_image, by)
            tables[by] = (table, group_gaps(table))
    return tables


def _markdown(frame):
    columns = ["held_out", "model", *SCORE_COLUMNS]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(out_dir, frames, notes=(), by_tone=None):
    """Write `generalization.csv` (every row) and `generalization.md` (a table per experiment).

    Args:
        out_dir: the report's folder.
        frames: DataFrames from `leave_one_source_out` and `kfold_finetune`.
        notes: lines printed under the title (machine, scale, command).
        by_tone: `kfold_by_tone`'s tables, or None; each is also written as
            `kfold_by_<grouping>.csv`, `_gaps.csv` and `.md`.

    Returns:
        The path of `generalization.md`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = pd.concat([frame for frame in frames if len(frame)], ignore_index=True)
    write_csv_atomic(out_dir / "generalization.csv", rows)
    sections = ["# Generalization report", "", *notes, ""]
    titles = {
        "leave_one_source_out": "## Leave one source out (trained without it, scored on all of it)",
        "kfold_finetune": "## k-fold fine-tuning (cross-validation, not a test set)",
    }
    for experiment, title in titles.items():
        part = rows[rows["experiment"] == experiment]
        if len(part):
            sections += [title, "", _markdown(part), ""]
    for by, (table, gaps) in (by_tone or {}).items():
        title = f"k-fold fine-tuning by {TONE_GROUPINGS[by]} (the held-out images of every fold)"
        write_group_tables(table, gaps, out_dir / f"kfold_by_{by}", title=title)
        sections += [groups_markdown(table, gaps, title=title).replace("# ", "## ", 1)]
    path = out_dir / "generalization.md"
    write_text_atomic(path, "\n".join(sections))
    return path
