"""`studio devnet serve`: the embedded devnet as JSON-RPC over HTTP on the loopback interface.

A local HTTP server is reachable by every web page the user opens (a page may POST to
127.0.0.1, and DNS rebinding gives it a name that resolves there), so by default the server:

- answers only requests whose ``Host`` is a loopback name (localhost, 127.0.0.1, [::1]):
  a rebound attacker's host name is refused with 403;
- refuses every request that carries an ``Origin`` (browsers add it to cross-origin and to
  POST requests) unless that origin was allowed (``--allow-origin``, or the setting
  `devnet_allowed_origins`); it never answers ``Access-Control-Allow-Origin: *``;
- keeps node-admin methods (evm_mine, evm_snapshot, evm_revert, evm_increaseTime,
  evm_setNextBlockTimestamp, evm_setAutomine, testing_timeTravel) off unless ``--admin``;
- lets the node's own test accounts sign (eth_sendTransaction, eth_sign…) only for requests
  without an Origin, which come from local programs (cast, scripts), never for a web page,
  even an allowed one: a page signs through the user's wallet;
- reads at most `MAX_BODY` bytes, only with a valid Content-Length, within `READ_TIMEOUT`
  seconds per request, on its own thread per connection, so one slow client holds up no one.
"""
from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, cast

from studio import safejson
from studio.chain.devnet import Devnet
from studio.chain.devnet_wire import INVALID_REQUEST, PARSE_ERROR
from studio.errors import InputError, NetworkError

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
MAX_BATCH = 1000
#: Seconds a client has to send one whole request (headers and body) once it starts.
READ_TIMEOUT = 10.0
#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 30.0
MAX_CONNECTIONS = 64
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, as browsers send it; refuses ``*`` and paths."""
    text = origin.strip().rstrip("/").lower()
    if text in ("*", "null") or "://" not in text or "/" in text.split("://", 1)[1]:
        raise InputError(f"{origin!r} is not an origin the devnet can allow.",
                         hint="Give scheme://host[:port], e.g. http://localhost:3000 or "
                              "chrome-extension://nkbihfbeogaeaoehlefnkodbefgpgknn (MetaMask); '*' is not allowed.")
    return text


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8545
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class DevnetServer:
    """An HTTP JSON-RPC endpoint over one Devnet; `start()` returns its URL."""

    def __init__(self, devnet: Devnet, *, port: int = 8545, host: str = "127.0.0.1",
                 allowed_origins: Iterable[str] = (), allowed_hosts: Iterable[str] = (), admin: bool = False,
                 unlocked_accounts: bool = True) -> None:
        if host not in LOOPBACK_HOSTS:
            raise NetworkError("The devnet serves only on the loopback interface (127.0.0.1).")
        self.devnet = devnet
        self.host, self.port = host, port
        self.allowed_origins = frozenset(normalise_origin(o) for o in allowed_origins)
        self.allowed_hosts = LOOPBACK_HOSTS | {h.strip().lower() for h in allowed_hosts if h.strip()}
        self.admin = admin
        self.unlocked_accounts = unlocked_accounts
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def start(self) -> str:
        handler = _handler(self)
        server_class = _DualStackServer if ":" in self.host else ThreadingHTTPServer
        try:
            self._server = server_class((self.host, self.port), handler)
        except OSError as exc:
            raise NetworkError(f"Port {self.port} on {self.host} is not free ({exc.strerror}).",
                               hint="Choose another port with --port (0 picks a free one).") from exc
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="devnet-rpc", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.devnet.save()

    def __enter__(self) -> "DevnetServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- policy
    def host_allowed(self, host_header: str | None) -> bool:
        return host_header is None or _host_name(host_header) in self.allowed_hosts

    def origin_allowed(self, origin: str | None) -> bool:
        return origin is None or origin.strip().rstrip("/").lower() in self.allowed_origins

    def answer(self, payload: Any, *, origin: str | None) -> Any:
        """The JSON-RPC answer to one request object or a batch, under this server's policy."""
        return handle_payload(self.devnet, payload, admin=self.admin,
                              unlocked=self.unlocked_accounts and origin is None)


class _DualStackServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def handle_payload(devnet: Devnet, payload: Any, *, admin: bool = False, unlocked: bool = True) -> Any:
    """Answer one JSON-RPC request object or a batch (list); notifications (no id) still get answers in a batch."""
    if isinstance(payload, list):
        if not payload:
            return _error(None, INVALID_REQUEST, "empty batch")
        if len(payload) > MAX_BATCH:
            return _error(None, INVALID_REQUEST, f"batch too large (more than {MAX_BATCH} requests)")
        return [handle_payload(devnet, item, admin=admin, unlocked=unlocked) for item in payload]
    if not isinstance(payload, dict) or not isinstance(payload.get("method"), str) \
            or payload.get("jsonrpc", "2.0") != "2.0":
        return _error(payload.get("id") if isinstance(payload, dict) else None, INVALID_REQUEST, "invalid request")
    request_id = payload.get("id")
    if not (request_id is None or isinstance(request_id, (str, int, float)) and not isinstance(request_id, bool)):
        return _error(None, INVALID_REQUEST, "invalid request id")
    answer = devnet.request(payload["method"], payload.get("params"), admin=admin, unlocked=unlocked)
    return {"jsonrpc": "2.0", "id": request_id, **answer}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


