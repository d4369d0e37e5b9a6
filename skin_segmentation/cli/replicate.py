"""`skinseg replicate`: the paper's Table I, 3 networks x 3 scenarios, on given data or the sample."""

import json
import shlex
from pathlib import Path

from skin_segmentation.cli.arguments import add_precision, profile_with_precision, split_dirs


def cli_command(args):
    """The `skinseg replicate` command line that `args` stand for."""
    parts = ["skinseg", "replicate", "--profile", str(args.profile), "--out", str(args.out)]
    if args.pretrain:
        parts += ["--pretrain", ",".join(map(str, args.pretrain))]
    if args.target:
        parts += ["--target", str(args.target)]
    if args.models:
        parts += ["--models", ",".join(args.models)]
    if args.scenarios:
        parts += ["--scenarios", ",".join(args.scenarios)]
    if args.seed is not None:
        parts += ["--seed", str(args.seed)]
    if args.strategy != "default":
        parts += ["--strategy", args.strategy]
    if args.precision:
        parts += ["--precision", args.precision]
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


def run(args):
    """`skinseg replicate`: Table I on given data or the shipped sample."""
    import logging

    from skin_segmentation.profiles import get_profile
    from skin_segmentation.replicate import replicate

    # Nine networks built in one process make tf.function warn about retracing.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    strategy = None
    if args.strategy != "default":  # before any TensorFlow operation runs
        from skin_segmentation.distribute import get_strategy

        strategy = get_strategy(args.strategy)
    profile = profile_with_precision(get_profile(args.profile), args.precision)
    pretrain_dirs, target_dir = data_from_args(args.pretrain, args.target)
    replicate(
        pretrain_dirs,
        target_dir,
        args.out,
        profile=profile,
        models=args.models,
        scenarios=args.scenarios,
        seed=args.seed,
        strategy=strategy,
        command=cli_command(args),
    )
    print((Path(args.out) / "table1.md").read_text(encoding="utf-8"))
    print(json.dumps({"table1": str(Path(args.out) / "table1.md"),
                      "runs": str(Path(args.out) / "runs.csv")}))
    return 0


def add_parser(commands):
    replicate = commands.add_parser("replicate", help="the paper's Table I: 3 networks x 3 scenarios")
    replicate.add_argument("--profile", default="quick")
    replicate.add_argument("--out", required=True)
    replicate.add_argument("--pretrain", default=None, type=split_dirs, help="DIR[,DIR...]")
    replicate.add_argument("--target", default=None)
    replicate.add_argument("--models", default=None, type=split_dirs, help="presets to run")
    replicate.add_argument("--scenarios", default=None, type=split_dirs,
                           help="scenarios to run (default: all three): direct_transfer, "
                                "direct_training, fine_tuning")
    replicate.add_argument("--seed", type=int, default=None,
                           help="training seed (default: the profile's; the splits keep theirs)")
    replicate.add_argument("--strategy", default="default",
                           help="default, mirrored or multi_worker (tf.distribute)")
    add_precision(replicate)
    replicate.set_defaults(handler=run)
