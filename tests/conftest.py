"""Shared fixtures. TensorFlow's logs are silenced before it is first imported."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402
from helpers import red_detector  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """`../shared/data`, or skip when this checkout has none beside it."""
    if not (SHARED_DATA / "abdomen" / "images").is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA


@pytest.fixture(scope="module")
def red_weights(tmp_path_factory):
    """A saved model whose confidence is sigmoid(8 x standardized red)."""
    path = tmp_path_factory.mktemp("weights") / "red.keras"
    red_detector().save(path)
    return path
