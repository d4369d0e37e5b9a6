"""`skinseg train`: train one network on folders of pairs, recording its splits."""

import json
from pathlib import Path

from skin_segmentation.cli.arguments import add_precision, profile_with_precision, split_dirs


def training_pairs(args, profile):
    """Read `--data` and `--target-train`, draw the pairs to learn from, say what was drawn.

    Returns:
        `(pairs, every_pair)`: the pairs to train and validate on
        (`data.training_set.add_target_training`), and every pair of the folders
        (what `held_out` is taken from).
    """
    from skin_segmentation.data.readers import read_dataset, read_datasets
    from skin_segmentation.data.splits import select_pool
    from skin_segmentation.data.training_set import add_target_training

    every_pair = read_datasets(args.data)
    pairs = select_pool(every_pair, profile)
    print(f"{len(pairs)} pairs drawn from {', '.join(map(str, args.data))} "
          f"(per source, {profile.name} profile).")
    target_dir = getattr(args, "target_train", None)
    if target_dir:
        target = read_dataset(target_dir)
        pairs, target_train, target_eval = add_target_training(pairs, target, profile)
        every_pair = every_pair + target
        print(f"Added the {len(target_train)} training images of {target_dir}; its "
              f"{len(target_eval)} evaluation images are left out.")
    return pairs, every_pair


def write_training_splits(args, profile, train_pairs, validation_pairs, every_pair):
    """`RUN/splits.json`: `train`, `validation` and `held_out` (`data.training_set`)."""
    from skin_segmentation.data.training_set import record_training_splits
    from skin_segmentation.training.state import SPLITS_NAME

    record_training_splits(Path(args.out) / SPLITS_NAME, train_pairs, validation_pairs, every_pair,
                           seed=profile.seed)


def run_histogram(args, profile):
    """`skinseg train --model histogram`: count colours on the pool, threshold on validation.

    The same pairs and validation split as a network's training; writes
    `RUN/histogram.npz` and `RUN/splits.json`.
    """
    from skin_segmentation.baselines import HISTOGRAM_NAME, fit_histogram
    from skin_segmentation.data.training_set import split_training
    from skin_segmentation.inference import progress_bar
    from skin_segmentation.training import check_run_folder

    if args.resume:
        raise ValueError("--resume: a histogram is counted in seconds; start it over with "
                         "--overwrite.")
    pairs, every_pair = training_pairs(args, profile)
    train_pairs, validation_pairs = split_training(pairs, profile)
    check_run_folder(args.out, None, overwrite=args.overwrite)
    write_training_splits(args, profile, train_pairs, validation_pairs, every_pair)
    print(f"Counting colours of {len(train_pairs)} images, choosing the threshold on "
          f"{len(validation_pairs)}; writing {args.out}", flush=True)
    with progress_bar(len(train_pairs) + len(validation_pairs)) as advance:
        model = fit_histogram(train_pairs, validation_pairs, bins=args.bins, progress=advance)
    path = model.save(Path(args.out) / HISTOGRAM_NAME)
    print(json.dumps({"model": str(path), "threshold": model.threshold, **model.info}))
    return 0


def _strategy(name):
    """The `tf.distribute.Strategy` that `--strategy` names, or None for Keras's default."""
    if not name or name == "default":
        return None
    from skin_segmentation.distribute import get_strategy

    return get_strategy(name)


def _network_and_profile(args, profile, strategy):
    """The network to train and its profile: `--init` fine-tunes the saved network at its
    own input size (`training.network_to_fine_tune`), else the `--model` preset."""
    if not args.init:
        return args.model, profile
    from skin_segmentation.training import network_to_fine_tune

    saved_network, profile = network_to_fine_tune(args.init, profile)
    # Under a strategy the network is built in its scope from the preset (init_weights
    # then copies the saved weights into it).
    return (saved_network if strategy is None else args.model), profile


