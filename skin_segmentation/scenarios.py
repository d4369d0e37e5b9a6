"""The three transfer scenarios of Table I: train, evaluate and record one cell.

For every preset (network) of Codella et al. 2018:

- direct transfer: train from random initialization on the public healthy-skin
  pool (pre-training), then evaluate on the target's evaluation images without
  fine-tuning;
- direct training: train from random initialization on the target's training
  images (the paper's 100), evaluate on its evaluation images (the paper's 300);
- fine-tuning: start from the pre-trained weights, train on the same 100 images
  at the fine-tuning learning rate, evaluate on the same 300.

Pre-training happens once per preset (`RESULTS/pretrained/<preset>/`) and serves
both scenarios that need it. Every cell writes `RESULTS/<preset>/<scenario>/`
(`record.h5`, `history.csv`, `per_image.csv`, `model.keras`); a cell interrupted
while training resumes from its last finished epoch. `replicate` runs every cell.

Cells are scored at the network's input size: each evaluation image and its
mask are resized to `profile.image_size` squared (as in training), and each
image's Jaccard index and Dice coefficient at threshold 0.5 are kept with its
pixel counts, from which the record computes the scores pooled over the set
(those stand beside the paper's figures) as well as the per-image means.
`skin_segmentation.evaluation` scores at the photographs' full resolution.
"""

import dataclasses
import time

import numpy as np
import pandas as pd

from skin_segmentation import metrics
from skin_segmentation.atomic_files import write_csv_atomic
from skin_segmentation.models import PRESETS, standardization_of
from skin_segmentation.records import write_record
from skin_segmentation.training import TrainResult, read_state, train, weights_fingerprint

PRETRAINED_DIR = "pretrained"


@dataclasses.dataclass
class CellRun:
    """How the network of one cell was trained.

    Attributes:
        result: the `TrainResult` of its training (the pre-training's for direct transfer).
        learning_rate: the SGD learning rate it trained at.
        init_weights: the `.keras` file it started from (fine-tuning), else `None`.
        train_split: the name of the split it trained on (`replicate.SPLIT_NAMES`).
        validation_split: the name of its validation split.
    """

    result: TrainResult
    learning_rate: float
    init_weights: str | None
    train_split: str
    validation_split: str


def evaluate_cell(model, images, masks, stems, batch_size):
    """Per-image Jaccard, Dice and pixel counts of `model` on preprocessed images.

    Args:
        model: a trained network.
        images: float32 `(N, S, S, 3)` as `model` takes them
            (`EvaluationSet.inputs_for`).
        masks: `(N, S, S)` true masks in {0, 1}.
        stems: the N image stems.
        batch_size: prediction batch size.

    Returns:
        `(per_image, confidence)`: a DataFrame with `stem`, `jaccard`, `dice` and
        the pixel counts `tp`, `fp`, `fn`, `tn`, and the float32 confidences
        `(N, S, S)`.
    """
    confidence = model.predict(images, batch_size=batch_size, verbose=0)[..., 0]
    confidence = confidence.astype("float32")
    counts = metrics.per_image_counts(masks, confidence)
    per_image = pd.DataFrame({
        "stem": list(stems),
        "jaccard": metrics.jaccard_from_counts(counts["tp"], counts["fp"], counts["fn"]),
        "dice": metrics.dice_from_counts(counts["tp"], counts["fp"], counts["fn"]),
        **counts,
    })
    return per_image, confidence


class EvaluationSet:
    """The target's evaluation images, loaded and preprocessed once per replication."""

    def __init__(self, pairs, image_size):
        from skin_segmentation.data.arrays import load_arrays

        self.stems = [pair.stem for pair in pairs]
        self.images_uint8, self.masks = load_arrays(pairs, image_size)
        self._inputs = {}

    def inputs_for(self, model):
        """The images as `model` takes them (its `models.standardization_of`)."""
        from skin_segmentation.data.pipeline import model_inputs

        standardization = standardization_of(model)
        if standardization not in self._inputs:
            self._inputs[standardization] = model_inputs(self.images_uint8, standardization)
        return self._inputs[standardization]


