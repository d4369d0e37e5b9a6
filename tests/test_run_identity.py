"""A run folder knows what it is, and `skinseg train` refuses what does not fit it.

One tiny run is trained through the command line on the shipped sample; every
refusal afterwards must leave its folder byte for byte as it was.
"""

import json

import pytest

from skin_segmentation.cli import main
from skin_segmentation.data import read_datasets
from skin_segmentation.data.sample import sample_datasets
from skin_segmentation.profiles import get_profile
from skin_segmentation.training import (
    check_run_folder,
    data_fingerprint,
    read_state,
    run_identity,
    train,
)

POOL, TARGET = sample_datasets()
DATA = ",".join(map(str, POOL[:2]))


def snapshot(folder):
    """`{relative path: bytes}` of every file under `folder`."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def train_args(out, *flags, **options):
    """`skinseg train` of the tiny U-Net on DATA into `out`, with `options` changed."""
    options = {"model": "unet", "data": DATA, "profile": "tiny", "out": str(out), **options}
    return ["train", *flags, *(word for name, value in options.items()
                                for word in (f"--{name}", str(value)))]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(train_args(out)) == 0
    return out


def test_the_state_records_profile_network_input_size_seed_and_data(run):
    identity = read_state(run)["identity"]
    assert identity["profile"] == json.loads(json.dumps(get_profile("tiny").to_config()))
    assert (identity["network"], identity["input_size"], identity["seed"]) == ("unet", [32, 32], 0)
    splits = json.loads((run / "splits.json").read_text())["splits"]
    used = set(splits["train"] + splits["validation"])
    pairs = [pair for pair in read_datasets(POOL[:2]) if pair.stem in used]
    assert len(pairs) == len(used) == 12
    assert identity["data_sha256"] == data_fingerprint(pairs)


@pytest.mark.parametrize("options, field, old, new", [
    ({"profile": "robust"}, "profile", "tiny", "robust"),
    ({"model": "unet_large"}, "network", "unet", "unet_large"),
    ({"seed": 3}, "seed", 0, 3),
    ({"data": POOL[0]}, "data_sha256", None, None),
])
def test_resume_with_another_profile_network_seed_or_data_is_refused(run, capsys, options, field,
                                                                     old, new):
    before = snapshot(run)
    assert main(train_args(run, "--resume", **options)) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and str(run) in error and "Traceback" not in error
    expected = (f"the run there has {field} {old!r}, this one asks for {new!r}" if old is not None
                else f"the run there has {field} '{read_state(run)['identity'][field]}', this one")
    assert expected in error
    assert snapshot(run) == before


def test_resume_with_one_profile_field_changed_names_that_field(run, tmp_path, capsys):
    # The epoch cap is the one field that may change (tests/test_epoch_cap.py).
    before = snapshot(run)
    patient = tmp_path / "tiny.json"  # the same name, another patience
    patient.write_text(json.dumps({"base": "tiny", "name": "tiny", "patience": 4}))
    assert main(train_args(run, "--resume", profile=patient)) == 2
    assert "the run there has profile.patience 1, this one asks for 4" in capsys.readouterr().err
    assert snapshot(run) == before


def test_a_folder_holding_a_run_is_refused_before_anything_is_written(run, capsys):
    before = snapshot(run)
    assert main(train_args(run)) == 2
    error = capsys.readouterr().err
    assert "already holds a training run (2 epochs done, finished)" in error
    assert "--overwrite" in error and "Traceback" not in error
    assert main(train_args(run, model="histogram")) == 2
    assert snapshot(run) == before


def test_resume_of_the_same_run_is_accepted(run, capsys):
    before = snapshot(run)
    assert main(train_args(run, "--resume")) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs"] == 2
    assert snapshot(run).keys() == before.keys()


def test_overwrite_deletes_only_the_run_and_starts_afresh(tmp_path):
    pairs = read_datasets(POOL[:2])
    profile = get_profile("tiny").replace(epochs=1)
    train("unet", pairs[:8], pairs[8:10], tmp_path, profile, verbose=0)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="already holds a training run"):
        train("unet", pairs[:8], pairs[8:10], tmp_path, profile, seed=4, verbose=0)
    result = train("unet", pairs[:8], pairs[8:10], tmp_path, profile, seed=4, overwrite=True,
                   verbose=0)
    assert result.seed == 4 and read_state(tmp_path)["identity"]["seed"] == 4
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_state_is_written_before_the_first_epoch(tmp_path):
    import keras

    seen = []

    class ReadStateAtStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(read_state(tmp_path))

    pairs = read_datasets(POOL[:2])
    train("unet", pairs[:8], pairs[8:10], tmp_path, get_profile("tiny").replace(epochs=1),
          callbacks=[ReadStateAtStart()], verbose=0)
    (state,) = seen
    assert state["epochs_done"] == 0 and state["identity"]["data_sha256"] == data_fingerprint(
        pairs[:10])


def test_a_run_from_before_identities_is_compared_by_what_it_recorded(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    legacy = {"profile": "quick", "preset": "unet", "seed": 0, "epochs_done": 3, "finished": False}
    (tmp_path / "checkpoint" / "state.json").write_text(json.dumps(legacy))
    identity = run_identity("unet", get_profile("quick"), 0, [], [])
    assert check_run_folder(tmp_path, identity, resume=True)["epochs_done"] == 3
    with pytest.raises(ValueError, match="has profile 'quick', this one asks for 'paper'"):
        check_run_folder(tmp_path, run_identity("unet", get_profile("paper"), 0, [], []),
                         resume=True)
