"""Quiet start: TensorFlow imported without its C++ log lines on the terminal.

TensorFlow's native code writes to file descriptor 2 as it loads, beneath
Python's `sys.stderr`: absl's "WARNING: All log messages before
absl::InitializeLog() is called are written to STDERR", `I0000 ...
cpu_feature_guard.cc` notes on instruction sets, and on GPU machines CUDA
plug-in registration errors that ignore `TF_CPP_MIN_LOG_LEVEL`. Later, its
INFO and WARNING lines follow any SavedModel load, TFLite conversion or
`tf.data` epoch. The level TensorFlow filters with is read once, when it is
imported, so it has to be chosen before then.

Importing `skin_segmentation` does not import TensorFlow (it takes seconds);
it calls `hold_tensorflow_start`, so that whenever TensorFlow is first
imported, by the package or by anyone, it loads inside `quiet_tensorflow_start`,
which

- sets `TF_CPP_MIN_LOG_LEVEL=2` (errors only) unless the environment already
  sets it, and
- points descriptor 2 at a temporary file while TensorFlow loads, keeping what
  was written (`held_output()`); if the import fails, that text is written to
  stderr before the error propagates, so nothing that explains a failure is
  lost.

`hold_native_stderr` does the same around any other noisy native call (the
TFLite interpreter announces its XNNPACK delegate whatever the level).
`SKINSEG_VERBOSE=1` in the environment turns all of it off: TensorFlow then
logs as it would without this package. `skinseg --verbose` runs its command
again in such a process (`relaunch_verbose`), since a process that imported
TensorFlow quietly cannot make it verbose again.
"""

import contextlib
import os
import subprocess
import sys
import tempfile

from skin_segmentation import lazy

VERBOSE_ENV_VAR = "SKINSEG_VERBOSE"
TF_LOG_LEVEL_ENV_VAR = "TF_CPP_MIN_LOG_LEVEL"
QUIET_TF_LOG_LEVEL = "2"  # 0 all, 1 no INFO, 2 no WARNING, 3 no ERROR
_HELD = []
_LEVEL_SET_HERE = []


def is_verbose():
    """Whether `SKINSEG_VERBOSE` asks for TensorFlow's own logging (set, not `0`/empty).

    Example:
    >>> import os
    >>> os.environ["SKINSEG_VERBOSE"] = "1"
    >>> is_verbose()
    True
    >>> del os.environ["SKINSEG_VERBOSE"]
    >>> is_verbose()
    False
    """
    return os.environ.get(VERBOSE_ENV_VAR, "") not in ("", "0")


def held_output():
    """Everything the native code wrote to descriptor 2 while it was held, in order."""
    return "".join(_HELD)


@contextlib.contextmanager
def hold_native_stderr():
    """Send what is written to file descriptor 2 in the block to a file, not the terminal.

    Native libraries write to the descriptor itself, which redirecting
    `sys.stderr` does not reach. The text is kept (`held_output()`); when the
    block raises, it is written to `sys.stderr` first, so an error keeps its
    explanation. Does nothing when `is_verbose()`, or when descriptor 2 cannot
    be duplicated (no stderr at all).

    Example:
    >>> import os
    >>> with hold_native_stderr():
    ...     _ = os.write(2, b"I0000 noisy.cc:1] a native log line\\n")
    >>> held_output().splitlines()[-1]
    'I0000 noisy.cc:1] a native log line'
    """
    if is_verbose():
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as sink:
        _flush_stderr()
        os.dup2(sink.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            _HELD.append(text)
            if failed and text:
                sys.stderr.write(text)
                _flush_stderr()


def _flush_stderr():
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()


@contextlib.contextmanager
def quiet_tensorflow_start():
    """The block that imports TensorFlow logs errors only, and holds descriptor 2.

    Sets `TF_CPP_MIN_LOG_LEVEL=2` unless the environment sets it, then runs the
    block in `hold_native_stderr`. Does nothing when `is_verbose()`.
    """
    if is_verbose():
        yield
        return
    if TF_LOG_LEVEL_ENV_VAR not in os.environ:
        os.environ[TF_LOG_LEVEL_ENV_VAR] = QUIET_TF_LOG_LEVEL
        _LEVEL_SET_HERE.append(True)
    with hold_native_stderr():
        yield


def hold_tensorflow_start():
    """Make the first import of TensorFlow, whoever does it, a quiet one.

    Returns:
        `False` when TensorFlow is imported already (nothing to hold), else `True`.
    """
    return lazy.on_first_import("tensorflow", quiet_tensorflow_start)


def import_tensorflow():
    """Import TensorFlow with its start-up lines held back (see the module docstring).

    Returns:
        The `tensorflow` module. When it was imported already, or when
        `is_verbose()`, it is imported as is.
    """
    if "tensorflow" in sys.modules:
        import tensorflow

        return tensorflow
    with quiet_tensorflow_start():
        import tensorflow
    return tensorflow


def relaunch_verbose(argv, module="skin_segmentation.cli"):
    """Run `python -m module *argv` with `SKINSEG_VERBOSE=1`; return its exit code.

    TensorFlow fixes its log level when imported; a command asked to be
    verbose after a quiet import runs again in a process that imports it
    verbosely, with this process's stdin, stdout and stderr. Nothing else
    happens in this process.

    Args:
        argv: the command's arguments (without the program name).
        module: the module run with `python -m`.

    Returns:
        The exit code of the verbose run.
    """
    environment = dict(os.environ, **{VERBOSE_ENV_VAR: "1"})
    if _LEVEL_SET_HERE:
        environment.pop(TF_LOG_LEVEL_ENV_VAR, None)  # ours, not the user's
    _flush_stderr()
    sys.stdout.flush()
    return subprocess.call([sys.executable, "-m", module, *argv], env=environment)
