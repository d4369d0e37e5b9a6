"""Download one file over HTTP(S), resumably, with a progress bar on stderr.

The bytes go to `<destination>.part`; an interrupted download is continued with an
HTTP `Range` request (by the retries here, or by running the command again), and
the file takes its final name only once it is whole (and, where a SHA-256 is
known, checked). Every failure is a `DataError` naming the address: no network,
refused connection, 404, timeout, or a download that keeps breaking off.
"""

import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from skin_segmentation.data.readers import DataError

CHUNK_BYTES = 1 << 16
USER_AGENT = "skinseg-data/1"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIABLE = re.compile(r"bytes \*/(\d+)")


def file_sha256(path):
    """SHA-256 (hex) of a file's bytes, read in chunks.

    Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a"
    >>> _ = path.write_bytes(b"abc")
    >>> file_sha256(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Progress:
    """`label [#####.....]  12.3 / 45.6 MB` on a terminal; start and end lines otherwise."""

    def __init__(self, label, stream):
        self.label, self.stream = label, stream
        self.live = stream is not None and stream.isatty()
        self.last = 0.0

    def update(self, done, total, final=False):
        if self.stream is None or not (self.live or final):
            return
        now = time.monotonic()
        if not final and now - self.last < 0.2:
            return
        self.last = now
        if total:
            filled = int(30 * done / total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done / 1e6:.1f} / {total / 1e6:.1f} MB"
        else:
            bar = f"{done / 1e6:.1f} MB"
        end = "\n" if final else ""
        self.stream.write(f"\r{self.label} {bar}{end}" if self.live else f"{self.label} {bar}\n")
        self.stream.flush()


def _open(url, offset, timeout):
    """Open `url` from byte `offset`; return (response, offset the body starts at, total)."""
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            whole = _UNSATISFIABLE.fullmatch(error.headers.get("Content-Range", ""))
            if whole and int(whole.group(1)) == offset:
                return None, offset, offset  # the .part is already whole
            return _open(url, 0, timeout)
        raise DataError(url, f"HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DataError(url, f"cannot download ({reason})") from None
    length = response.headers.get("Content-Length")
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            response.close()
            raise DataError(url, f"server answered a request from byte {offset} with another range")
        total = None if match.group(3) == "*" else int(match.group(3))
        return response, offset, total
    total = int(length) if length is not None else None
    return response, 0, total


def _fetch_once(url, part, timeout, progress):
    """Append to `part` what the server sends; return True when the file is whole."""
    offset = part.stat().st_size if part.exists() else 0
    response, start, total = _open(url, offset, timeout)
    if response is None:
        return True
    done = start
    with response, open(part, "r+b" if part.exists() else "wb") as handle:
        handle.seek(start)
        handle.truncate()
        try:
            while chunk := response.read(CHUNK_BYTES):
                handle.write(chunk)
                done += len(chunk)
                progress.update(done, total)
        except (http.client.IncompleteRead, OSError):
            return False  # broken off: the caller resumes from what is on disk
    return total is None or done >= total


def download(url, destination, *, sha256=None, timeout=60.0, retries=3, progress="stderr"):
    """Download `url` to `destination`, resuming a `.part` left by an earlier try.

    Args:
        url: the address (http or https).
        destination: the final file; `<destination>.part` holds it meanwhile.
        sha256: the expected SHA-256 (hex), or `None` where it is not known.
        timeout: seconds a connection or read may wait for the server.
        retries: how many times a download that breaks off is resumed at once.
        progress: a text stream for the progress bar, `"stderr"` (default) or `None`.

    Returns:
        `destination` as a Path. An existing `destination` is taken as it is
        (checked against `sha256` when given).

    Raises:
        DataError: naming `url` when it cannot be reached, answers an HTTP error,
            times out or keeps breaking off (the `.part` stays for a later run), or
            naming the file when its SHA-256 differs (the `.part` is removed).

    Example:
    >>> download("http://127.0.0.1:9/a.tar.gz", "/tmp/a.tar.gz", retries=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skin_segmentation.data.readers.pairs.DataError: http://127.0.0.1:9/a.tar.gz: cannot download (...)
    """
    progress = sys.stderr if progress == "stderr" else progress
    destination = Path(destination)
    part = destination.with_name(destination.name + ".part")
    if not destination.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        bar = _Progress(f"downloading {destination.name}", progress)
        for _ in range(retries + 1):
            if _fetch_once(url, part, timeout, bar):
                break
        else:
            raise DataError(
                url, f"download broke off {retries + 1} times at {part.stat().st_size} bytes; "
                     f"run the command again to resume from {part}"
            )
        bar.update(part.stat().st_size, part.stat().st_size, final=True)
        _check_sha256(part, sha256, remove=True)
        os.replace(part, destination)
    else:
        _check_sha256(destination, sha256, remove=True)
    return destination


def _check_sha256(path, expected, remove):
    if expected is None:
        return
    actual = file_sha256(path)
    if actual != expected:
        if remove:
            path.unlink()
        raise DataError(path, f"SHA-256 is {actual}, expected {expected} (removed; run again to download afresh)")
