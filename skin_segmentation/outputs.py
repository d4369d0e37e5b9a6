"""Output paths checked before a command starts its work.

A command that could only fail when it writes, after minutes or hours of
work, fails first instead: `check_output_file` and `check_output_folder` raise
a one-line `ValueError` naming the path when it exists as the wrong kind, when
a folder above it is a file, or when it cannot be written. They also delete the
temporaries a killed earlier run left there
(`atomic_files.remove_stale_temporaries`), so each command cleans up after
itself on its next start.
"""

import os
import tempfile
from pathlib import Path

from skin_segmentation.atomic_files import TEMPORARY_PREFIX, remove_stale_temporaries


def _first_existing(path):
    """`path` or the nearest folder above it that exists (`.` for a relative path)."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(".")


def _check_writable(path, folder):
    """Raise unless a file can be created in `folder` (tried: permissions lie to root)."""
    if not folder.is_dir():
        raise ValueError(f"{path}: cannot be written: {folder} is a file, not a folder.")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-probe-")
    except OSError as error:
        raise ValueError(
            f"{path}: cannot be written: {folder} is not writable ({error.strerror})."
        ) from None
    os.close(handle)
    os.unlink(probe)


def check_output_file(path):
    """Check that a file can be written at `path`, before any work; return it as a `Path`.

    Args:
        path: the file a command will write (replacing one that is there).

    Returns:
        `Path(path)`. The temporaries of killed runs in its folder are deleted.

    Raises:
        ValueError: `path` is a folder (or another non-file), a folder above
            it is a file, or its folder cannot be written.

    Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> check_output_file(folder + "/scores.csv").name
    'scores.csv'
    >>> check_output_file(folder)
    Traceback (most recent call last):
    ValueError: ...: exists and is a folder; name a file to write.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: exists and is a folder; name a file to write.")
    if path.exists() and not path.is_file():
        raise ValueError(f"{path}: exists and is not a regular file; name a file to write.")
    _check_writable(path, _first_existing(path.parent))
    remove_stale_temporaries(path.parent)
    return path


def check_output_folder(path, recursive=False):
    """Check that a folder can be written at `path`, before any work; return it as a `Path`.

    Args:
        path: the folder a command will write into (made when missing).
        recursive: delete the temporaries of killed runs in the folders below
            `path` too (a run folder; hidden ones excepted), not only in `path`
            and beside it.

    Returns:
        `Path(path)`.

    Raises:
        ValueError: `path` exists and is not a folder, a folder above it is a
            file, or it cannot be written.

    Example:
    >>> import tempfile
    >>> file = tempfile.mkstemp()[1]
    >>> check_output_folder(file)
    Traceback (most recent call last):
    ValueError: ...: exists and is not a folder; name a folder to write into.
    """
    path = Path(path)
    if (path.exists() or path.is_symlink()) and not path.is_dir():
        raise ValueError(f"{path}: exists and is not a folder; name a folder to write into.")
    _check_writable(path, _first_existing(path))
    remove_stale_temporaries(path.parent)
    remove_stale_temporaries(path, recursive=recursive)
    return path
