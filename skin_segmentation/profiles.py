"""Training profiles: the paper's settings and smaller ones, as data.

A profile is one frozen `Profile` (`profile_fields`) in the `PROFILES` table (or
a JSON file of the same fields). Training, the scenarios and the command line
read every setting from it, so `paper`, `cpu`, `quick` and `tiny` run exactly the
same code and differ only in numbers:

- `paper`: Codella et al. 2018 as published. SGD with momentum 0.9 at learning
  rate 0.01 from random initialization and 0.001 for fine-tuning, batch 16,
  128x128 inputs, up to 500 epochs with early stopping after 50 epochs without a
  better validation loss on a 20% validation split, a public pool of at most 2620
  images in the paper's proportions 1000 : 721 : 899 (as many as the data allow),
  the target's 100 + 300 images taken in MD5 order of their bytes, 100 to train
  on and 300 to evaluate. A GPU's work.
- `quick`: the same protocol for a 2-core CPU at 64x64, with a budget in SGD
  steps (issue 17): epochs of 320 images (20 steps) whatever the training set's
  size, at most 15, patience 3 watched from epoch 5 when training from
  random weights (`warmup_epochs`: such a network says "all skin" for its first
  steps), a pool of at most 320 in the paper's proportions, and two departures
  from the paper's recipe: `standardization="fixed"`, because with the paper's
  per-image standardization direct transfer to abdomen close-ups scores below
  calling every pixel skin, and a learning rate that rises to the paper's over
  the first 100 steps (`lr_warmup_steps`), because at the full rate some draws of
  the Dense Residual U-Net never leave "all skin" (experiments/table1.md; the
  earlier versions, per-image among them: experiments/profiles/quick_v*.json).
  Its precision is `"auto"`: bfloat16 where a training step measured faster in
  it, float32 elsewhere (`precision.resolve_precision`).
- `cpu`: `paper` on a 2-core CPU's budget for the U-Net's row (a few hours):
  epochs of 416 images (26 steps), at most 50, patience 5, watched from epoch 9
  (past the longer "all skin" of per-image standardization at 128 px).
- `tiny`: a few images at 32x32 through miniature networks, for tests.
"""

import dataclasses
import json
from pathlib import Path

from skin_segmentation.models.presets import PAPER_EPOCH_IMAGES, PAPER_VALIDATION_FRACTION
from skin_segmentation.precision import PRECISIONS  # noqa: F401  (part of this module's interface)
from skin_segmentation.profile_fields import (  # noqa: F401  (part of this module's interface)
    AUGMENTATIONS,
    TARGET_SELECTIONS,
    Profile,
)

_TINY_NETWORK = {"filters": (4, 8, 16)}

_PAPER = Profile(
    name="paper",
    epochs=500,
    patience=50,
    batch_size=16,
    image_size=128,
    pretrain_images=PAPER_EPOCH_IMAGES,
    target_train=100,
    target_eval=300,
    validation_fraction=PAPER_VALIDATION_FRACTION,
    learning_rate=0.01,
    fine_tune_learning_rate=0.001,
    precision="float32",
    augment="tf",
    # The paper's pool (LFW 1000, LVS 721, HGR 899) and its clinical selection.
    pretrain_shares=(1000, 721, 899),
    target_selection="md5",
    description="Codella et al. 2018 as published, a GPU's work",
)

# The recipe of issue 9 and of the bundled network (experiments/robust_recipe.md): the
# paper's protocol with every switch for close-ups and photographs in the wild turned on.
_ROBUST = _PAPER.replace(
    name="robust",
    pretrain_images=None,
    pretrain_shares=None,
    target_selection="seeded",
    closeup=0.5,
    photometric=0.8,
    lesions=0.3,
    balance_sources=True,
    # 2620 training images per epoch: the size of the paper's pool, more than the 2096
    # its epoch trains on (`models.PAPER_EPOCH_IMAGES`); kept so that runs made with it resume.
    epoch_images=2620,
    # The switch that mattered most: per-image standardization erases the colour that
    # tells a skin close-up from a beige wall.
    standardization="fixed",
    description=(
        "the paper's network, optimizer and loss with a recipe for clinical close-ups "
        "and photographs in the wild: raw pixels scaled by the network (absolute colour "
        "kept), close-up crops, photometric jitter, synthetic lesions, every source "
        "drawn equally (negatives included), epochs of the paper's 2620 images"
    ),
)

