"""Replication of Table I: every preset in every scenario, its splits, records and notes.

`replicate` draws the splits once (`RESULTS/splits.json`), runs each cell of
`scenarios` in Table I order, scores the colour baselines on the same images
(`RESULTS/baselines.csv`, rows of Table I for scale), and writes the tables
(`tables`) with notes on the profile, the data and the device above them, and
their figures (`plots`: `table1.png`, `training_curves.png`). A cell whose
`record.h5` exists is not run again, so an interrupted `replicate` is continued
by running the same command again; with a profile whose epoch cap was raised,
the same command continues every cell's training to the new cap.
"""

import dataclasses
import json
import time
from pathlib import Path

from skin_segmentation import metrics
from skin_segmentation.atomic_files import atomic_path, write_csv_atomic
from skin_segmentation.data.readers import read_dataset, read_datasets
from skin_segmentation.data.splits import select_pool, source_counts
from skin_segmentation.data.splits_file import read_splits, write_splits
from skin_segmentation.data.training_set import split_training, target_split
from skin_segmentation.models import (
    PAPER_EPOCH_IMAGES,
    PAPER_EPOCH_TRAIN_IMAGES,
    PAPER_EPOCH_VALIDATION_IMAGES,
    PRESETS,
    SCENARIOS,
)
from skin_segmentation.outputs import check_output_folder
from skin_segmentation.profiles import get_profile
from skin_segmentation.plots import write_results_figures
from skin_segmentation.records import read_record, record_path
from skin_segmentation.scenarios import (
    EvaluationSet,
    score_baselines,
    score_cell,
    train_cell,
    write_cell,
)
from skin_segmentation.system import describe_device
from skin_segmentation.tables import BASELINES_NAME, write_results_tables
from skin_segmentation.training.identity import CAP_FIELD, identity_difference

SPLITS_NAME = "splits.json"
# Baselines in Table I's rows, for scale: no training, milliseconds at the cells' size.
TABLE_BASELINES = ("all_skin", "ycrcb", "hsv")
SPLIT_NAMES = ("pool_train", "pool_validation", "target_train", "target_validation", "target_eval")


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

    profile = get_profile(profile)
    pool = select_pool(read_datasets([Path(d) for d in pretrain_dirs]), profile)
    pool_train, pool_validation = split_training(pool, profile)
    target = read_dataset(Path(target_dir))
    # With fewer than target_train + target_eval pairs, split_target warns and
    # evaluates on the pairs left after the training ones.
    target_train_all, target_eval = target_split(target, profile)
    target_train, target_validation = split_training(target_train_all, profile)
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


def _describe_data(pretrain_dirs, target_dir, splits):
    """What the records and the notes say about the data: folders, sources, split sizes."""
    return {
        "pretrain_dirs": [str(d) for d in pretrain_dirs],
        "target_dir": str(target_dir),
        "pool_sources": source_counts(splits["pool_train"] + splits["pool_validation"]),
        **{f"{name}_images": len(splits[name]) for name in SPLIT_NAMES},
    }


def _check_names(names, known, what):
    """`names` (all of `known` by default), or a ValueError listing the unknown ones."""
    names = list(names or known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"Unknown {what} {unknown}. Choose from: {', '.join(known)}.")
    return names


def _check_models(models):
    return _check_names(models, PRESETS, "model preset(s)")


def _check_scenarios(scenarios):
    """The scenarios asked for, in Table I order (all three by default)."""
    scenarios = _check_names(scenarios, SCENARIOS, "scenario(s)")
    return [name for name in SCENARIOS if name in scenarios]


@dataclasses.dataclass
class _Replication:
    """What every cell of one `replicate` call shares."""

    splits: dict
    profile: object
    out_dir: Path
    seed: int
    strategy: object
    verbose: object
    data: dict
    device: str
    evaluation: EvaluationSet | None = None

    def evaluation_set(self):
        """The target's evaluation images, loaded at the first call."""
        if self.evaluation is None:
            self.evaluation = EvaluationSet(self.splits["target_eval"], self.profile.image_size)
        return self.evaluation


def _run_cell(replication, preset, scenario, pretrained):
    """Train (or resume), score and record one cell.

    Returns:
        `(pretrained, result, eval_images)`: the preset's pre-training
        `TrainResult` (or `None` when not needed yet), the cell's, and how many
        images it was scored on.
    """
    splits, out_dir, profile = replication.splits, replication.out_dir, replication.profile
    run, pretrained = train_cell(preset, scenario, splits, out_dir, profile, pretrained,
                                 replication.seed, replication.strategy, replication.verbose)
    evaluation = replication.evaluation_set()
    per_image, confidence, eval_seconds = score_cell(run, evaluation, profile.batch_size)
    write_cell(
        record_path(out_dir, preset, scenario), run, preset, scenario, profile=profile,
        seed=replication.seed, splits=splits, evaluation=evaluation, per_image=per_image,
        confidence=confidence, eval_seconds=eval_seconds, data=replication.data,
        device=replication.device, pretrained=pretrained, out_dir=out_dir,
    )
    return pretrained, run.result, len(per_image)