def run(args):
    """`skinseg train`: train one preset on folders of pairs; see `skinseg train -h`.

    The pairs of `--data` are drawn per source as the profile draws its
    pre-training pool (`data.splits.select_pool`), `--target-train DIR` adds the
    target's training split, and the profile's validation fraction is held out
    for early stopping. The profile's seed draws the splits; `--seed` changes
    only the training seed (initialization and data order), as in `replicate`.
    A folder holding another run is refused before anything is written in it
    (`training.check_run_folder`), unless `--resume` (the same run) or `--overwrite`.
    """
    from skin_segmentation.data.training_set import split_training
    from skin_segmentation.distribute import is_chief
    from skin_segmentation.outputs import check_output_folder
    from skin_segmentation.profiles import get_profile
    from skin_segmentation.training import MODEL_NAME, check_run_folder, run_identity, train

    check_output_folder(args.out, recursive=True)
    profile = get_profile(args.profile)
    if args.model == "histogram":
        return run_histogram(args, profile)
    profile = profile_with_precision(profile, args.precision)
    seed = profile.seed if args.seed is None else args.seed
    strategy = _strategy(args.strategy)
    network, profile = _network_and_profile(args, profile, strategy)
    init_weights = args.init or args.warm_start
    pairs, every_pair = training_pairs(args, profile)
    train_pairs, validation_pairs = split_training(pairs, profile, args.validation_from)
    if is_chief(strategy):  # distribute: only the chief writes the run folder
        identity = run_identity(network, profile, seed, train_pairs, validation_pairs)
        check_run_folder(args.out, identity, resume=args.resume, overwrite=args.overwrite)
        write_training_splits(args, profile, train_pairs, validation_pairs, every_pair)
    print(
        f"Training {args.model} ({profile.name} profile, {profile.precision}) on "
        f"{len(train_pairs)} images, "
        f"validating on {len(validation_pairs)}; writing {args.out}",
        flush=True,
    )
    result = train(
        network,
        train_pairs,
        validation_pairs,
        args.out,
        profile,
        init_weights=init_weights,
        resume=args.resume,
        strategy=strategy,
        seed=seed,
    )
    summary = {
        "model": str(Path(args.out) / MODEL_NAME),
        "epochs": int(len(result.history)),
        "best_epoch": result.best_epoch,
        "best_val_loss": round(result.best_val_loss, 6),
        "seconds_per_epoch": round(result.seconds_per_epoch, 2),
        "parameters": result.parameters,
        "seed": result.seed,
    }
    print(json.dumps(summary))
    return 0


def add_parser(commands):
    train = commands.add_parser("train", help="train one network")
    train.add_argument("--model", default="unet",
                       help="preset: unet, unet_large, dense_residual_unet; or histogram (the "
                            "Jones-Rehg colour histogram, RUN/histogram.npz, no network)")
    train.add_argument("--data", required=True, type=split_dirs, help="DIR[,DIR...]")
    train.add_argument("--out", required=True, help="run folder")
    start = train.add_mutually_exclusive_group()
    start.add_argument("--init", default=None,
                       help="a .keras network to fine-tune: its own architecture, input size "
                            "and input standardization")
    start.add_argument("--warm-start", default=None, metavar="KERAS",
                       help="build --model with the profile's settings and copy this network's "
                            "weights into it layer by layer (e.g. into a network of another "
                            "input standardization); shapes must match")
    train.add_argument("--profile", default="quick", help="paper, robust, finetune, cpu, quick, tiny or a .json file")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last checkpoint (refused when "
                            "its profile, network, input size, seed or data differ; a profile "
                            "with a higher epoch cap continues a run that stopped at its cap)")
    train.add_argument("--overwrite", action="store_true",
                       help="delete the run already in --out and start afresh")
    train.add_argument("--target-train", default=None, metavar="DIR",
                       help="also train on this target folder's training split (the "
                            "paper's 100 images); its evaluation images are never used")
    train.add_argument("--validation-from", default=None, metavar="SPLITS_JSON",
                       help="an earlier run's splits.json: its validation images stay in "
                            "validation and its training images in training; only new images "
                            "are split (continuing a run on more data keeps its scores honest)")
    train.add_argument("--strategy", default="default",
                       help="default, mirrored or multi_worker (tf.distribute)")
    add_precision(train)
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--bins", type=int, default=32, help="histogram cells per RGB channel")
    train.set_defaults(handler=run)
