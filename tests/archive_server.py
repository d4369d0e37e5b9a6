"""Repository archives made from `../shared/data/raw_samples`, served on 127.0.0.1 for the tests.

`build_archive` packs a `<owner>+<repo>@<commit>/` folder as the host publishes a
repository (`<repo>-<commit>/` on top). `ArchiveServer` serves such bytes over HTTP
with `Range` support, from a thread on an ephemeral port, and can misbehave on
purpose: break off after some bytes, or never answer.
"""

import http.server
import io
import re
import socket
import tarfile
import threading
from pathlib import Path


def build_archive(raw_folder, extra=None, replace=None):
    """The `.tar.gz` bytes of a raw-sample folder, top folder `<repo>-<commit>/`.

    Args:
        raw_folder: `<owner>+<repo>@<commit>` folder of files at their paths.
        extra: `{relative path: bytes}` added to it.
        replace: `{relative path: bytes}` replacing files' contents.
    """
    raw_folder = Path(raw_folder)
    repo, commit = raw_folder.name.split("+", 1)[1].split("@")
    files = {str(path.relative_to(raw_folder)): path.read_bytes()
             for path in sorted(raw_folder.rglob("*")) if path.is_file()}
    files.update(extra or {})
    files.update(replace or {})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for relative, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{repo}-{commit}/{relative}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def archive_url_path(raw_folder):
    """The URL path the host gives the archive of a raw-sample folder."""
    owner_repo, commit = Path(raw_folder).name.split("@")
    return f"/{owner_repo.replace('+', '/')}/archive/{commit}.tar.gz"


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = 10  # no request holds a thread for long

    def log_message(self, *args):
        pass

    def do_GET(self):
        owner = self.server.owner
        owner.requests.append((self.path, self.headers.get("Range")))
        if owner.hang:
            owner.release.wait(10)
            return
        body = owner.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and not owner.ignore_range:
            start = int(match.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if owner.cuts_left > 0:
            owner.cuts_left -= 1
            self.wfile.write(body[start:start + owner.cut_after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body[start:])


class ArchiveServer:
    """Serve `{url path: bytes}` on 127.0.0.1 from a thread; stop on exit.

    Args:
        files: what to serve; any other path is a 404.
        cut_after: with `cuts`, break the connection after this many body bytes.
        cuts: how many responses are broken off that way.
        hang: accept requests and never answer (a timeout for the client).
        ignore_range: answer every request with the whole file (200), as some hosts do.
    """

    def __init__(self, files, cut_after=0, cuts=0, hang=False, ignore_range=False):
        self.files, self.cut_after, self.cuts_left, self.hang = files, cut_after, cuts, hang
        self.ignore_range = ignore_range
        self.requests = []
        self.release = threading.Event()

    def __enter__(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
