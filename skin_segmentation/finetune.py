"""Fine-tuning a skin model on one's own photographs, with its scores before and after.

The paper's answer to a new domain is fine-tuning: start from a network trained
on public photographs and train it a little on the clinic's own. `fine_tune`
does that as a user needs it in one call: it holds out the profile's
validation share of the user's pairs, scores the starting network on them,
fine-tunes (the saved network itself, at its own input size, at the profile's
`fine_tune_learning_rate`, with early stopping on those held-out pairs), and
scores the result on the same pairs.

The held-out pairs also choose the stopping epoch, so the "after" score is a
little optimistic: score photographs kept apart with `skinseg evaluate` for an
unbiased figure.
"""

import dataclasses
from pathlib import Path

from skin_segmentation.atomic_files import atomic_path, write_json_atomic
from skin_segmentation.data.readers import read_datasets
from skin_segmentation.data.splits_file import write_splits
from skin_segmentation.data.training_set import split_training
from skin_segmentation.evaluation import evaluate_pairs, set_scores
from skin_segmentation.outputs import check_output_folder
from skin_segmentation.postprocess import check_fill_shares
from skin_segmentation.profiles import get_profile
from skin_segmentation.training import network_to_fine_tune, train
from skin_segmentation.weights import resolve_weights

REPORTED = ("two_class_miou", "mean_jaccard", "pooled_jaccard", "pixel_f1", "pixel_precision", "pixel_recall")


@dataclasses.dataclass
class FineTuneResult:
    """What `fine_tune` made.

    Attributes:
        model_path: the fine-tuned `.keras` file (`RUN/model.keras`).
        before: `evaluation.set_scores` of the starting network on the held-out pairs.
        after: the same for the fine-tuned network.
        trained_on: number of pairs it trained on.
        held_out: number of pairs scored.
    """

    model_path: Path
    before: dict
    after: dict
    trained_on: int
    held_out: int

    def table(self):
        """The before/after scores as Markdown lines."""
        lines = ["| score | before | after |", "|---|---|---|"]
        for name in REPORTED:
            lines.append(f"| {name} | {self.before[name]:.3f} | {self.after[name]:.3f} |")
        return lines


def fine_tune(data, out_dir, weights=None, profile="finetune", resume=False, verbose="auto",
              fill_holes=0.0, fill_enclosed=0.0):
    """Fine-tune `weights` on folders of pairs and score it before and after.

    Args:
        data: a dataset folder or a list of them (`images/` + `masks/`).
        out_dir: the run folder (`model.keras`, `history.csv`, checkpoints,
            `splits.json`, `finetune_scores.json`).
        weights: the `.keras` network to start from (default: the bundled one).
        profile: a `Profile` or its name (default `"finetune"`).
        resume: continue an interrupted run in `out_dir`.
        verbose: Keras `fit` verbosity.
        fill_holes: score masks whose non-skin regions smaller than this share
            of the photograph are filled (`postprocess.fill_small_holes`), as
            `skinseg predict` writes them; `0`: the thresholded masks.
        fill_enclosed: regions that skin encloses are filled up to this
            larger share (`0`: as any other region).

    Returns:
        A `FineTuneResult`.

    Raises:
        ValueError: fewer than 2 pairs (nothing to hold out), a fill share not
            in [0, 1), or `out_dir` cannot be written (checked first,
            `outputs.check_output_folder`).
    """
    out_dir = check_output_folder(out_dir, recursive=True)
    fill = check_fill_shares(fill_holes, fill_enclosed)
    weights = resolve_weights(weights)
    start, profile = network_to_fine_tune(weights, get_profile(profile))
    pairs = read_datasets([data] if isinstance(data, (str, Path)) else data)
    if len(pairs) < 2:
        raise ValueError(f"{data}: fine-tuning needs at least 2 pairs (one to hold out). Received: {len(pairs)}")
    train_pairs, held_out = split_training(pairs, profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "splits.json") as temporary:
        write_splits(temporary, seed=profile.seed, train=train_pairs, validation=held_out)
    before = set_scores(evaluate_pairs(start, held_out, **fill)[0])
    print(f"Fine-tuning {weights} on {len(train_pairs)} pairs; scoring {len(held_out)} held-out pairs "
          f"(2-class mIoU before: {before['two_class_miou']:.3f})", flush=True)
    result = train(start, train_pairs, held_out, out_dir, profile, init_weights=weights,
                   resume=resume, verbose=verbose)
    after = set_scores(evaluate_pairs(result.model, held_out, **fill)[0])
    outcome = FineTuneResult(out_dir / "model.keras", before, after, len(train_pairs), len(held_out))
    write_json_atomic(out_dir / "finetune_scores.json", {
        "weights": str(weights), "profile": profile.name, "trained_on": outcome.trained_on,
        "held_out": outcome.held_out, **fill, "before": before, "after": after,
    })
    return outcome
