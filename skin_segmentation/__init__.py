"""skin-segmentation: the Keras implementation of Codella et al. 2018,
"Segmentation of both Diseased and Healthy Skin from Clinical Photographs in a
Primary Care Setting".

Importing the package is quick: TensorFlow, which takes seconds to load, is
imported only by what needs it (a model, a loss, a data pipeline), so
`skinseg --help` answers at once. The package arranges two things for the
moment TensorFlow and Keras are loaded (`lazy.on_first_import`):

- TensorFlow's C++ start-up lines are held back (`skin_segmentation.quiet`;
  `SKINSEG_VERBOSE=1` lets them through);
- the package's custom layer, loss and metrics are registered with Keras (at
  once when Keras is loaded already), so `keras.models.load_model(path)`
  reloads any saved model without `custom_objects`.

`build_model`, `PRESETS`, the losses and metrics below are loaded on first use.
"""

import contextlib
import importlib

from skin_segmentation import lazy, quiet

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "PRESETS": "skin_segmentation.models",
    "build_model": "skin_segmentation.models",
    "JaccardDistance": "skin_segmentation.losses",
    "jaccard_distance": "skin_segmentation.losses",
    "DiceCoefficient": "skin_segmentation.metrics",
    "JaccardIndex": "skin_segmentation.metrics",
}
_SUBMODULES = ("losses", "metrics", "models")
# Importing these registers the package's Keras objects.
_REGISTERING_MODULES = ("skin_segmentation.losses", "skin_segmentation.metrics",
                        "skin_segmentation.models.blocks")

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})


def _register_keras_objects():
    for module in _REGISTERING_MODULES:
        importlib.import_module(module)


@contextlib.contextmanager
def _registering_after():
    yield
    _register_keras_objects()


quiet.hold_tensorflow_start()
if not lazy.on_first_import("keras", _registering_after):
    _register_keras_objects()
