"""Replicate Table I of Codella et al. 2018 with the paper's settings.

Three networks (U-Net, U-Net Large, Dense Residual U-Net) in three scenarios
(direct transfer from the public healthy-skin pool, direct training on the
target's 100 training images, fine-tuning of the pre-trained network on them),
each evaluated on the target's 300 evaluation images. Everything happens in
`skin_segmentation.replicate.replicate`; this script only chooses its
arguments: by default the `paper` profile (500 epochs, patience 50, 128 px,
float32: a GPU's work) on `../shared/data` (pool: sfa, fasseg, hgr_subset;
target: abdomen).

    python experiments/replicate_table1.py                     # the paper's settings
    python experiments/replicate_table1.py --profile quick     # a 2-core CPU: experiments/table1.md
    python experiments/replicate_table1.py --profile cpu --models unet   # 128 px, ~3 h on 2 cores

Interrupted? Run the same command again: finished cells are kept and a cell
that was training resumes from its last finished epoch.
"""

import argparse
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_POOL = ("sfa", "fasseg", "hgr_subset")
DEFAULT_TARGET = "abdomen"


def _relative(path):
    """`path` relative to the current folder when it lies below it, for readable commands."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper",
                        help="paper (default), cpu, quick, tiny, or a profile .json file")
    parser.add_argument("--pretrain", default=",".join(_relative(SHARED_DATA / name)
                                                       for name in DEFAULT_POOL),
                        help="pre-training folders DIR[,DIR...] (default: ../shared/data pool)")
    parser.add_argument("--target", default=_relative(SHARED_DATA / DEFAULT_TARGET),
                        help="target folder (default: ../shared/data/abdomen)")
    parser.add_argument("--out", default=None,
                        help="results folder (default: results/table1_<profile>)")
    parser.add_argument("--models", default=None,
                        help="presets to run, comma-separated (default: all three)")
    parser.add_argument("--scenarios", default=None,
                        help="scenarios to run, comma-separated (default: all three)")
    parser.add_argument("--seed", type=int, default=None,
                        help="training seed (default: the profile's; splits keep theirs)")
    parser.add_argument("--strategy", default="default",
                        help="default, mirrored or multi_worker (tf.distribute)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    import logging

    from skin_segmentation.replicate import replicate

    # Nine networks built in one process make tf.function warn about retracing.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)

    out = args.out or f"results/table1_{Path(args.profile).stem}"
    strategy = None
    if args.strategy != "default":
        from skin_segmentation.distribute import get_strategy

        strategy = get_strategy(args.strategy)
    command = shlex.join(
        ["python", "experiments/replicate_table1.py", *(argv if argv is not None else sys.argv[1:])]
    )
    replicate(
        [part for part in args.pretrain.split(",") if part],
        args.target,
        out,
        profile=args.profile,
        models=[m for m in args.models.split(",") if m] if args.models else None,
        scenarios=[m for m in args.scenarios.split(",") if m] if args.scenarios else None,
        seed=args.seed,
        strategy=strategy,
        command=command,
    )
    print((Path(out) / "table1.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
