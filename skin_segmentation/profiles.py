"""Training profiles: the paper's settings and smaller ones, as data.

A profile is one frozen `Profile` in the `PROFILES` table (or a JSON file of the
same fields). Training, the scenarios and the command line read every setting
from it, so `paper`, `cpu`, `quick` and `tiny` run exactly the same code and differ only
in numbers:

- `paper`: Codella et al. 2018 as published. SGD with momentum 0.9 at learning
  rate 0.01 from random initialization and 0.001 for fine-tuning, batch 16,
  128x128 inputs, up to 500 epochs with early stopping after 50 epochs without a
  better validation loss on a 20% validation split, a public pool of at most 2620
  images in the paper's proportions 1000 : 721 : 899 (as many as the data allow),
  the target's 100 + 300 images taken in MD5 order of their bytes, 100 to train
  on and 300 to evaluate. A GPU's work.
- `quick`: the same protocol for a 2-core CPU at 64x64 in float32, with a budget
  in SGD steps (issue 17): epochs of 320 images (20 steps) whatever the training
  set's size, at most 20, patience 3 watched from epoch 9 when training from
  random weights (`warmup_epochs`: such a network says "all skin" for its first
  150-250 steps), a pool of at most 320 in the paper's proportions
  (experiments/table1.md; its earlier versions: experiments/profiles/quick_v*.json).
- `cpu`: `paper` on a 2-core CPU's budget for the U-Net's row (about three
  hours): epochs of 416 images (26 steps), at most 25, patience 5, watched from
  epoch 9 as in `quick`.
- `tiny`: a few images at 32x32 through miniature networks, for tests.
"""

import dataclasses
import json
import math
from pathlib import Path

from skin_segmentation.models.blocks import STANDARDIZATIONS
from skin_segmentation.models.presets import PAPER_EPOCH_IMAGES, PAPER_VALIDATION_FRACTION

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
AUGMENTATIONS = (None, "tf", "imgaug")
TARGET_SELECTIONS = ("seeded", "md5")


