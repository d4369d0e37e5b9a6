"""How long does a network from random weights predict "all skin"? Prediction per SGD step.

Issue 17: the quick profile's direct-training cell scored exactly what calling every
pixel skin scores. This trains the U-Net from random weights the quick profile's way
(64 px, batch 16, SGD with momentum 0.9 on the Jaccard distance, the `tf` augmentation,
epochs of 320 images) on the first 80 pairs of a target folder, and every 20 steps
prints the training loss and what the network predicts on 32 fixed training images:
the mean confidence and the share of pixels called skin, beside the true share.

    python experiments/all_skin_plateau.py --data ../shared/data/abdomen \
        [--learning-rate 0.01] [--steps 300] [--profile quick]

The figures are in experiments/table1.md ("Why direct training stalled"); they were made
with the per-image profile of the time, experiments/profiles/quick_v3.json (the default
here); `--profile quick` shows the shorter plateau of fixed standardization.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from skin_segmentation.data import read_dataset  # noqa: E402
from skin_segmentation.data.pipeline import make_dataset  # noqa: E402
from skin_segmentation.profiles import get_profile  # noqa: E402
from skin_segmentation.training import build_for_profile, compile_model  # noqa: E402


class PredictionEvery(keras.callbacks.Callback):
    """Loss and prediction on fixed images every `every` steps."""

    def __init__(self, images, masks, every):
        super().__init__()
        self.images, self.every = images, every
        self.true_share = float(masks.numpy().mean())

    def on_train_batch_end(self, batch, logs=None):
        if batch % self.every:
            return
        confidence = self.model(self.images, training=False).numpy()
        print(f"step {batch:4d}  loss {logs['loss']:.4f}  mean confidence {confidence.mean():.3f}  "
              f"called skin {(confidence > 0.5).mean():.3f}  (truly skin {self.true_share:.3f})",
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a target folder (images/, masks/)")
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--profile", default=str(Path(__file__).parent / "profiles" / "quick_v3.json"),
                        help="a profile name or .json file (default: the per-image quick_v3)")
    args = parser.parse_args()

    profile = get_profile(args.profile)
    keras.utils.set_random_seed(profile.seed)
    pairs = read_dataset(args.data)[:80]
    batches = make_dataset(pairs, image_size=profile.image_size, batch_size=profile.batch_size,
                           augment=profile.augment, shuffle=True, seed=profile.seed,
                           standardization=profile.standardization, **profile.dataset_options())
    fixed_images, fixed_masks = next(iter(make_dataset(
        pairs[:32], image_size=profile.image_size, batch_size=32, shuffle=False,
        standardization=profile.standardization)))

    model = compile_model(build_for_profile("unet", profile), args.learning_rate)
    started = time.perf_counter()
    model.fit(batches.repeat().take(args.steps), epochs=1, verbose=0,
              callbacks=[PredictionEvery(fixed_images, fixed_masks, every=20)])
    print(f"{args.steps} steps at learning rate {args.learning_rate}: "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
