"""A loopback server that speaks the few hub routes huggingface_hub calls, serving one repository.

``/api/models/{id}/revision/{rev}`` answers the listing with sizes, git blob ids and LFS SHA-256s;
``/{id}/resolve/{rev}/{file}`` answers HEAD and GET, with ETag, X-Repo-Commit, Content-Length and
ranges. Switches on :class:`FakeHub` cut a transfer short, corrupt a file or ignore ranges; every
request is recorded. Used by tests/generation/test_download.py and tests/ui/test_welcome.py.
"""
from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

REPO = "studio-tests/tiny-sd"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
BIG_FILE = "text_encoder/model.safetensors"


@dataclass
class FakeHub:
    """The repository's files and the server's switches (set by each test)."""

    files: dict[str, bytes]
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Range header)
    cut_first_get_of: str | None = None  # send half of this file, then drop the connection (once)
    corrupt: str | None = None  # flip a byte of this file in every GET (the listing keeps the true hash)
    ignore_range: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def listing(self) -> dict:
        siblings = []
        for name, data in sorted(self.files.items()):
            entry = {"rfilename": name, "size": len(data),
                     "blobId": hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()}
            if name.endswith(".safetensors"):
                entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(entry)
        return {"_id": "x", "id": REPO, "modelId": REPO, "sha": COMMIT, "private": False, "disabled": False,
                "gated": False, "downloads": 0, "likes": 0, "tags": ["diffusers"], "siblings": siblings}

    def etag(self, name: str) -> str:
        data = self.files[name]
        if name.endswith(".safetensors"):
            return hashlib.sha256(data).hexdigest()
        return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def _file(self) -> str | None:
            path = unquote(urlsplit(self.path).path)
            prefix = f"/{REPO}/resolve/"
            if not path.startswith(prefix):
                return None
            revision, _, name = path[len(prefix):].partition("/")
            return name if revision in (COMMIT, "main") and name in hub.files else None

        def _headers_for(self, name: str, length: int, status: int, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("ETag", f'"{hub.etag(name)}"')
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Accept-Ranges", "bytes")
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            with hub.lock:
                hub.requests.append(("HEAD", self.path, ""))
            name = self._file()
            if name is None:
                self.send_error(404)
                return
            self._headers_for(name, len(hub.files[name]), 200, {})

        def do_GET(self) -> None:  # noqa: N802
            range_header = self.headers.get("Range", "")
            with hub.lock:
                hub.requests.append(("GET", self.path, range_header))
            path = urlsplit(self.path).path
            if path == f"/api/models/{REPO}/revision/main" or path == f"/api/models/{REPO}/revision/{COMMIT}":
                body = json.dumps(hub.listing()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            name = self._file()
            if name is None:
                body = b'{"error": "Repository not found"}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Error-Code", "RepoNotFound")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = hub.files[name]
            if hub.corrupt == name:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            start = 0
            if range_header.startswith("bytes=") and not hub.ignore_range:
                start = int(range_header[6:].split("-")[0])
            body = data[start:]
            extra = {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"} if start else {}
            self._headers_for(name, len(body), 206 if start else 200, extra)
            with hub.lock:
                cut = hub.cut_first_get_of == name
                if cut:
                    hub.cut_first_get_of = None
            if cut:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@contextmanager
def serve_fake_hub(files: dict[str, bytes]) -> Iterator[FakeHub]:
    """Run a fake hub serving ``files`` as :data:`REPO` on a free loopback port (its URL in ``hub.url``)."""
    state = FakeHub(dict(files))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def model_repo_files(folder: Path) -> dict[str, bytes]:
    """A diffusers folder's files as a hub repository, plus a pickle and a README a download must skip."""
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    files["unet/diffusion_pytorch_model.bin"] = b"pickle weights the studio must not download"
    files["README.md"] = b"# tiny-sd\n"
    return files
