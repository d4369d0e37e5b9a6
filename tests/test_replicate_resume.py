"""`replicate` on some scenarios only, and a cell killed mid-training resumed by the same call."""

import argparse
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from skin_segmentation.cli.replicate import add_parser, cli_command
from skin_segmentation.data import sample_datasets
from skin_segmentation.models import PRESETS, SCENARIOS
from skin_segmentation.profiles import get_profile
from skin_segmentation.records import read_record, record_path
from skin_segmentation.replicate import replicate
from skin_segmentation.training import read_state

PROFILE = get_profile("tiny").replace(epochs=3, patience=3)

# Runs the unet's direct-training cell and kill -9s the process once its first epoch
# is checkpointed, as an interruption would.
KILLED_REPLICATE = textwrap.dedent(
    """
    import os, signal, sys
    from skin_segmentation.data import sample_datasets
    from skin_segmentation.profiles import get_profile
    from skin_segmentation.replicate import replicate
    from skin_segmentation.training import callbacks

    finish_epoch = callbacks.AtomicCheckpoint.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        finish_epoch(self, epoch, logs)
        if self.out_dir.name == "direct_training" and epoch == 0:
            os.kill(os.getpid(), signal.SIGKILL)

    callbacks.AtomicCheckpoint.on_epoch_end = on_epoch_end
    pool, target = sample_datasets()
    profile = get_profile("tiny").replace(epochs=3, patience=3)
    replicate(pool, target, sys.argv[1], profile=profile, models=["unet"],
              scenarios=["direct_training"], verbose=0)
    """
)


def test_a_cell_killed_mid_training_resumes_at_its_next_epoch(tmp_path, capsys):
    out = tmp_path / "table1"
    killed = subprocess.run([sys.executable, "-c", KILLED_REPLICATE, str(out)],
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -9, killed.stderr[-2000:]
    run_dir = out / "unet" / "direct_training"
    assert not record_path(out, "unet", "direct_training").exists()
    assert read_state(run_dir)["epochs_done"] == 1
    first_epoch = pd.read_csv(run_dir / "history.csv")

    pool, target = sample_datasets()
    table = replicate(pool, target, out, profile=PROFILE, models=["unet"],
                      scenarios=["direct_training"], verbose=0)
    assert f"Resuming {run_dir} after epoch 1" in capsys.readouterr().out
    record = read_record(record_path(out, "unet", "direct_training"), arrays=False)
    assert record["history"]["epoch"].tolist() == [1, 2, 3]
    pd.testing.assert_frame_equal(record["history"].iloc[:1][first_epoch.columns], first_epoch,
                                  check_dtype=False)
    assert read_state(run_dir)["optimizer_iterations"] == 3 * PROFILE.steps_per_epoch(
        record["train_images"])
    # Only the scenario asked for ran: no pre-training, the other cells "n/a".
    assert not (out / "pretrained").exists()
    assert sorted(p.parent.name for p in out.glob("*/*/record.h5")) == ["direct_training"]
    unet = table.set_index("preset").loc["unet"]
    assert pd.isna(unet["direct_transfer_pooled_jaccard"])
    assert not pd.isna(unet["direct_training_pooled_jaccard"])


def test_unknown_scenarios_are_named_before_any_work(tmp_path):
    pool, target = sample_datasets()
    with pytest.raises(ValueError, match=r"Unknown scenario\(s\) \['transfer'\]"):
        replicate(pool, target, tmp_path, profile=PROFILE, scenarios=["transfer"])
    assert not list(tmp_path.iterdir())


def test_pretrain_closeup_crops_the_pool_and_leaves_the_targets_training_alone(tmp_path):
    pool, target = sample_datasets()
    profile = PROFILE.replace(epochs=1, patience=1, pretrain_closeup=1.0)
    replicate(pool, target, tmp_path, profile=profile, models=["unet"],
              scenarios=["direct_transfer", "direct_training"], verbose=0)
    closeup = {run: read_state(tmp_path / run)["identity"]["profile"]["closeup"]
               for run in ("pretrained/unet", "unet/direct_training")}
    assert closeup == {"pretrained/unet": 1.0, "unet/direct_training": 0.0}


def test_pretrain_closeup_outside_zero_to_one_is_refused_naming_the_field():
    with pytest.raises(ValueError, match=r"`pretrain_closeup` is a share.*pretrain_closeup=1.5"):
        PROFILE.replace(pretrain_closeup=1.5)


def test_cli_replicate_precision_overrides_the_profiles_and_is_written_into_the_command(tmp_path):
    from skin_segmentation.cli import main

    assert main(["replicate", "--profile", "tiny", "--out", str(tmp_path), "--models", "unet",
                 "--scenarios", "direct_training", "--precision", "mixed_bfloat16"]) == 0
    record = read_record(record_path(tmp_path, "unet", "direct_training"), arrays=False)
    assert get_profile("tiny").precision == "float32"
    assert record["precision"] == "mixed_bfloat16"
    assert "--precision mixed_bfloat16" in (tmp_path / "table1.md").read_text()


def test_cli_replicate_takes_scenarios_and_writes_them_into_the_command():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["replicate", "--out", "r", "--models", "unet",
                              "--scenarios", "direct_training,fine_tuning"])
    assert args.scenarios == ["direct_training", "fine_tuning"]
    assert cli_command(args).endswith("--models unet --scenarios direct_training,fine_tuning")
    assert set(args.scenarios) <= set(SCENARIOS) and "unet" in PRESETS
