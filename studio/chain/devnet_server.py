"""`studio devnet serve`: the embedded devnet as JSON-RPC over HTTP on 127.0.0.1 (for MetaMask and tools).

Only the loopback interface is bound: the devnet's accounts come from a public phrase, and
nothing on it is worth anything. Browsers' wallet extensions send CORS preflights, so the
server answers them.
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from studio.chain.devnet import Devnet
from studio import safejson
from studio.errors import InputError, NetworkError

log = logging.getLogger(__name__)
MAX_BODY = 8 * 1024 * 1024


class DevnetServer:
    """An HTTP JSON-RPC endpoint over one Devnet; `start()` returns its URL."""

    def __init__(self, devnet: Devnet, *, port: int = 8545, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise NetworkError("The devnet serves only on the loopback interface (127.0.0.1).")
        self.devnet = devnet
        self.host, self.port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        handler = _handler(self.devnet)
        try:
            self._server = ThreadingHTTPServer((self.host, self.port), handler)
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
        return f"http://{self.host}:{self.port}"

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


def handle_payload(devnet: Devnet, payload: Any) -> Any:
    """Answer one JSON-RPC request object or a batch (list)."""
    if isinstance(payload, list):
        if not payload:
            return _error(None, -32600, "Empty batch")
        return [handle_payload(devnet, item) for item in payload]
    if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
        return _error(None, -32600, "Invalid request")
    request_id = payload.get("id")
    params = payload.get("params") or []
    if not isinstance(params, list):
        return _error(request_id, -32602, "params must be a list")
    try:
        answer = devnet.wire_request(payload["method"], params)
    except Exception as exc:  # a bug of ours: answer the client, keep serving, log it
        log.exception("devnet RPC %s failed", payload["method"])
        return _error(request_id, -32603, f"Internal error: {exc.__class__.__name__}")
    return {"jsonrpc": "2.0", "id": request_id, **answer}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _handler(devnet: Devnet):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ProvenanceStudioDevnet/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.debug("devnet http: " + format, *args)

        def _cors(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self._cors()
            self.end_headers()
            self.wfile.write(body)

        def do_OPTIONS(self) -> None:  # noqa: N802
            self.send_response(204)
            self._cors()
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            text = (f"Provenance Studio devnet: JSON-RPC over POST, chain id {devnet.chain_id}.\n").encode()
            self._send(200, text, "text/plain; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, json.dumps(_error(None, -32600, "Request too large")).encode())
                return
            try:
                payload = safejson.loads(self.rfile.read(length) or b"null", what="The request")
            except InputError:
                self._send(200, json.dumps(_error(None, -32700, "Parse error")).encode())
                return
            self._send(200, json.dumps(handle_payload(devnet, payload)).encode())

    return Handler
