"""What a run is, and the check that a run folder holds that run and no other.

From the moment training starts, a run folder's `checkpoint/state.json` records
the `identity` of its run:

    "identity": {
      "profile": {...},          every field of the `Profile` (`Profile.to_config`)
      "network": "unet",         the preset, or the name of a ready `keras.Model`
      "input_size": [128, 128],  the network's input height and width
      "seed": 0,                 the training seed
      "data_sha256": "9f2c..."   `data_fingerprint` of the training and validation
    }                            pairs (null when they are `tf.data` datasets)

`check_run_folder` reads it before anything is written. A folder that holds a
run is refused unless the run is resumed (with the same identity: another
profile, network, input size, seed or data is refused, naming the field and
both values) or overwritten (the old run's files are deleted first). The one
field a resumed run may change is the profile's epoch cap (`CAP_FIELD`): a
higher cap continues the run, one that stopped at its old cap too
(`state.change_epoch_cap`).
"""

import hashlib
import json
import shutil
from pathlib import Path

from skin_segmentation.baselines import HISTOGRAM_NAME
from skin_segmentation.training.state import (
    CHECKPOINT_DIR,
    HISTORY_NAME,
    MODEL_NAME,
    SPLITS_NAME,
    read_state,
)

IDENTITY_FIELDS = ("profile", "network", "input_size", "seed", "data_sha256")
# The profile field a resumed run may change.
CAP_FIELD = "profile.epochs"
# What makes a folder a run folder (with `checkpoint/`). `splits.json` alone does
# not: `skinseg train` writes it just before training starts.
RUN_FILES = (MODEL_NAME, HISTORY_NAME, HISTOGRAM_NAME)


def data_fingerprint(pairs):
    """SHA-256 of the sorted `(source, stem, image bytes, mask bytes)` of `pairs`.

    File sizes, not contents: cheap for thousands of photographs, and it
    changes when a pair is added, removed, renamed or replaced by another file.

    Example:
    >>> from skin_segmentation.data import read_dataset
    >>> from skin_segmentation.data.sample import sample_datasets
    >>> pairs = read_dataset(sample_datasets()[1])
    >>> data_fingerprint(pairs) == data_fingerprint(pairs[::-1]) != data_fingerprint(pairs[1:])
    True
    """
    rows = sorted(
        f"{pair.source}\t{pair.stem}\t{Path(pair.image).stat().st_size}\t"
        f"{Path(pair.mask).stat().st_size}"
        for pair in pairs
    )
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()


def _is_dataset(value):
    return hasattr(value, "element_spec") and hasattr(value, "batch")


def run_identity(model_or_preset, profile, seed, train_pairs, validation_pairs):
    """The `identity` of a run of `training.train` (see the module docstring).

    Args:
        model_or_preset: a preset's name (built at the profile's input size) or
            a ready `keras.Model` (named by its `name`).
        profile: the `Profile` the run trains with.
        seed: the training seed.
        train_pairs, validation_pairs: the `SkinPair`s it trains and validates
            on; when either is a `tf.data.Dataset`, the data is not fingerprinted.

    Returns:
        A JSON-ready dict.

    Example:
    >>> from skin_segmentation.profiles import get_profile
    >>> identity = run_identity("unet", get_profile("tiny"), 0, [], [])
    >>> identity["profile"]["epochs"], identity["input_size"], identity["network"]
    (2, [32, 32], 'unet')
    """
    if isinstance(model_or_preset, str):
        network, input_size = model_or_preset, profile.input_shape[:2]
    else:
        network, input_size = model_or_preset.name, model_or_preset.input_shape[1:3]
    pairs = None
    if not (_is_dataset(train_pairs) or _is_dataset(validation_pairs)):
        pairs = [*train_pairs, *validation_pairs]
    identity = {
        "profile": profile.to_config(),
        "network": network,
        "input_size": list(input_size),
        "seed": int(seed),
        "data_sha256": None if pairs is None else data_fingerprint(pairs),
    }
    return json.loads(json.dumps(identity))  # tuples as lists, as state.json reads back


