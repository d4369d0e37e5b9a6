"""The three transfer scenarios of Table I, for each network.

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
(`record.h5`, `history.csv`, `per_image.csv`, `model.keras`); a cell whose
`record.h5` exists is not run again, and a cell interrupted while training
resumes from its last finished epoch, so an interrupted `replicate` is continued
by running the same command again.

Cells are scored at the network's input size: each evaluation image and its
mask are resized to `profile.image_size` squared (as in training), and the mean
per-image Jaccard index and Dice coefficient at threshold 0.5 are reported.
`skin_segmentation.evaluation` scores at the photographs' full resolution.
"""

import json
import shlex
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skin_segmentation import metrics
from skin_segmentation.models import PRESETS, SCENARIOS
from skin_segmentation.profiles import get_profile
from skin_segmentation.records import (
    atomic_path,
    read_record,
    record_path,
    write_csv_atomic,
    write_record,
    write_results_tables,
)

PRETRAINED_DIR = "pretrained"
SPLITS_NAME = "splits.json"
SPLIT_NAMES = ("pool_train", "pool_validation", "target_train", "target_validation", "target_eval")


def _source_counts(pairs):
    counts = {}
    for pair in pairs:
        counts[pair.source] = counts.get(pair.source, 0) + 1
    return dict(sorted(counts.items()))