def cell_config(profile, preset, scenario, learning_rate, init_weights, data, seed):
    """The `config` a cell's record keeps: profile, preset, scenario, data and seed."""
    return {
        "profile": profile.to_config(),
        "preset": preset,
        "preset_config": {k: list(v) if isinstance(v, tuple) else v
                          for k, v in {**PRESETS[preset].config,
                                       **profile.overrides_for(preset)}.items()},
        "scenario": scenario,
        "learning_rate": learning_rate,
        "init_weights": init_weights,
        "seed": seed,
        "data": data,
    }


def pretrain(preset, splits, out_dir, profile, seed, strategy=None, verbose="auto"):
    """Train `preset` on the pool (`out_dir/pretrained/<preset>/`), or load it when done."""
    return train(
        preset,
        splits["pool_train"],
        splits["pool_validation"],
        out_dir / PRETRAINED_DIR / preset,
        profile.for_pretraining(),
        learning_rate=profile.learning_rate,
        resume=True,
        strategy=strategy,
        seed=seed,
        verbose=verbose,
    )


def train_cell(preset, scenario, splits, out_dir, profile, pretrained, seed, strategy=None,
               verbose="auto"):
    """Train (or resume) the network of one cell.

    Args:
        preset: the network.
        scenario: one of `models.SCENARIOS`.
        splits: the replication's splits (`replicate.prepare_splits`).
        out_dir: the results folder.
        profile: a `Profile`.
        pretrained: the preset's pre-training `TrainResult`, or `None` when it has
            not been needed yet in this process.
        seed: the training seed.
        strategy: a `tf.distribute.Strategy`, or `None`.
        verbose: Keras verbosity.

    Returns:
        `(run, pretrained)`: the cell's `CellRun`, and the pre-training result
        (trained here when the scenario needed it and it was `None`).
    """
    if scenario != "direct_training" and pretrained is None:
        pretrained = pretrain(preset, splits, out_dir, profile, seed, strategy, verbose)
    if scenario == "direct_transfer":
        return CellRun(pretrained, profile.learning_rate, None, "pool_train",
                       "pool_validation"), pretrained
    fine_tuning = scenario == "fine_tuning"
    learning_rate = profile.fine_tune_learning_rate if fine_tuning else profile.learning_rate
    pretrained_path = out_dir / PRETRAINED_DIR / preset / "model.keras"
    init_weights = str(pretrained_path) if fine_tuning else None
    run_dir = out_dir / preset / scenario
    result = train(
        preset,
        splits["target_train"],
        splits["target_validation"],
        run_dir,
        profile,
        learning_rate=learning_rate,
        init_weights=init_weights,
        resume=True,
        overwrite=fine_tuning and _tuned_from_other_weights(run_dir, pretrained),
        strategy=strategy,
        seed=seed,
        verbose=verbose,
    )
    return CellRun(result, learning_rate, init_weights, "target_train", "target_validation"), pretrained


def _tuned_from_other_weights(run_dir, pretrained):
    """Whether the fine-tuning run in `run_dir` started from other weights than `pretrained`'s.

    It did when the pre-training changed after it (continued to a higher epoch
    cap): such a run is trained again, from the new pre-trained weights.
    """
    started_from = (read_state(run_dir) or {}).get("initial_weights_sha256")
    if started_from is None or started_from == weights_fingerprint(pretrained.model):
        return False
    print(f"{run_dir}: started from other pre-trained weights than today's; training it again.",
          flush=True)
    return True