PROFILES = {
    "paper": _PAPER,
    "robust": _ROBUST,
    "finetune": _ROBUST.replace(
        name="finetune",
        epochs=20,
        patience=6,
        balance_sources=False,
        epoch_images=48,
        description=(
            "fine-tuning a trained network on a user's own photographs in minutes on a "
            "CPU: the robust augmentation, the paper's fine-tuning rate 0.001, epochs of "
            "48 images (3 steps), at most 20, patience 6; the input size is the network's"
        ),
    ),
    "quick": Profile(
        name="quick",
        # 300 SGD steps: the table took 33 min in bfloat16 on a 2-core EPYC, 36 with 20 (quick_v5.json).
        epochs=15,
        patience=3,
        # A network from random weights leaves the "all skin" answer after about 60 steps
        # with fixed standardization (150-250 with the paper's per-image one).
        warmup_epochs=4,
        # One departure from the paper's recipe: at the full rate from the first step, some
        # random draws of the Dense Residual U-Net (seed 1) saturate at "all skin" and never
        # leave; 100 steps of warm-up rescue them.
        lr_warmup_steps=100,
        batch_size=16,
        image_size=64,
        pretrain_images=320,
        target_train=100,
        target_eval=300,
        validation_fraction=0.2,
        learning_rate=0.01,
        fine_tune_learning_rate=0.001,
        # bfloat16 where this CPU trains faster in it (1.4-1.9x on an AVX512-BF16 EPYC).
        precision="auto",
        augment="tf",
        epoch_images=320,
        pretrain_shares=(1000, 721, 899),
        # The other departure from the paper's recipe: per-image standardization makes an
        # abdomen close-up's skin its "average" colour, which faces and hands in front of
        # a background teach a network to call background (experiments/table1.md).
        standardization="fixed",
        description=(
            "the paper's protocol on a 2-core CPU: 64 px, at most 15 epochs of 20 SGD "
            "steps, early stopping from epoch 5 and a learning-rate warm-up of 100 steps "
            "for networks trained from random weights, raw pixels scaled to [-1, 1] "
            "instead of the paper's per-image standardization"
        ),
    ),
    "cpu": _PAPER.replace(
        name="cpu",
        # 1300 steps: at 128 px direct training calls everything skin for more than 650
        # (experiments/table1.md); the first row ran with 25 (experiments/profiles/cpu_v1.json).
        epochs=50,
        patience=5,
        warmup_epochs=8,
        epoch_images=416,
        description="the paper's protocol at 128 px on a 2-core CPU: 26 SGD steps an epoch",
    ),
    "tiny": Profile(
        name="tiny",
        epochs=2,
        patience=1,
        batch_size=4,
        image_size=32,
        pretrain_images=12,
        target_train=10,
        target_eval=6,
        validation_fraction=0.2,
        learning_rate=0.01,
        fine_tune_learning_rate=0.001,
        precision="float32",
        augment=None,
        model_overrides={
            "unet": dict(_TINY_NETWORK),
            "unet_large": {**_TINY_NETWORK, "fc_units": 8},
            "dense_residual_unet": {**_TINY_NETWORK, "fc_units": 8, "residual_convs": 2},
        },
        description="miniature networks on a dozen images, for tests (seconds)",
    ),
}


def load_profile(path):
    """A `Profile` from a JSON file of its fields.

    The file may name a `"base"` profile whose fields it changes: a name of
    `PROFILES` or another `.json` file, read from the folder of the file naming
    it (a chain of bases must not circle). Every other key must be a `Profile` field.

    Example:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mine.json"
    >>> _ = path.write_text(json.dumps({"base": "quick", "name": "mine", "epochs": 3}))
    >>> load_profile(path).epochs, load_profile(path).image_size
    (3, 64)
    """
    return _load_profile_file(Path(path), chain=())


def _load_profile_file(path, chain):
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable profile JSON file ({error})") from None
    if not isinstance(fields, dict):
        raise ValueError(f"{path}: a profile file holds a JSON object. Received: {fields!r}")
    base = fields.pop("base", None)
    known = {field.name for field in dataclasses.fields(Profile)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"{path}: unknown profile fields {unknown}. Known: {sorted(known)}")
    if "model_overrides" in fields:
        fields["model_overrides"] = {
            preset: {key: tuple(value) if isinstance(value, list) else value
                     for key, value in kwargs.items()}
            for preset, kwargs in fields["model_overrides"].items()
        }
    if base is None:
        fields.setdefault("name", path.stem)
        try:
            return Profile(**fields)
        except TypeError as error:
            raise ValueError(f"{path}: {error}") from None
    if not (isinstance(base, str) and base.endswith(".json")):
        return get_profile(base).replace(**fields)
    chain, base = (*chain, path.resolve()), path.parent / base
    if base.resolve() in chain:
        raise ValueError(f"{path}: its base profile {base} names it again (a circle of bases).")
    return _load_profile_file(base, chain).replace(**fields)


def get_profile(profile):
    """A `Profile` from a name in `PROFILES`, a JSON file path, or a `Profile`.

    Args:
        profile: `"paper"`, `"quick"`, `"tiny"`, the path of a `.json` profile,
            or a `Profile` (returned as is).

    Example:
    >>> get_profile("paper").epochs, get_profile("paper").patience
    (500, 50)
    """
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, str) and profile in PROFILES:
        return PROFILES[profile]
    if isinstance(profile, (str, Path)) and str(profile).endswith(".json"):
        return load_profile(profile)
    raise ValueError(
        f"Unknown profile {profile!r}. Choose one of: {', '.join(PROFILES)}, "
        f"or give the path of a .json profile file."
    )
