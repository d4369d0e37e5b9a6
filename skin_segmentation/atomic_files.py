"""Files and folders written atomically, and the leftovers of a killed run removed.

Every file is written to a temporary name beside its destination and moved into
place with `os.replace`, so a reader (or a run killed half-way) never sees half a
file; a folder (`atomic_folder`) is built the same way and renamed when complete.
Temporaries are named `.tmp-<pid>-<name>`: those of a process that is no longer
running are the leftovers of a killed run, which `remove_stale_temporaries`
deletes when the next run starts.
"""

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

# Every temporary file or folder this package writes starts with it (then `<pid>-`).
TEMPORARY_PREFIX = ".tmp-"
_TEMPORARY = re.compile(re.escape(TEMPORARY_PREFIX) + r"(\d+)-")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; move it onto `path` on success.

    On an exception the temporary file is removed and `path` is untouched.

    Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as temporary:
    ...     _ = temporary.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the real suffix last: Keras and h5py choose the format by it.
    temporary = _temporary_name(path)
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


@contextlib.contextmanager
def atomic_folder(path, replace=None):
    """Yield an empty temporary folder beside `path`; rename it to `path` on success.

    A reader sees the old folder, the new one, or (for an instant while an old
    one is set aside, or after a kill at that instant) none: never a folder half
    written. On an exception the temporary folder is removed and `path` is
    untouched.

    Args:
        path: the folder to write.
        replace: `None`, or a function of the existing `path` that says whether
            it may be replaced (e.g. "it is an earlier export"). An empty
            folder may always be replaced; any other existing `path` raises
            `ValueError` before anything is written.

    Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_folder(target) as temporary:
    ...     _ = (temporary / "a.txt").write_text("done")
    >>> sorted(child.name for child in target.iterdir())
    ['a.txt']
    """
    path = Path(path)
    _check_replaceable(path, replace)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_name(path)
    _remove(temporary)
    temporary.mkdir()
    try:
        yield temporary
        for file in temporary.rglob("*"):
            if file.is_file():
                _fsync(file)
        _check_replaceable(path, replace)  # it may have changed meanwhile
        old = None
        if path.exists() and any(path.iterdir()):
            old = _temporary_name(path, "old-")
            os.replace(path, old)
        os.replace(temporary, path)
        if old is not None:
            _remove(old)
    finally:
        _remove(temporary)


def _check_replaceable(path, replace):
    if not path.exists():
        return
    if not path.is_dir():
        raise ValueError(f"{path}: exists and is not a folder; name a folder to write.")
    if any(path.iterdir()) and not (replace is not None and replace(path)):
        raise ValueError(f"{path}: a folder that already holds other files; name a new or empty folder.")


def _temporary_name(path, tag=""):
    return path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{tag}{path.name}")


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def _process_is_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder, recursive=False):
    """Delete the temporaries a killed run left in `folder`; return their paths.

    A temporary (`.tmp-<pid>-<name>`, written by `atomic_path` or
    `atomic_folder`) is stale when process `<pid>` is no longer running; those
    of a running process (another run writing beside this one) are kept.

    Args:
        folder: the folder to clean; nothing happens when it does not exist.
        recursive: also clean the folders below it, except hidden ones (a
            worker's `.worker-*` folder is its own to clean).

    Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".tmp-999999999-table.csv").write_text("half")
    >>> [path.name for path in remove_stale_temporaries(folder)]
    ['.tmp-999999999-table.csv']
    """
    folder = Path(folder)
    removed = []
    for parent, folders, files in os.walk(folder):
        for name in sorted(folders + files):
            match = _TEMPORARY.match(name)
            pid = int(match.group(1)) if match else None
            if pid is not None and pid != os.getpid() and not _process_is_running(pid):
                _remove(Path(parent) / name)
                removed.append(Path(parent) / name)
        folders[:] = [name for name in folders if recursive and not name.startswith(".")]
    return removed


def _fsync(path):
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def write_text_atomic(path, text):
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json_atomic(path, data):
    """Write `data` as indented JSON to `path` atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=json_default) + "\n")


def write_csv_atomic(path, frame):
    """Write a DataFrame as CSV (no index) to `path` atomically."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def json_default(value):
    """What `json.dumps` cannot write, as JSON: NumPy numbers and arrays, paths, tuples, sets.

    Pass it as `json.dumps(data, default=json_default)`.

    Raises:
        TypeError: for any other type, as `json.dumps` does.

    Example:
    >>> json.dumps({"count": np.int64(3), "path": Path("a")}, default=json_default)
    '{"count": 3, "path": "a"}'
    """
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (Path,)):
        return str(value)
    if isinstance(value, (tuple, set, np.ndarray)):
        return list(value)
    raise TypeError(f"Not JSON serializable: {type(value).__name__} {value!r}")
