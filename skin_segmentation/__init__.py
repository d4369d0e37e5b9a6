"""skin-segmentation: the Keras implementation of Codella et al. 2018,
"Segmentation of both Diseased and Healthy Skin from Clinical Photographs in a
Primary Care Setting".

Importing the package registers its custom layer, loss and metrics with Keras,
so `keras.models.load_model(path)` reloads any saved model without
`custom_objects`. TensorFlow is imported first, with its C++ start-up lines
held back (`skin_segmentation.quiet`; `SKINSEG_VERBOSE=1` lets them through).
"""

__version__ = "0.1.0"

from skin_segmentation.quiet import import_tensorflow

import_tensorflow()

from skin_segmentation import losses, metrics, models  # noqa: E402, F401  (registration)
from skin_segmentation.losses import JaccardDistance, jaccard_distance
from skin_segmentation.metrics import DiceCoefficient, JaccardIndex
from skin_segmentation.models import PRESETS, build_model

__all__ = [
    "PRESETS",
    "DiceCoefficient",
    "JaccardDistance",
    "JaccardIndex",
    "build_model",
    "jaccard_distance",
    "losses",
    "metrics",
    "models",
]
