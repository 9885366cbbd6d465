"""A read-only IPFS HTTP gateway over the local store, on 127.0.0.1 only.

Serves ``/ipfs/<cid>`` and ``/ipfs/<cid>/<path>`` so ``ipfs://`` URIs of works resolve offline
and open in a browser; ``?format=raw`` returns a single block (the trustless-gateway form the
studio's own verified fetcher asks for). ``/verify/`` serves the verifier page (the static folder
``verifier/``, shipped as data), which checks a work's provenance in the browser and can fetch a
token's metadata from this same gateway. Runs in a background thread: :meth:`Gateway.start`
and :meth:`Gateway.stop`, or use it as a context manager. :class:`GatewayService` is the one
the studio starts with its window, from the settings.
"""
from __future__ import annotations

import html
import logging
import mimetypes
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from studio import safejson
from studio.assets import data_dir
from studio.errors import InputError, NotFound, StorageError
from studio.storage.cid import Cid
from studio.storage.store import Entry, LocalStore

if TYPE_CHECKING:
    from studio.config import Config

log = logging.getLogger(__name__)

_IMMUTABLE = "public, max-age=29030400, immutable"
#: the verifier page's files, by their path under /verify/ (nothing else there is served)
VERIFIER_FILES = {"": ("index.html", "text/html; charset=utf-8"),
                  "index.html": ("index.html", "text/html; charset=utf-8"),
                  "dist/verifier.js": ("dist/verifier.js", "text/javascript; charset=utf-8"),
                  # the C2PA engine (WebAssembly in base64), loaded by the page when a file carries C2PA
                  "dist/c2pa-engine.js": ("dist/c2pa-engine.js", "text/javascript; charset=utf-8")}


def verifier_dir() -> Path:
    """The verifier page's folder: the wheel's copy when installed, else the checkout's."""
    return data_dir("verifier")