def write_cell(path, run, preset, scenario, *, profile, seed, splits, evaluation, per_image,
               confidence, eval_seconds, data, device, pretrained, out_dir):
    """Write a cell's `per_image.csv`, its `history.csv` (direct transfer) and `record.h5`.

    `splits` are the replication's pairs, `evaluation` its `EvaluationSet`,
    `per_image` and `confidence` what `evaluate_cell` returned, `data` the
    description of the data kept in the record's config, `pretrained` the
    preset's pre-training `TrainResult` or `None`.
    """
    result = run.result
    history = result.history
    write_csv_atomic(path.parent / "per_image.csv", per_image)
    if scenario == "direct_transfer":
        write_csv_atomic(path.parent / "history.csv", history)
    attributes = {
        "epochs": int(len(history)),
        "best_epoch": int(result.best_epoch),
        "best_val_loss": float(result.best_val_loss),
        "stopped_early": bool(result.stopped_early),
        "train_images": len(splits[run.train_split]),
        "epoch_train_images": profile.epoch_train_images(len(splits[run.train_split])),
        "steps_per_epoch": profile.steps_per_epoch(len(splits[run.train_split])),
        "validation_images": len(splits[run.validation_split]),
        "eval_images": len(per_image),
        "learning_rate": float(run.learning_rate),
        "image_size": profile.image_size,
        "precision": profile.precision,
        "device": device,
        "initial_weights_sha256": result.initial_weights_sha256,
        "evaluated_weights_sha256": weights_fingerprint(result.model),
        "pretrained_weights_sha256": (
            weights_fingerprint(pretrained.model) if pretrained is not None else ""
        ),
        "init_weights": run.init_weights or "",
        "train_seconds": float(history["seconds"].sum()),
        "eval_seconds": float(eval_seconds),
        "run_dir": str(result.out_dir.relative_to(out_dir)),
    }
    stems = {name: [pair.stem for pair in splits[name]]
             for name in (run.train_split, run.validation_split, "target_eval")}
    write_record(
        path,
        preset=preset,
        scenario=scenario,
        profile=profile.name,
        config=cell_config(profile, preset, scenario, run.learning_rate, run.init_weights, data,
                           seed),
        parameters=result.parameters,
        seconds_per_epoch=result.seconds_per_epoch,
        seed=seed,
        history=history,
        splits={
            "train": stems[run.train_split],
            "validation": stems[run.validation_split],
            "eval": stems["target_eval"],
        },
        per_image=per_image,
        eval_images=evaluation.images_uint8,
        eval_masks=evaluation.masks,
        eval_confidence=confidence,
        attributes=attributes,
    )


def score_cell(run, evaluation, batch_size):
    """`(per_image, confidence, seconds)` of `evaluate_cell` on the cell's trained model."""
    started = time.perf_counter()
    per_image, confidence = evaluate_cell(
        run.result.model, evaluation.inputs_for(run.result.model), evaluation.masks,
        evaluation.stems, batch_size,
    )
    return per_image, confidence, time.perf_counter() - started


def score_baselines(evaluation, names):
    """Pooled and mean Jaccard and Dice of baselines on the cells' evaluation images.

    The baselines (`baselines.get_baseline`; untrained ones) are applied to the
    uint8 evaluation images at the networks' input size, and scored on the same
    resized masks, so their rows in Table I compare with the networks' like for like.

    Args:
        evaluation: the `EvaluationSet` of the cells.
        names: baseline names, e.g. `("all_skin", "ycrcb")`.

    Returns:
        A DataFrame with `tables.BASELINE_COLUMNS`, one row per baseline.
    """
    from skin_segmentation.baselines import get_baseline
    from skin_segmentation.tables import BASELINE_COLUMNS

    rows = []
    for name in names:
        confidences = np.stack(get_baseline(name).predict(list(evaluation.images_uint8)))
        counts = metrics.per_image_counts(evaluation.masks, confidences)
        tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
        pooled_jaccard, pooled_dice = metrics.pooled_scores(tp, fp, fn)
        rows.append({"baseline": name, "pooled_jaccard": pooled_jaccard, "pooled_dice": pooled_dice,
                     "mean_jaccard": float(np.mean(metrics.jaccard_from_counts(tp, fp, fn))),
                     "mean_dice": float(np.mean(metrics.dice_from_counts(tp, fp, fn))),
                     "eval_images": len(tp)})
    return pd.DataFrame(rows, columns=list(BASELINE_COLUMNS))