def _recorded_identity(state):
    """The identity of a state; a run from before identities were recorded has a part."""
    if "identity" in state:
        return state["identity"]
    return {"profile": {"name": state.get("profile")}, "network": state.get("preset"),
            "seed": state.get("seed")}


def identity_difference(recorded, identity, ignore=()):
    """The first field in which two identities differ: `(field, recorded, new)`, or `None`.

    A profile is compared field by field (`profile.epochs`); a field only one of
    them records, data fingerprinted in only one, or a field named in `ignore`
    is not compared.

    Example:
    >>> from skin_segmentation.profiles import get_profile
    >>> tiny = run_identity("unet", get_profile("tiny"), 0, [], [])
    >>> longer = run_identity("unet", get_profile("tiny").replace(epochs=9), 0, [], [])
    >>> identity_difference(tiny, longer)
    ('profile.epochs', 2, 9)
    >>> identity_difference(tiny, longer, ignore=[CAP_FIELD]) is None
    True
    >>> identity_difference(tiny, dict(tiny, network="unet_large"))
    ('network', 'unet', 'unet_large')
    """
    for field in IDENTITY_FIELDS:
        old, new = recorded.get(field), identity.get(field)
        if field == "profile" and isinstance(old, dict) and isinstance(new, dict):
            for key in ("name", *sorted(set(old) & set(new) - {"name"})):
                name = f"profile.{key}" if key != "name" else "profile"
                if key in old and key in new and old[key] != new[key] and name not in ignore:
                    return name, old[key], new[key]
        elif old is not None and new is not None and old != new and field not in ignore:
            return field, old, new
    return None


def holds_a_run(out_dir):
    """Whether `out_dir` holds a run: a training state, a model, a history or a histogram."""
    out_dir = Path(out_dir)
    return (out_dir / CHECKPOINT_DIR).is_dir() or any(
        (out_dir / name).exists() for name in RUN_FILES)


def clear_run(out_dir):
    """Delete the run in `out_dir` (`checkpoint/`, `RUN_FILES`, `splits.json`), nothing else."""
    out_dir = Path(out_dir)
    shutil.rmtree(out_dir / CHECKPOINT_DIR, ignore_errors=True)
    for name in (*RUN_FILES, SPLITS_NAME):
        (out_dir / name).unlink(missing_ok=True)


def check_run_folder(out_dir, identity, resume=False, overwrite=False):
    """Refuse a run folder that holds another run; return the state of the run to resume.

    Nothing is written unless `overwrite` deletes an old run.

    Args:
        out_dir: the run folder (it may not exist yet).
        identity: the `run_identity` of the run about to start, or `None`
            (nothing to compare, e.g. a histogram).
        resume: continue the run in `out_dir`; its identity must equal `identity`,
            but for the epoch cap (which the caller applies: `state.change_epoch_cap`).
        overwrite: delete the run in `out_dir` (`clear_run`) and start afresh.

    Returns:
        The folder's `state.json` when a run is resumed, else `None`.

    Raises:
        ValueError: the folder holds a run and neither `resume` nor
            `overwrite` is given, or it holds another run than `identity`.
    """
    out_dir = Path(out_dir)
    if not holds_a_run(out_dir):
        return None
    if overwrite:
        clear_run(out_dir)
        return None
    state = read_state(out_dir)
    if not resume or state is None:
        done = "" if state is None else (
            f" ({state['epochs_done']} epochs done{', finished' if state.get('finished') else ''})")
        advice = "Resume it with --resume (resume=True), start" if state else "Start"
        raise ValueError(
            f"{out_dir}: already holds a training run{done}. {advice} it over with "
            f"--overwrite (overwrite=True), or choose another output folder."
        )
    difference = identity_difference(_recorded_identity(state), identity or {}, ignore=[CAP_FIELD])
    if difference:
        field, old, new = difference
        raise ValueError(
            f"{out_dir}: cannot resume: the run there has {field} {old!r}, this one asks for "
            f"{new!r}. Resume it with the settings and data it started with, start it over "
            f"with --overwrite, or choose another output folder."
        )
    return state