@dataclasses.dataclass(frozen=True)
class Profile:
    """Every setting of a training run or a Table I replication.

    Attributes:
        name: the profile's name, written into every record.
        epochs: the most epochs a training runs.
        patience: epochs without a lower validation loss before stopping early.
        batch_size: images per SGD step (and per prediction batch).
        image_size: images and masks are resized to `image_size` squared.
        pretrain_images: how many images of the public pool to pre-train on,
            drawn equally from each source; `None` takes the balanced pool
            (the same number from every source, as many as the smallest has).
        target_train: target images to train or fine-tune on (the paper's 100).
        target_eval: target images to evaluate on (the paper's 300).
        validation_fraction: share of a training set held out for early stopping.
        learning_rate: SGD learning rate from random initialization.
        fine_tune_learning_rate: SGD learning rate when starting from weights.
        precision: a Keras dtype policy: `"float32"`, `"mixed_bfloat16"` or
            `"mixed_float16"`.
        augment: training augmentation backend: `None`, `"tf"` or `"imgaug"`.
        model_overrides: preset name -> builder arguments replacing the preset's
            own (miniature networks for tests); empty for the paper's networks.
        seed: seed of the splits, the initialization and the data order.
        description: a few words on what the profile is for.
        closeup: share of training images replaced by a close-up crop (a window
            down to `closeup_min_side` of the side, half of them centred on
            skin; `data.closeup`); 0 turns it off, as in the paper.
        closeup_min_side: the smallest close-up window, a fraction of the side.
        photometric: share of training images given photometric jitter (white
            balance, exposure, gamma, saturation, hue, blur, JPEG;
            `data.appearance`); 0 turns it off.
        lesions: share of training images given a synthetic lesion inside their
            skin (`data.appearance`); 0 turns it off.
        balance_sources: draw every source folder equally often while training,
            keeping all of its images, instead of subsampling each source to
            the same count (`pretrain_images` then caps nothing).
        epoch_images: training images per epoch (`None`: each image once);
            validation and checkpoints come after every epoch.
        pretrain_shares: per-source weights of the pre-training pool, in the
            order its folders are given (the paper's `(1000, 721, 899)`): the
            largest pool of at most `pretrain_images` in these proportions that
            the data allow (`data.splits.proportional_counts`); `None` draws
            the sources equally.
        target_selection: how the target's `target_train + target_eval` images
            are chosen: `"seeded"` (a seeded draw) or `"md5"` (the first in the
            MD5 order of their bytes, as the paper chose its 400).
        warmup_epochs: epochs a training from random initialization runs before
            early stopping starts watching the validation loss (Keras
            `EarlyStopping(start_from_epoch=...)`: the warm-up's epochs are not
            candidates for the best weights either); fine-tuning never waits.
            A network from random weights first says "all skin" for 150-250
            SGD steps (experiments/table1.md), where a short patience would
            stop it. 0 in the paper, whose patience of 50 epochs covers that.
        standardization: the networks' input scaling: `"per_image"` (the
            paper: every image standardized per channel, which erases its
            absolute colour) or `"fixed"` (the network scales raw pixels to
            [-1, 1] in its first layer; `models.blocks.input_standardization`).
            A fine-tuned network keeps its own, whatever the profile says.
    """

    name: str
    epochs: int
    patience: int
    batch_size: int
    image_size: int
    pretrain_images: int | None
    target_train: int
    target_eval: int
    validation_fraction: float
    learning_rate: float
    fine_tune_learning_rate: float
    precision: str
    augment: str | None
    model_overrides: dict = dataclasses.field(default_factory=dict, hash=False)
    seed: int = 0
    description: str = ""
    closeup: float = 0.0
    closeup_min_side: float = 0.125
    photometric: float = 0.0
    lesions: float = 0.0
    balance_sources: bool = False
    epoch_images: int | None = None
    pretrain_shares: tuple | None = None
    target_selection: str = "seeded"
    standardization: str = "per_image"
    warmup_epochs: int = 0

    def __post_init__(self):
        positive = ("epochs", "patience", "batch_size", "image_size", "target_train", "target_eval")
        for field in positive:
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"Profile {self.name!r}: `{field}` must be a positive integer. "
                    f"Received: {field}={value!r}"
                )
        if not isinstance(self.warmup_epochs, int) or self.warmup_epochs < 0:
            raise ValueError(
                f"Profile {self.name!r}: `warmup_epochs` must be a non-negative integer. "
                f"Received: warmup_epochs={self.warmup_epochs!r}"
            )
        for field in ("pretrain_images", "epoch_images"):
            value = getattr(self, field)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(
                    f"Profile {self.name!r}: `{field}` must be a positive integer or "
                    f"None. Received: {field}={value!r}"
                )
        if self.image_size % 16:
            raise ValueError(
                f"Profile {self.name!r}: `image_size` must be a multiple of 16 (the "
                f"networks pool four times). Received: image_size={self.image_size}"
            )
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"Profile {self.name!r}: `validation_fraction` must be in (0, 1). "
                f"Received: validation_fraction={self.validation_fraction}"
            )
        for field in ("learning_rate", "fine_tune_learning_rate"):
            if not getattr(self, field) > 0:
                raise ValueError(
                    f"Profile {self.name!r}: `{field}` must be positive. "
                    f"Received: {field}={getattr(self, field)}"
                )
        for field in ("closeup", "photometric", "lesions"):
            if not 0.0 <= getattr(self, field) <= 1.0:
                raise ValueError(
                    f"Profile {self.name!r}: `{field}` is a share of images in [0, 1]. "
                    f"Received: {field}={getattr(self, field)}"
                )
        if not 0.0 < self.closeup_min_side <= 1.0:
            raise ValueError(
                f"Profile {self.name!r}: `closeup_min_side` must lie in (0, 1]. "
                f"Received: closeup_min_side={self.closeup_min_side}"
            )
        if self.pretrain_shares is not None:
            shares = tuple(self.pretrain_shares)
            if not shares or not all(
                isinstance(share, (int, float)) and share > 0 for share in shares
            ):
                raise ValueError(
                    f"Profile {self.name!r}: `pretrain_shares` must be positive numbers, one "
                    f"per pre-training folder, or None. Received: pretrain_shares={shares!r}"
                )
            object.__setattr__(self, "pretrain_shares", shares)  # JSON gives a list
        choices = {"target_selection": TARGET_SELECTIONS, "standardization": STANDARDIZATIONS,
                   "precision": PRECISIONS, "augment": AUGMENTATIONS}
        for field, allowed in choices.items():
            if getattr(self, field) not in allowed:
                raise ValueError(
                    f"Profile {self.name!r}: `{field}` must be one of {allowed}. "
                    f"Received: {field}={getattr(self, field)!r}"
                )

    def sampling_options(self):
        """`make_dataset` keyword arguments of what an epoch draws: its size and sources."""
        return dict(balance_sources=self.balance_sources, epoch_images=self.epoch_images)

    def dataset_options(self):
        """`make_dataset` keyword arguments of this profile's training augmentation and sampling."""
        from skin_segmentation.data.appearance import PhotometricConfig
        from skin_segmentation.data.closeup import CloseupConfig

        return dict(
            closeup=CloseupConfig(self.closeup, self.closeup_min_side) if self.closeup else None,
            photometric=PhotometricConfig(probability=self.photometric) if self.photometric else None,
            lesions=self.lesions,
            **self.sampling_options(),
        )

    def epoch_train_images(self, train_images):
        """Images one epoch trains on, for a training set of `train_images`.

        >>> get_profile("quick").epoch_train_images(80), get_profile("tiny").epoch_train_images(8)
        (320, 8)
        """
        return self.epoch_images or int(train_images)

    def steps_per_epoch(self, train_images):
        """SGD steps of one epoch on a training set of `train_images`.

        >>> get_profile("quick").steps_per_epoch(80), get_profile("paper").steps_per_epoch(2096)
        (20, 131)
        """
        return math.ceil(self.epoch_train_images(train_images) / self.batch_size)

    @property
    def input_shape(self):
        """`(image_size, image_size, 3)`, the networks' input shape."""
        return (self.image_size, self.image_size, 3)

    def overrides_for(self, preset):
        """Builder arguments this profile gives `preset` (a copy, maybe empty)."""
        return dict(self.model_overrides.get(preset, {}))

    def to_config(self):
        """The profile as a JSON-ready dict (`Profile(**config)` rebuilds it)."""
        config = dataclasses.asdict(self)
        config["model_overrides"] = {
            preset: {key: list(value) if isinstance(value, tuple) else value
                     for key, value in kwargs.items()}
            for preset, kwargs in self.model_overrides.items()
        }
        return config

    def replace(self, **changes):
        """A copy with some fields changed, e.g. `profile.replace(seed=1)`."""
        return dataclasses.replace(self, **changes)


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
        epochs=20,
        patience=3,
        warmup_epochs=8,
        batch_size=16,
        image_size=64,
        pretrain_images=320,
        target_train=100,
        target_eval=300,
        validation_fraction=0.2,
        learning_rate=0.01,
        fine_tune_learning_rate=0.001,
        precision="float32",
        augment="tf",
        epoch_images=320,
        pretrain_shares=(1000, 721, 899),
        description=(
            "the paper's protocol on a 2-core CPU: 64 px, 20 SGD steps an epoch, early "
            "stopping from epoch 9 for networks trained from random weights"
        ),
    ),
    "cpu": _PAPER.replace(
        name="cpu",
        epochs=25,
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