def _run_cells(replication, cells):
    """Run every `(preset, scenario)` of `cells` not recorded yet, printing a line per cell."""
    out_dir, pretrained, cell_seconds = replication.out_dir, None, []
    for index, (preset, scenario) in enumerate(cells, start=1):
        if index == 1 or preset != cells[index - 2][0]:
            pretrained = None  # each preset pre-trains, or reloads, its own
        prefix = f"[{index}/{len(cells)}] {preset} {scenario}"
        path = record_path(out_dir, preset, scenario)
        record = read_record(path, arrays=False) if path.is_file() else None
        if record is not None and not _cap_raised_since(record, replication.profile, prefix):
            print(f"{prefix}: done earlier, {_scores_text(record)} ({path})", flush=True)
        else:
            started = time.perf_counter()
            pretrained, result, scored = _run_cell(replication, preset, scenario, pretrained)
            seconds = time.perf_counter() - started
            print(f"{prefix}: {_scores_text(read_record(path, arrays=False))} on {scored} images "
                  f"| {_training_text(result)}, {seconds:.0f} s"
                  f"{_time_left(cell_seconds, seconds, cells[index:], out_dir)}", flush=True)
        if index == len(cells) or preset != cells[index][0]:
            _release_memory()


def _cap_raised_since(record, profile, prefix):
    """Whether the cell `record` (`read_record`) was made with another epoch cap than `profile`'s.

    Such a cell is run again: its training continues to the new cap
    (`training.train`). A record made with another profile in any other field
    is refused, since a table mixing two profiles would compare nothing.
    """
    recorded = record["config"].get("profile")
    current = json.loads(json.dumps(profile.to_config()))
    difference = identity_difference({"profile": recorded}, {"profile": current})
    if difference is None:
        return False
    field, old, new = difference
    if field != CAP_FIELD:
        raise ValueError(
            f"{record['path']}: this cell was recorded with {field} {old!r}, this run asks for "
            f"{new!r}. Run the same profile again, or use another --out folder."
        )
    print(f"{prefix}: recorded with a cap of {old} epochs, this profile's is {new}: "
          f"continuing its training.", flush=True)
    return True


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
    scenarios=None,
):
    """Run Table I: every preset in every scenario; write records and tables.

    Args:
        pretrain_dirs: folders of the public healthy-skin pre-training pool.
        target_dir: folder of the target dataset (its training and evaluation
            images are drawn by `data.splits.split_target`).
        out_dir: the results folder (see `skin_segmentation.records`).
        profile: a `Profile` or its name: `"paper"`, `"cpu"`, `"quick"` or `"tiny"`.
        models: presets to run (default: all three, in Table I order).
        seed: training seed (initialization and data order); default the
            profile's. The splits are always drawn with the profile's seed, so
            runs with other seeds see the same images.
        strategy: a `tf.distribute.Strategy` for every training.
        command: the command line to write above the table (how to redo it).
        verbose: Keras verbosity of the trainings (`"auto"`: bars on a terminal).
        scenarios: scenarios to run (default: all three); the tables hold every
            cell recorded in `out_dir`, the others print as "n/a".

    Returns:
        The Table I DataFrame (`tables.make_table1`), also written to
        `out_dir/table1.csv` and `out_dir/table1.md`, and drawn in
        `out_dir/table1.png` beside `out_dir/training_curves.png`.

    Example:
    >>> from skin_segmentation.data.sample import sample_datasets  # doctest: +SKIP
    >>> pool, target = sample_datasets()  # doctest: +SKIP
    >>> replicate(pool, target, "results/", profile="quick")  # doctest: +SKIP
    """
    profile = get_profile(profile).with_device_precision()
    models, scenarios = _check_models(models), _check_scenarios(scenarios)
    pretrain_dirs = [Path(d) for d in pretrain_dirs]
    out_dir = check_output_folder(out_dir, recursive=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = prepare_splits(pretrain_dirs, target_dir, profile)
    _save_splits(out_dir, splits, profile.seed)
    data = _describe_data(pretrain_dirs, target_dir, splits)
    replication = _Replication(splits, profile, out_dir, profile.seed if seed is None else int(seed),
                               strategy, verbose, data, describe_device())
    cells = [(preset, scenario) for preset in models for scenario in scenarios]
    print(_header(profile, data, Path(target_dir).name, len(cells), out_dir), flush=True)
    _run_cells(replication, cells)

    evaluation = replication.evaluation_set()
    write_csv_atomic(out_dir / BASELINES_NAME, score_baselines(evaluation, TABLE_BASELINES))
    notes = table_notes(profile, data, replication.device, command)
    table = write_results_tables(out_dir, notes=notes)
    write_results_figures(out_dir, table)
    return table


def _header(profile, data, target_name, cell_count, out_dir):
    """The line `replicate` prints first: profile, pool, target splits, cells."""
    return (
        f"Table I, {profile.name} profile in {profile.precision}: pre-training pool "
        f"{data['pool_sources']} "
        f"({data['pool_train_images']} train + {data['pool_validation_images']} validation); "
        f"target {target_name}: {data['target_train_images']} train + "
        f"{data['target_validation_images']} validation, {data['target_eval_images']} "
        f"evaluation; {cell_count} cells -> {out_dir}"
    )


def _training_text(result):
    """`12 epochs (best 9), 3.1 s/epoch, 7,760,097 parameters` of a `TrainResult`."""
    return (f"{len(result.history)} epochs (best {result.best_epoch}), "
            f"{result.seconds_per_epoch:.1f} s/epoch, {result.parameters:,} parameters")


def _time_left(cell_seconds, seconds, remaining, out_dir):
    """`, about N min left` from the mean time of the cells trained so far in this run."""
    cell_seconds.append(seconds)
    to_train = [cell for cell in remaining if not record_path(out_dir, *cell).is_file()]
    if not to_train:
        return ""
    minutes = len(to_train) * sum(cell_seconds) / len(cell_seconds) / 60
    return f", about {minutes:.0f} min left ({len(to_train)} cells, at this run's mean)"


def _scores_text(record):
    """`J 0.712 D 0.832 pooled, 0.690 / 0.801 per image` of a record (pooled when it has it)."""
    text = f"{record['mean_jaccard']:.3f} / {record['mean_dice']:.3f} per image"
    if record.get("pooled_jaccard") is None:
        return f"J / D {text}"
    mark = f", degenerate ({record['degenerate']})" if record.get("degenerate") else ""
    return f"J {record['pooled_jaccard']:.3f} D {record['pooled_dice']:.3f} pooled, {text}{mark}"


def _release_memory():
    import keras

    keras.backend.clear_session()


def table_notes(profile, data, device, command):
    """The Markdown lines above Table I: profile, data, how scores and times were taken."""
    size = profile.image_size
    pool = ", ".join(f"{source} {count}" for source, count in data["pool_sources"].items())
    miniature = ", in the profile's miniature versions" if profile.model_overrides else ""
    lines = ["# Table I of Codella et al. 2018: this replication beside the paper", ""]
    if command:
        lines += ["Made by:", "", f"    {command}", ""]
    epoch = (f"each of {profile.epoch_images} training images ({profile.steps_per_epoch(1)} SGD "
             f"steps) whatever the training set's size" if profile.epoch_images
             else "each one pass over the training images")
    warm_up = (f", reached by a linear warm-up over its first {profile.lr_warmup_steps} steps"
               if profile.lr_warmup_steps else "")
    lines += [
        f"- Profile `{profile.name}` ({profile.description}): up to {profile.epochs} epochs "
        f"({epoch}), early stopping after {profile.patience} without a lower validation loss "
        f"(best weights kept), SGD momentum 0.9 at {profile.learning_rate} (random init"
        f"{warm_up}) / "
        f"{profile.fine_tune_learning_rate} (fine-tuning), batch {profile.batch_size}, "
        f"{size}x{size} inputs, {profile.precision}, "
        f"{'augmentation ' + repr(profile.augment) if profile.augment else 'no augmentation'}, "
        f"seed {profile.seed}.",
        f"- Data: pre-training pool {', '.join(data['pretrain_dirs'])} ({pool} images; "
        f"{data['pool_train_images']} train + {data['pool_validation_images']} validation); "
        f"target {data['target_dir']}: {data['target_train_images']} train + "
        f"{data['target_validation_images']} validation, "
        f"{data['target_eval_images']} evaluation images.",
        f"- Scores: Jaccard index (Dice coefficient) of the target's "
        f"{data['target_eval_images']} evaluation images at threshold 0.5, computed at the "
        f"network's {size}x{size} input on masks resized to it (not at full resolution), "
        f"pooled over all pixels of the set and as the mean of per-image scores. The "
        f"pooled ones stand beside the paper's: every Dice of its Table I is 2J/(1+J) of "
        f"its Jaccard, which holds for pooled scores only. A cell is marked degenerate when "
        f"it predicts all skin or no skin, or scores within {metrics.DEGENERATE_MARGIN} "
        f"pooled Jaccard of calling every pixel skin on the same images.",
        f"- Baselines, for scale: detectors without a network, scored on the same {size}x{size} "
        f"images and masks; one score for every scenario, since they train on nothing. "
        f"all_skin calls every pixel skin; ycrcb and hsv are the explicit colour rules of "
        f"Chai and Ngan 1999 and Sobottka and Pitas 1996/1998 (`skin_segmentation/baselines/rules.py`).",
        f"- Parameters: ours at {size}x{size} input (the fully-connected bottleneck of the "
        f"two large networks grows with the input){miniature}; the paper's at 128x128.",
        f"- Seconds per epoch: ours are the median pre-training epoch "
        f"({profile.epoch_train_images(data['pool_train_images'])} training + "
        f"{data['pool_validation_images']} validation images) on {device}, and the same "
        f"scaled to the paper's epoch, its {PAPER_EPOCH_IMAGES}-image pool ("
        f"{PAPER_EPOCH_TRAIN_IMAGES} trained on, {PAPER_EPOCH_VALIDATION_IMAGES} validated); "
        f"the paper's are from its GPU.",
    ]
    return lines