def select_pool(pairs, profile):
    """The pre-training images, drawn equally from every source.

    With `profile.pretrain_images` set, `pretrain_images // number of sources`
    come from each source (all of a source that has fewer); with `None`, as
    many from each source as the smallest one has (`data.splits.balanced_pool`).
    A profile with `balance_sources` keeps every image: its training draws the
    sources equally often instead.

    Args:
        pairs: the `SkinPair`s of every pre-training folder.
        profile: a `Profile` or its name; its `seed` draws the images.
    """
    from skin_segmentation.data.splits import balanced_pool

    profile = get_profile(profile)
    sources = _source_counts(pairs)
    if not sources:
        raise ValueError("The pre-training pool is empty: no image/mask pairs were found.")
    if profile.balance_sources:
        return sorted(pairs, key=lambda pair: (pair.source, pair.stem))
    per_source = None
    if profile.pretrain_images is not None:
        per_source = max(1, profile.pretrain_images // len(sources))
    return balanced_pool(pairs, per_source=per_source, seed=profile.seed)


def prepare_splits(pretrain_dirs, target_dir, profile):
    """Read the data and draw every split of a replication.

    Args:
        pretrain_dirs: folders of the public pre-training pool.
        target_dir: the target dataset's folder.
        profile: a `Profile` or its name; its `seed` draws the splits.

    Returns:
        A dict of `SkinPair` lists named `SPLIT_NAMES`: the pool's training and
        validation parts, the target's training images split into training and
        validation, and the target's evaluation images.
    """
    from skin_segmentation.data.readers import read_dataset, read_datasets
    from skin_segmentation.data.splits import split_target, split_validation

    profile = get_profile(profile)
    seed = profile.seed
    pool = select_pool(read_datasets([Path(d) for d in pretrain_dirs]), profile)
    pool_train, pool_validation = split_validation(
        pool, fraction=profile.validation_fraction, seed=seed
    )
    target = read_dataset(Path(target_dir))
    # With fewer than target_train + target_eval pairs, split_target warns and
    # evaluates on the pairs left after the training ones.
    target_train_all, target_eval = split_target(
        target, n_train=profile.target_train, n_eval=profile.target_eval, seed=seed
    )
    target_train, target_validation = split_validation(
        target_train_all, fraction=profile.validation_fraction, seed=seed
    )
    return {
        "pool_train": pool_train,
        "pool_validation": pool_validation,
        "target_train": target_train,
        "target_validation": target_validation,
        "target_eval": target_eval,
    }


def _stems(splits):
    return {name: [pair.stem for pair in splits[name]] for name in SPLIT_NAMES}


def _save_splits(out_dir, splits, seed):
    """Write `splits.json`, or check that the one there has the same splits."""
    from skin_segmentation.data.splits import read_splits, write_splits

    path = Path(out_dir) / SPLITS_NAME
    stems = _stems(splits)
    if path.is_file():
        earlier = read_splits(path)
        changed = [name for name in SPLIT_NAMES if list(earlier.get(name, [])) != stems[name]]
        if changed:
            raise ValueError(
                f"{path}: this results folder was made with other splits ({', '.join(changed)} "
                f"differ): other data, profile or seed. Use another --out folder."
            )
        return
    with atomic_path(path) as temporary:
        write_splits(temporary, seed=seed, **{name: splits[name] for name in SPLIT_NAMES})


def evaluate_cell(model, images, masks, stems, batch_size):
    """Per-image Jaccard and Dice of `model` on preprocessed images.

    Args:
        model: a trained network.
        images: float32 `(N, S, S, 3)` as `data.pipeline.preprocess_images` makes them.
        masks: `(N, S, S)` true masks in {0, 1}.
        stems: the N image stems.
        batch_size: prediction batch size.

    Returns:
        `(per_image, confidence)`: a DataFrame with `stem`, `jaccard`, `dice`,
        and the float32 confidences `(N, S, S)`.
    """
    confidence = model.predict(images, batch_size=batch_size, verbose=0)[..., 0]
    confidence = confidence.astype("float32")
    rows = [
        {
            "stem": stem,
            "jaccard": metrics.jaccard_index(mask, predicted),
            "dice": metrics.dice_coefficient(mask, predicted),
        }
        for stem, mask, predicted in zip(stems, masks, confidence)
    ]
    return pd.DataFrame(rows, columns=["stem", "jaccard", "dice"]), confidence


class _EvaluationSet:
    """The target's evaluation images, loaded and preprocessed once per replication."""

    def __init__(self, pairs, image_size):
        from skin_segmentation.data.pipeline import load_arrays, preprocess_images

        self.stems = [pair.stem for pair in pairs]
        self.images_uint8, self.masks = load_arrays(pairs, image_size)
        self.images = preprocess_images(list(self.images_uint8), image_size)


def _cell_config(profile, preset, scenario, learning_rate, init_weights, data, seed):
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


def replicate(
    pretrain_dirs,
    target_dir,
    out_dir,
    profile="quick",
    models=None,
    seed=None,
    strategy=None,
    command=None,
    verbose="auto",
):
    """Run Table I: every preset in every scenario; write records and tables.

    Args:
        pretrain_dirs: folders of the public healthy-skin pre-training pool.
        target_dir: folder of the target dataset (its training and evaluation
            images are drawn by `data.splits.split_target`).
        out_dir: the results folder (see `skin_segmentation.records`).
        profile: a `Profile` or its name: `"paper"`, `"quick"` or `"tiny"`.
        models: presets to run (default: all three, in Table I order).
        seed: training seed (initialization and data order); default the
            profile's. The splits are always drawn with the profile's seed, so
            runs with other seeds see the same images.
        strategy: a `tf.distribute.Strategy` for every training.
        command: the command line to write above the table (how to redo it).
        verbose: Keras verbosity of the trainings (`"auto"`: bars on a terminal).

    Returns:
        The Table I DataFrame (`records.make_table1`), also written to
        `out_dir/table1.csv` and `out_dir/table1.md`.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets  # doctest: +SKIP
    >>> pool, target = sample_datasets()  # doctest: +SKIP
    >>> replicate(pool, target, "results/", profile="quick")  # doctest: +SKIP
    """
    from skin_segmentation.training import describe_device, train, weights_fingerprint

    profile = get_profile(profile)
    seed = profile.seed if seed is None else int(seed)
    models = list(models or PRESETS)
    unknown = [name for name in models if name not in PRESETS]
    if unknown:
        raise ValueError(
            f"Unknown model preset(s) {unknown}. Choose from: {', '.join(PRESETS)}."
        )
    pretrain_dirs = [Path(d) for d in pretrain_dirs]
    target_dir = Path(target_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    splits = prepare_splits(pretrain_dirs, target_dir, profile)
    _save_splits(out_dir, splits, profile.seed)
    stems = _stems(splits)
    data = {
        "pretrain_dirs": [str(d) for d in pretrain_dirs],
        "target_dir": str(target_dir),
        "pool_sources": _source_counts(splits["pool_train"] + splits["pool_validation"]),
        **{f"{name}_images": len(splits[name]) for name in SPLIT_NAMES},
    }
    print(
        f"Table I, {profile.name} profile: pre-training pool {data['pool_sources']} "
        f"({len(splits['pool_train'])} train + {len(splits['pool_validation'])} validation); "
        f"target {target_dir.name}: {len(splits['target_train'])} train + "
        f"{len(splits['target_validation'])} validation, {len(splits['target_eval'])} "
        f"evaluation; {len(models) * len(SCENARIOS)} cells -> {out_dir}",
        flush=True,
    )
    evaluation = None
    device = describe_device()
    total = len(models) * len(SCENARIOS)
    index = 0
    for preset in models:
        pretrained = None
        for scenario in SCENARIOS:
            index += 1
            prefix = f"[{index}/{total}] {preset} {scenario}"
            path = record_path(out_dir, preset, scenario)
            if path.is_file():
                done = read_record(path, arrays=False)
                print(
                    f"{prefix}: done earlier, J {done['mean_jaccard']:.3f} "
                    f"D {done['mean_dice']:.3f} ({path})",
                    flush=True,
                )
                continue
            started = time.perf_counter()
            if scenario != "direct_training" and pretrained is None:
                pretrained = train(
                    preset,
                    splits["pool_train"],
                    splits["pool_validation"],
                    out_dir / PRETRAINED_DIR / preset,
                    profile,
                    learning_rate=profile.learning_rate,
                    resume=True,
                    strategy=strategy,
                    seed=seed,
                    verbose=verbose,
                )
                pretrained_fingerprint = weights_fingerprint(pretrained.model)
            pretrained_path = out_dir / PRETRAINED_DIR / preset / "model.keras"
            if scenario == "direct_transfer":
                result = pretrained
                learning_rate = profile.learning_rate
                init_weights = None
                train_split, validation_split = "pool_train", "pool_validation"
            else:
                fine_tuning = scenario == "fine_tuning"
                learning_rate = (
                    profile.fine_tune_learning_rate if fine_tuning else profile.learning_rate
                )
                init_weights = str(pretrained_path) if fine_tuning else None
                train_split, validation_split = "target_train", "target_validation"
                result = train(
                    preset,
                    splits["target_train"],
                    splits["target_validation"],
                    path.parent,
                    profile,
                    learning_rate=learning_rate,
                    init_weights=init_weights,
                    resume=True,
                    strategy=strategy,
                    seed=seed,
                    verbose=verbose,
                )
            if evaluation is None:
                evaluation = _EvaluationSet(splits["target_eval"], profile.image_size)
            eval_started = time.perf_counter()
            per_image, confidence = evaluate_cell(
                result.model, evaluation.images, evaluation.masks, evaluation.stems,
                profile.batch_size,
            )
            eval_seconds = time.perf_counter() - eval_started
            history = result.history
            write_csv_atomic(path.parent / "per_image.csv", per_image)
            if scenario == "direct_transfer":
                write_csv_atomic(path.parent / "history.csv", history)
            attributes = {
                "epochs": int(len(history)),
                "best_epoch": int(result.best_epoch),
                "best_val_loss": float(result.best_val_loss),
                "stopped_early": bool(result.stopped_early),
                "train_images": len(splits[train_split]),
                "validation_images": len(splits[validation_split]),
                "eval_images": len(per_image),
                "learning_rate": float(learning_rate),
                "image_size": profile.image_size,
                "precision": profile.precision,
                "device": device,
                "initial_weights_sha256": result.initial_weights_sha256,
                "evaluated_weights_sha256": weights_fingerprint(result.model),
                "pretrained_weights_sha256": (
                    pretrained_fingerprint if pretrained is not None else ""
                ),
                "init_weights": init_weights or "",
                "train_seconds": float(history["seconds"].sum()),
                "eval_seconds": float(eval_seconds),
                "run_dir": str(result.out_dir.relative_to(out_dir)),
            }
            write_record(
                path,
                preset=preset,
                scenario=scenario,
                profile=profile.name,
                config=_cell_config(profile, preset, scenario, learning_rate, init_weights, data, seed),
                parameters=result.parameters,
                seconds_per_epoch=result.seconds_per_epoch,
                seed=seed,
                history=history,
                splits={
                    "train": stems[train_split],
                    "validation": stems[validation_split],
                    "eval": stems["target_eval"],
                },
                per_image=per_image,
                eval_images=evaluation.images_uint8,
                eval_masks=evaluation.masks,
                eval_confidence=confidence,
                attributes=attributes,
            )
            print(
                f"{prefix}: J {per_image['jaccard'].mean():.3f} D {per_image['dice'].mean():.3f} "
                f"on {len(per_image)} images | {len(history)} epochs (best {result.best_epoch}), "
                f"{result.seconds_per_epoch:.1f} s/epoch, {result.parameters:,} parameters, "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
        _release_memory()

    if evaluation is None:
        evaluation = _EvaluationSet(splits["target_eval"], profile.image_size)
    data["all_skin_jaccard"], data["all_skin_dice"] = all_skin_scores(evaluation.masks)
    in_folder = [p for p in PRESETS if any(record_path(out_dir, p, s).is_file() for s in SCENARIOS)]
    notes = table_notes(profile, data, device, command, in_folder)
    table = write_results_tables(out_dir, notes=notes)
    return table


def all_skin_scores(masks):
    """Mean per-image Jaccard and Dice of calling every pixel skin: the floor to beat.

    Example:
    >>> import numpy as np
    >>> all_skin_scores(np.array([[[1, 1], [0, 0]]]))
    (0.5, 0.6666666666666666)
    """
    jaccards, dices = [], []
    for mask in masks:
        everything = np.ones(mask.shape, dtype=bool)
        jaccards.append(metrics.jaccard_index(mask, everything))
        dices.append(metrics.dice_coefficient(mask, everything))
    return float(np.mean(jaccards)), float(np.mean(dices))


def _release_memory():
    import keras

    keras.backend.clear_session()


def table_notes(profile, data, device, command, models):
    """The Markdown lines above Table I: profile, data, how scores and times were taken."""
    size = profile.image_size
    pool = ", ".join(f"{source} {count}" for source, count in data["pool_sources"].items())
    miniature = ", in the profile's miniature versions" if profile.model_overrides else ""
    lines = ["# Table I of Codella et al. 2018: this replication beside the paper", ""]
    if command:
        lines += ["Made by:", "", f"    {command}", ""]
    lines += [
        f"- Profile `{profile.name}` ({profile.description}): up to {profile.epochs} epochs, "
        f"early stopping after {profile.patience} without a lower validation loss (best "
        f"weights kept), SGD momentum 0.9 at {profile.learning_rate} (random init) / "
        f"{profile.fine_tune_learning_rate} (fine-tuning), batch {profile.batch_size}, "
        f"{size}x{size} inputs, {profile.precision}, "
        f"{'augmentation ' + repr(profile.augment) if profile.augment else 'no augmentation'}, "
        f"seed {profile.seed}.",
        f"- Data: pre-training pool {', '.join(data['pretrain_dirs'])} ({pool} images; "
        f"{data['pool_train_images']} train + {data['pool_validation_images']} validation); "
        f"target {data['target_dir']}: {data['target_train_images']} train + "
        f"{data['target_validation_images']} validation, "
        f"{data['target_eval_images']} evaluation images.",
        f"- Scores: mean per-image Jaccard index (Dice coefficient) of the target's "
        f"{data['target_eval_images']} evaluation images at threshold 0.5, computed at the "
        f"network's {size}x{size} input on masks resized to it (not at full resolution). "
        f"For scale, calling every pixel skin scores {data['all_skin_jaccard']:.2f} "
        f"({data['all_skin_dice']:.2f}) on these images.",
        f"- Parameters: ours at {size}x{size} input (the fully-connected bottleneck of the "
        f"two large networks grows with the input){miniature}; the paper's at 128x128.",
        f"- Seconds per epoch: ours are the median pre-training epoch ({data['pool_train_images']} "
        f"training + {data['pool_validation_images']} validation images) on {device}; the "
        f"paper's are from its GPU on its own training set.",
    ]
    missing = [
        f"{preset} {kind}"
        for preset in models
        for kind, figures in (("Jaccard", PRESETS[preset].paper.jaccard),
                              ("Dice", PRESETS[preset].paper.dice))
        if any(value is None for value in figures.values())
    ]
    if missing:
        lines.append(
            f"- n/a: paper figures this project could not read from the paper "
            f"({', '.join(missing)}; see `skin_segmentation/models/presets.py`); none is guessed."
        )
    return lines


# --------------------------------------------------------------------------- command line


def cli_command(args):
    """The `skinseg replicate` command line that `args` stand for."""
    parts = ["skinseg", "replicate", "--profile", str(args.profile), "--out", str(args.out)]
    if args.pretrain:
        parts += ["--pretrain", ",".join(map(str, args.pretrain))]
    if args.target:
        parts += ["--target", str(args.target)]
    if args.models:
        parts += ["--models", ",".join(args.models)]
    if args.seed is not None:
        parts += ["--seed", str(args.seed)]
    if args.strategy != "default":
        parts += ["--strategy", args.strategy]
    return shlex.join(parts)


def data_from_args(pretrain, target):
    """The pre-training folders and target folder, or the shipped sample when both are absent."""
    if pretrain is None and target is None:
        from skin_segmentation.data.sample import sample_datasets

        pretrain_dirs, target_dir = sample_datasets()
        print(f"No --pretrain/--target given: using the sample shipped with the package "
              f"({', '.join(Path(d).name for d in pretrain_dirs)} -> {Path(target_dir).name}).")
        return list(pretrain_dirs), target_dir
    if pretrain is None or target is None:
        raise ValueError(
            "Give both --pretrain DIR[,DIR...] and --target DIR, or neither (the shipped "
            f"sample). Received: --pretrain {pretrain!r}, --target {target!r}"
        )
    return list(pretrain), target


def replicate_from_cli(args):
    """`skinseg replicate`: Table I on given data or the shipped sample."""
    import logging

    # Nine networks built in one process make tf.function warn about retracing.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    strategy = None
    if args.strategy != "default":  # before any TensorFlow operation runs
        from skin_segmentation.distribute import get_strategy

        strategy = get_strategy(args.strategy)
    pretrain_dirs, target_dir = data_from_args(args.pretrain, args.target)
    replicate(
        pretrain_dirs,
        target_dir,
        args.out,
        profile=args.profile,
        models=args.models,
        seed=args.seed,
        strategy=strategy,
        command=cli_command(args),
    )
    print((Path(args.out) / "table1.md").read_text(encoding="utf-8"))
    print(json.dumps({"table1": str(Path(args.out) / "table1.md"),
                      "runs": str(Path(args.out) / "runs.csv")}))
    return 0
