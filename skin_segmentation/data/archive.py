"""Take the files a dataset needs out of a repository archive (`.tar.gz`) in one pass.

A repository archive unpacks to one top folder `<repo>-<commit>/`; paths here are
relative to it. Only regular files whose path is asked for are written, each to
the same relative path under the destination, so nothing in the archive chooses
where a file lands. The whole stream is read to its end, so a truncated or
corrupted archive (bad gzip CRC or length, broken tar) is found here.
"""

import gzip
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from skin_segmentation.data.readers import IMAGE_EXTENSIONS, DataError

ANY_IMAGE_SUFFIX = ".*"


class MemberMatcher:
    """Which archive paths are wanted: exact paths, or `dir/stem.*` for any image suffix.

    Args:
        paths: relative paths; one ending in `.*` stands for the single file
            `dir/stem.<ext>` with an image extension (`readers.IMAGE_EXTENSIONS`,
            any case), where the source's extension is not known in advance.

    Example:
    >>> matcher = MemberMatcher(["a/1.jpeg", "a/labels/1.*"])
    >>> matcher.key("a/labels/1.BMP"), matcher.key("a/1.jpeg"), matcher.key("a/2.jpeg")
    ('a/labels/1.*', 'a/1.jpeg', None)
    """

    def __init__(self, paths):
        self.paths = dict.fromkeys(paths)  # in order, for naming the first one missing

    def key(self, path):
        """The wanted path that `path` satisfies, or None."""
        if path in self.paths:
            return path
        pure = PurePosixPath(path)
        if pure.suffix.lower() in IMAGE_EXTENSIONS:
            pattern = str(pure.with_suffix("")) + ANY_IMAGE_SUFFIX
            if pattern in self.paths:
                return pattern
        return None


def extract(archive, top, matcher, destination):
    """Write the wanted regular files of `archive` under `destination`.

    Args:
        archive: a `.tar.gz` file.
        top: its one top folder (`<repo>-<commit>`); members outside it are ignored.
        matcher: a `MemberMatcher`, or any object whose `key(path)` gives the
            wanted path a member satisfies (or None).
        destination: folder to write them to, at their relative paths.

    Returns:
        `{wanted path: extracted file}` for every wanted path found.

    Raises:
        DataError: naming the archive when it is not a whole, valid `.tar.gz`, or
            when two members satisfy one `dir/stem.*` path.

    Example:
    >>> import io, tarfile, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with tarfile.open(folder / "a.tar.gz", "w:gz") as tar:
    ...     info = tarfile.TarInfo("repo-c0/x/1.png"); info.size = 3
    ...     tar.addfile(info, io.BytesIO(b"abc"))
    >>> found = extract(folder / "a.tar.gz", "repo-c0", MemberMatcher(["x/1.*"]), folder / "out")
    >>> found["x/1.*"].read_bytes()
    b'abc'
    """
    destination = Path(destination)
    found = {}
    try:
        with gzip.open(archive, "rb") as stream:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    parts = PurePosixPath(member.name).parts
                    if not member.isfile() or len(parts) < 2 or parts[0] != top:
                        continue
                    relative = "/".join(parts[1:])
                    key = matcher.key(relative)
                    if key is None:
                        continue
                    if key in found:
                        raise DataError(archive, f"two files match {key}: {found[key].name} and {parts[-1]}")
                    target = destination / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(member) as source, open(target, "wb") as handle:
                        shutil.copyfileobj(source, handle)
                    found[key] = target
            while stream.read(1 << 20):  # to the gzip trailer: its CRC and length are checked
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise DataError(archive, f"corrupted or truncated archive ({error})") from None
    return found
