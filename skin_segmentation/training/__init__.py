"""Training: one network trained with the paper's protocol, checkpointed every epoch.

`compile` builds and compiles a network, `callbacks` holds the resumable early
stopping and the atomic checkpoint, `state` the run folder's files and the
`TrainResult`, `identity` what a run is and the check that a folder holds it,
and `loop` the `train` function that ties them together.
"""

from skin_segmentation.training.callbacks import AtomicCheckpoint, EpochLog, ResumableEarlyStopping
from skin_segmentation.training.compile import (
    MOMENTUM,
    build_for_profile,
    compile_model,
    load_initial_weights,
    network_to_fine_tune,
    weights_fingerprint,
)
from skin_segmentation.training.identity import check_run_folder, data_fingerprint, run_identity
from skin_segmentation.training.loop import train
from skin_segmentation.training.state import (
    CHECKPOINT_DIR,
    HISTORY_NAME,
    MODEL_NAME,
    STATE_NAME,
    TrainResult,
    read_state,
)

__all__ = [
    "CHECKPOINT_DIR",
    "HISTORY_NAME",
    "MODEL_NAME",
    "MOMENTUM",
    "STATE_NAME",
    "AtomicCheckpoint",
    "EpochLog",
    "ResumableEarlyStopping",
    "TrainResult",
    "build_for_profile",
    "check_run_folder",
    "compile_model",
    "data_fingerprint",
    "load_initial_weights",
    "network_to_fine_tune",
    "read_state",
    "run_identity",
    "train",
    "weights_fingerprint",
]
