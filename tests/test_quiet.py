"""Quiet start: no TensorFlow C++ log line reaches the terminal unless asked for.

The command line is run in subprocesses whose environment does not set
TF_CPP_MIN_LOG_LEVEL (conftest sets it for this process), once as a user runs
it and once with SKINSEG_VERBOSE=1, which lets TensorFlow log as it would
without this package: the lines of the second that look like TensorFlow's
C++ log must be absent from the first.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skin_segmentation import quiet
from skin_segmentation.cli import main
from skin_segmentation.data.sample import sample_datasets

REPO_ROOT = Path(__file__).resolve().parents[1]
# glog/absl lines ("I0000 00:00:1796004562.144237    5412 cpu_feature_guard.cc:227] ..."),
# absl's banner, the continuation of the instruction-set note, TFLite's delegate note.
TF_LOG_LINE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\]|absl::InitializeLog|"
    r"^To enable the following instructions|^INFO: Created TensorFlow Lite"
)


def _tf_log_lines(text):
    return [line for line in text.splitlines() if TF_LOG_LINE.search(line)]


def _run(argv, **extra_env):
    env = {key: value for key, value in os.environ.items()
           if key not in (quiet.TF_LOG_LEVEL_ENV_VAR, quiet.VERBOSE_ENV_VAR)}
    env.update(extra_env, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "skin_segmentation.cli", *argv],
        capture_output=True, text=True, check=False, env=env, timeout=600,
    )


def test_a_command_prints_no_tensorflow_log_line_unless_verbose():
    argv = ["inspect-data", str(sample_datasets()[0][1])]  # fasseg: 100 pairs, no model
    verbose = _run(argv, **{quiet.VERBOSE_ENV_VAR: "1"})
    quiet_run = _run(argv)
    assert verbose.returncode == quiet_run.returncode == 0, quiet_run.stderr + verbose.stderr
    assert verbose.stdout == quiet_run.stdout
    assert _tf_log_lines(quiet_run.stderr) == [], quiet_run.stderr
    assert quiet_run.stderr == ""
    # What was hidden: on this machine's TensorFlow, e.g. the cpu_feature_guard note.
    print("hidden unless verbose:", _tf_log_lines(verbose.stderr))


def test_hold_native_stderr_keeps_descriptor_2_off_the_terminal(capfd):
    with quiet.hold_native_stderr():
        os.write(2, b"W0000 00:00:1.0 1 noisy.cc:1] written beneath Python\n")
    assert capfd.readouterr().err == ""
    assert quiet.held_output().endswith("noisy.cc:1] written beneath Python\n")


def test_what_was_held_is_shown_when_the_block_fails(capfd):
    with pytest.raises(ImportError, match="no such library"):
        with quiet.hold_native_stderr():
            os.write(2, b"E0000 loader.cc:9] could not load libfoo.so\n")
            raise ImportError("no such library")
    assert "could not load libfoo.so" in capfd.readouterr().err


def test_verbose_holds_nothing(capfd, monkeypatch):
    monkeypatch.setenv(quiet.VERBOSE_ENV_VAR, "1")
    with quiet.hold_native_stderr():
        os.write(2, b"I0000 shown.cc:1] verbose\n")
    assert "shown.cc:1] verbose" in capfd.readouterr().err


def test_the_verbose_flag_runs_the_command_again_verbosely(monkeypatch):
    calls = []

    def fake_call(command, env):
        calls.append((command, env))
        return 7

    monkeypatch.delenv(quiet.VERBOSE_ENV_VAR, raising=False)
    monkeypatch.setattr(quiet.subprocess, "call", fake_call)
    assert main(["--verbose", "inspect-data", "some/folder"]) == 7
    (command, env), = calls
    assert command == [sys.executable, "-m", "skin_segmentation.cli", "--verbose", "inspect-data", "some/folder"]
    assert env[quiet.VERBOSE_ENV_VAR] == "1"


def test_tensorflow_imported_by_anyone_after_the_package_loads_quietly():
    # The package itself does not import TensorFlow; its first import, here a
    # plain `import tensorflow`, goes through quiet.quiet_tensorflow_start.
    code = ("import os, sys\nimport skin_segmentation\n"
            "print('tensorflow' in sys.modules)\nimport tensorflow\n"
            "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))")
    env = {key: value for key, value in os.environ.items()
           if key not in (quiet.TF_LOG_LEVEL_ENV_VAR, quiet.VERBOSE_ENV_VAR)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", quiet.QUIET_TF_LOG_LEVEL]
    assert _tf_log_lines(result.stderr) == [], result.stderr