class _Deadline:
    """Closes a connection whose request is not read in time (slow headers or body)."""

    def __init__(self, connection: socket.socket, seconds: float) -> None:
        self.expired = False
        self._connection = connection
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        try:
            self._connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


def _handler(server: DevnetServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ProvenanceStudioDevnet/2"
        protocol_version = "HTTP/1.1"
        timeout = IDLE_TIMEOUT

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.debug("devnet http: " + format, *args)

        def setup(self) -> None:
            self._slot = server._connections.acquire(blocking=False)
            super().setup()

        def handle(self) -> None:
            if not self._slot:  # too many connections at once: refuse this one, keep the others
                self.close_connection = True
                try:
                    self.wfile.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                     b"Connection: close\r\n\r\n")
                except OSError:
                    pass
                return
            super().handle()

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                if self._slot:
                    server._connections.release()

        def handle_one_request(self) -> None:
            # the deadline starts when the first byte of a request arrives, not while idle
            try:
                first = cast(io.BufferedReader, self.rfile).peek(1)[:1]
            except (OSError, ValueError):
                first = b""
            if not first:
                self.close_connection = True
                return
            self._deadline = _Deadline(self.connection, READ_TIMEOUT)
            try:
                super().handle_one_request()
            except OSError:
                self.close_connection = True
            finally:
                self._deadline.cancel()

        def _cors(self) -> None:
            origin = self.headers.get("Origin")
            if origin is not None and server.origin_allowed(origin):
                self.send_header("Access-Control-Allow-Origin", origin.strip())
                self.send_header("Vary", "Origin")

        def _send(self, status: int, body: bytes, content_type: str = "application/json", *,
                  close: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self._cors()
            self.end_headers()
            self.wfile.write(body)

        def _refuse(self, status: int, message: str, *, close: bool = True) -> None:
            body = json.dumps(_error(None, INVALID_REQUEST, message)).encode()
            self._send(status, body, close=close)

        def _allowed(self) -> bool:
            """Host and Origin checks: False (and a 403 sent) for a request from where it may not come."""
            if not server.host_allowed(self.headers.get("Host")):
                self._refuse(403, "this devnet answers only to loopback host names (DNS rebinding protection)")
                return False
            if not server.origin_allowed(self.headers.get("Origin")):
                self._refuse(403, "this origin is not allowed: add it with `studio devnet serve --allow-origin "
                                  "ORIGIN` or the devnet_allowed_origins setting")
                return False
            return True

        def do_OPTIONS(self) -> None:  # noqa: N802
            if not self._allowed():
                return
            self.send_response(204)
            self._cors()
            if self.headers.get("Origin") is not None:
                self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            if not self._allowed():
                return
            text = f"Provenance Studio devnet: JSON-RPC over POST, chain id {server.devnet.chain_id}.\n".encode()
            self._send(200, text, "text/plain; charset=utf-8")

        def _read_body(self) -> bytes | None:
            if self.headers.get("Transfer-Encoding"):
                self._refuse(411, "send the request with a Content-Length, not chunked")
                return None
            declared = self.headers.get_all("Content-Length") or []
            if not declared:
                self._refuse(411, "Content-Length required")
                return None
            text = declared[0].strip()
            if len(set(declared)) != 1 or not text.isdigit() or not text.isascii():
                self._refuse(400, "Content-Length must be one non-negative integer")
                return None
            length = int(text)
            if length > MAX_BODY:
                self._refuse(413, f"request larger than {MAX_BODY} bytes")
                return None
            chunks, remaining = [], length
            while remaining:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    self.close_connection = True
                    return None  # the client went away or missed the deadline
                chunks.append(chunk)
                remaining -= len(chunk)
            return b"".join(chunks)

        def do_POST(self) -> None:  # noqa: N802
            if not self._allowed():
                return
            body = self._read_body()
            if body is None:
                return
            self._deadline.cancel()  # the request is read: answering may take as long as it takes
            try:
                payload = safejson.loads(body or b"null", what="The request")
            except InputError:
                self._send(200, json.dumps(_error(None, PARSE_ERROR, "parse error")).encode())
                return
            started = time.monotonic()
            answer = server.answer(payload, origin=self.headers.get("Origin"))
            log.debug("devnet answered in %.3f s", time.monotonic() - started)
            self._send(200, json.dumps(answer).encode())

    return Handler
