"""One training profile: the `Profile` dataclass, its fields checked when it is made.

Every setting of a training run or a Table I replication is a field of a frozen
`Profile`; a profile that could not run (a size the networks cannot pool, a
share outside [0, 1], an unknown precision) is refused with a one-line
`ValueError` naming the profile, the field and the value. The profiles
themselves, and reading them from JSON files, are `profiles`.
"""

import dataclasses
import math

from skin_segmentation.models.blocks import STANDARDIZATIONS
from skin_segmentation.precision import PRECISION_CHOICES, resolve_precision

AUGMENTATIONS = (None, "tf", "imgaug")
# The same choices as `data.splits.TARGET_SELECTIONS` (which imports profiles lazily).
TARGET_SELECTIONS = ("seeded", "md5")


def _integer_at_least(least):
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= least


_positive_int = _integer_at_least(1)


def _positive_shares(shares):
    return shares is None or (
        len(shares) > 0
        and all(isinstance(share, (int, float)) and share > 0 for share in shares)
    )


def _one_of(allowed):
    return (lambda value: value in allowed), f"must be one of {allowed}"


# (fields, check, what the check requires): one `ValueError` naming the field and value.
_FIELD_RULES = (
    (("epochs", "patience", "batch_size", "image_size", "target_train", "target_eval"),
     _positive_int, "must be a positive integer"),
    (("warmup_epochs", "lr_warmup_steps"), _integer_at_least(0), "must be a non-negative integer"),
    (("pretrain_images", "epoch_images"),
     lambda value: value is None or _positive_int(value),
     "must be a positive integer or None"),
    (("image_size",), lambda value: value % 16 == 0,
     "must be a multiple of 16 (the networks pool four times)"),
    (("validation_fraction",), lambda value: 0.0 < value < 1.0, "must be in (0, 1)"),
    (("learning_rate", "fine_tune_learning_rate"), lambda value: value > 0, "must be positive"),
    (("closeup", "photometric", "lesions"), lambda value: 0.0 <= value <= 1.0,
     "is a share of images in [0, 1]"),
    (("pretrain_closeup",), lambda value: value is None or 0.0 <= value <= 1.0,
     "is a share of images in [0, 1] or None"),
    (("closeup_min_side",), lambda value: 0.0 < value <= 1.0, "must lie in (0, 1]"),
    (("pretrain_shares",), _positive_shares,
     "must be positive numbers, one per pre-training folder, or None"),
    (("target_selection",), *_one_of(TARGET_SELECTIONS)),
    (("standardization",), *_one_of(STANDARDIZATIONS)),
    (("precision",), *_one_of(PRECISION_CHOICES)),
    (("augment",), *_one_of(AUGMENTATIONS)),
)


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
            `"mixed_float16"`; or `"auto"`, the faster one for the device
            (`precision.resolve_precision`), fixed when a run starts
            (`with_device_precision`).
        augment: training augmentation backend: `None`, `"tf"` or `"imgaug"`.
        model_overrides: preset name -> builder arguments replacing the preset's
            own (miniature networks for tests); empty for the paper's networks.
        seed: seed of the splits, the initialization and the data order.
        description: a few words on what the profile is for.
        closeup: share of training images replaced by a close-up crop (a window
            down to `closeup_min_side` of the side, half of them centred on
            skin; `data.closeup`); 0 turns it off, as in the paper.
        closeup_min_side: the smallest close-up window, a fraction of the side.
        pretrain_closeup: `closeup` for the pre-training on the public pool of a
            Table I replication alone (`None`: `closeup`); the target's trainings
            keep `closeup`. Faces and hands in front of a background never show
            a frame that is all skin; abdomen photographs already are close-ups.
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
            SGD steps at 64 px with per-image standardization, 40-80 with fixed
            (experiments/table1.md), where a short patience would stop it. 0 in
            the paper, whose patience of 50 epochs covers that.
        lr_warmup_steps: SGD steps over which a training from random
            initialization raises its learning rate linearly from 0 to
            `learning_rate`, constant after them (the warm-up of Keras's
            `CosineDecay` schedule); 0 (the paper): the full rate from the first
            step. Fine-tuning starts at its rate.
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
    pretrain_closeup: float | None = None
    lr_warmup_steps: int = 0

    def __post_init__(self):
        for fields, is_valid, requirement in _FIELD_RULES:
            for field in fields:
                value = getattr(self, field)
                if not is_valid(value):
                    raise ValueError(
                        f"Profile {self.name!r}: `{field}` {requirement}. "
                        f"Received: {field}={value!r}"
                    )
        if self.pretrain_shares is not None:
            object.__setattr__(self, "pretrain_shares", tuple(self.pretrain_shares))  # JSON: a list

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

    def for_pretraining(self):
        """This profile as the pre-training on the public pool uses it (`pretrain_closeup`).

        >>> from skin_segmentation.profiles import get_profile
        >>> get_profile("quick").replace(pretrain_closeup=0.5).for_pretraining().closeup
        0.5
        """
        if self.pretrain_closeup is None:
            return self
        return self.replace(closeup=self.pretrain_closeup)

    def epoch_train_images(self, train_images):
        """Images one epoch trains on, for a training set of `train_images`.

        >>> from skin_segmentation.profiles import get_profile
        >>> get_profile("quick").epoch_train_images(80), get_profile("tiny").epoch_train_images(8)
        (320, 8)
        """
        return self.epoch_images or int(train_images)

    def steps_per_epoch(self, train_images):
        """SGD steps of one epoch on a training set of `train_images`.

        >>> from skin_segmentation.profiles import get_profile
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

    def with_device_precision(self):
        """This profile with `precision="auto"` replaced by the policy picked for this device.

        A run records the policy it trained in, never `"auto"`; other profiles
        are returned as they are.
        """
        if self.precision != "auto":
            return self
        return self.replace(precision=resolve_precision("auto"))