def sniff_content_type(name: str, head: bytes) -> str:
    """Content-Type from the entry's name, else from its first bytes (a bare CID has no name)."""
    guessed, _ = mimetypes.guess_type(name) if name else (None, None)
    if guessed:
        return guessed + ("; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else "")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    stripped = head.lstrip()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in head):
        return "image/svg+xml"
    if stripped[:1] in (b"{", b"["):
        try:
            safejson.loads(head)
            return "application/json"
        except InputError:
            pass
    try:
        head.decode("utf-8")
        return "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        return "application/octet-stream"


class _Handler(BaseHTTPRequestHandler):
    server_version = "ProvenanceStudioGateway/1"
    store: LocalStore  # set on the subclass made per gateway

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.debug("gateway: " + format, *args)

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
        self._serve(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(body=True)

    def _refuse(self) -> None:
        self._error(405, "This gateway is read-only.")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    def _error(self, status: int, message: str) -> None:
        body = (message + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self, body: bool) -> None:
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")]
        if len(parts) >= 2 and parts[1] == "verify":
            self._send_verifier("/".join(parts[2:]) if len(parts) > 2 else None, body)
            return
        if len(parts) < 3 or parts[1] != "ipfs" or not parts[2]:
            self._error(404, "Not found. This gateway serves /ipfs/<cid>[/<path>] and the verifier page at /verify/.")
            return
        try:
            root = Cid.parse(parts[2])
        except InputError:
            self._error(400, f"{parts[2]!r} is not a CID.")
            return
        subpath = "/".join(parts[3:])
        query = urllib.parse.parse_qs(url.query)
        wants_raw = query.get("format") == ["raw"] or "application/vnd.ipld.raw" in self.headers.get("Accept", "")
        try:
            if wants_raw:
                if subpath:
                    self._error(400, "?format=raw serves a block by its CID, without a path.")
                    return
                self._send_raw(root, body)
                return
            entry = self.store.resolve(root, subpath)
            if entry.kind == "directory":
                self._send_directory(root, subpath, entry, body)
            elif entry.kind == "file":
                self._send_file(root, subpath, entry, body)
            else:
                self._error(501, "Symbolic links are not served by this gateway.")
        except NotFound as exc:
            self._error(404, exc.message)
        except StorageError as exc:
            log.warning("gateway could not serve %s: %s", self.path, exc)
            self._error(500, exc.message)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_verifier(self, name: str | None, body: bool) -> None:
        """The verifier page at /verify/ (a static page: its scripts read dropped files locally)."""
        if name is None:  # /verify: the page's relative links need the trailing slash
            self.send_response(301)
            self.send_header("Location", "/verify/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if name not in VERIFIER_FILES:
            self._error(404, "Not found. The verifier page is at /verify/.")
            return
        filename, content_type = VERIFIER_FILES[name]
        try:
            data = (verifier_dir() / filename).read_bytes()
        except OSError as exc:
            log.warning("the verifier page is missing from this install: %s", exc)
            self._error(404, "The verifier page is not part of this install.")
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _common_headers(self, root: Cid, subpath: str) -> None:
        self.send_header("X-Ipfs-Path", f"/ipfs/{root}" + (f"/{subpath}" if subpath else ""))
        self.send_header("Cache-Control", _IMMUTABLE)
        self.send_header("X-Content-Type-Options", "nosniff")

    def _send_raw(self, cid: Cid, body: bool) -> None:
        block = self.store.get_block(cid)
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.ipld.raw")
        self.send_header("Content-Length", str(len(block)))
        self.send_header("Etag", f'"{cid}.raw"')
        self._common_headers(cid, "")
        self.end_headers()
        if body:
            self.wfile.write(block)

    def _send_file(self, root: Cid, subpath: str, entry: Entry, body: bool) -> None:
        chunks = self.store.read_file(entry.cid)
        first = next(chunks, b"")
        name = subpath.rsplit("/", 1)[-1]
        self.send_response(200)
        self.send_header("Content-Type", sniff_content_type(name, first[:512]))
        self.send_header("Content-Length", str(entry.size))
        self.send_header("Etag", f'"{entry.cid}"')
        self._common_headers(root, subpath)
        self.end_headers()
        if body:
            self.wfile.write(first)
            for chunk in chunks:
                self.wfile.write(chunk)

    def _send_directory(self, root: Cid, subpath: str, entry: Entry, body: bool) -> None:
        assert entry.node is not None
        index = next((l for l in entry.node.links if l.name == "index.html"), None)
        if index is not None:
            self._send_file(root, f"{subpath}/index.html".lstrip("/"), self.store.entry(index.cid), body)
            return
        base = f"/ipfs/{root}/" + (urllib.parse.quote(subpath) + "/" if subpath else "")
        rows = "".join(f'<li><a href="{base}{urllib.parse.quote(l.name)}">{html.escape(l.name)}</a></li>'
                       for l in entry.node.links)
        page = (f"<!doctype html><meta charset=utf-8><title>{html.escape(str(root))}/{html.escape(subpath)}</title>"
                f"<h1>/ipfs/{html.escape(str(root))}/{html.escape(subpath)}</h1><ul>{rows}</ul>").encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Etag", f'"DirIndex-{entry.cid}"')
        self._common_headers(root, subpath)
        self.end_headers()
        if body:
            self.wfile.write(page)


class Gateway:
    """The local store served on ``http://127.0.0.1:<port>`` by a background thread."""

    def __init__(self, store: LocalStore, *, port: int = 0) -> None:
        self.store = store
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise StorageError("The local gateway is not running.", hint="Start it first.")
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def ipfs_url(self, cid: Cid | str, path: str = "") -> str:
        return f"{self.url}/ipfs/{cid}" + (f"/{urllib.parse.quote(path)}" if path else "")

    def start(self) -> str:
        """Start serving (idempotent); returns the base URL."""
        if self._server is not None:
            return self.url
        handler = type("GatewayHandler", (_Handler,), {"store": self.store})
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        except OSError as exc:
            raise StorageError(f"The local gateway could not listen on 127.0.0.1:{self._port}: "
                               f"{exc.strerror or exc}.",
                               hint="Another program may use that port; choose another in Settings.") from exc
        server.daemon_threads = True
        self._server = server
        # a short poll keeps stop() (and so quitting the studio) quick
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="ipfs-gateway", daemon=True)
        self._thread.start()
        log.info("local IPFS gateway at %s", self.url)
        return self.url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "Gateway":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class GatewayService:
    """The local gateway as the studio runs it while open: started with the window, stopped on quit.

    It runs only when works are kept in the local store (``storage_backend`` = local): with Kubo
    or a pinning service the works live there, and Kubo brings its own gateway (on port 8080,
    the default here too). Starting never raises: a port in use gives way to a free port (logged),
    and a gateway that cannot listen at all leaves ``error`` set for the status bar while the
    studio opens as usual. No Qt here: the GUI (or a script) calls :meth:`start` and :meth:`stop`.
    """

    def __init__(self, store: LocalStore, *, port: int = 0, enabled: bool = True, off_reason: str = "") -> None:
        self.store = store
        self.port = port
        self.enabled = enabled
        self.off_reason = off_reason
        self.error: str | None = None
        self._gateway: Gateway | None = None

    @classmethod
    def from_config(cls, config: "Config") -> "GatewayService":
        """The gateway the settings ask for: ``local_gateway_port`` on 127.0.0.1, over this home's store."""
        backend = str(config["storage_backend"]).strip().lower()
        return cls(LocalStore.default(config.paths), port=int(config["local_gateway_port"]),
                   enabled=backend == "local",
                   off_reason="" if backend == "local" else f"works are kept on {backend}")

    @property
    def url(self) -> str | None:
        """``http://127.0.0.1:<port>`` while serving, else None."""
        return self._gateway.url if self._gateway is not None else None

    @property
    def status(self) -> str:
        """One line for people: where the gateway serves, or why it does not."""
        if self.url is not None:
            return f"Local gateway: {self.url}"
        if self.error is not None:
            return f"Local gateway not running: {self.error}"
        if not self.enabled:
            return f"Local gateway off ({self.off_reason})"
        return "Local gateway stopped"

    def start(self) -> str | None:
        """Serve the store; returns the URL, or None when off or unable to listen (see ``error``)."""
        if not self.enabled or self._gateway is not None:
            return self.url
        self.error = None
        try:
            self._gateway = self._listen(self.port)
        except StorageError as exc:
            if self.port == 0:
                self._failed(exc)
                return None
            try:
                self._gateway = self._listen(0)
            except StorageError as again:
                self._failed(again)
                return None
            log.warning("Port %d on 127.0.0.1 is taken (%s); the local gateway uses %s instead. "
                        "Choose another port in Settings → Storage to keep one address.",
                        self.port, exc.message, self.url)
        return self.url

    def _listen(self, port: int) -> Gateway:
        gateway = Gateway(self.store, port=port)
        gateway.start()
        return gateway

    def _failed(self, exc: StorageError) -> None:
        self.error = exc.message
        log.warning("The local gateway is not running: %s", exc.message)

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        if self._gateway is not None:
            gateway, self._gateway = self._gateway, None
            gateway.stop()
            log.info("local IPFS gateway stopped")
