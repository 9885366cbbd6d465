"""Loopback servers that misbehave on purpose (imported by name; the tests folder has no packages).

`drip` answers every request one byte at a time, a byte every `interval` seconds, for at most
`limit` bytes: a client with only a per-read timeout would wait `interval * limit` seconds.
`counting` answers 200 and counts the requests it got (to prove a refused link was never asked).
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


@dataclass
class DripLog:
    connections: int = 0
    cut_off: int = 0          # connections the client closed while bytes were still dripping
    finished: int = 0         # connections that dripped to the end (the client waited it all out)
    events: list[str] = field(default_factory=list)


@contextlib.contextmanager
def drip(*, interval: float = 0.25, limit: int = 120, headers_too: bool = False) -> Iterator[tuple[str, DripLog]]:
    """A plain-HTTP server on 127.0.0.1 dripping its answer; yields (base URL, log)."""
    log = DripLog()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        log.connections += 1
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
            if headers_too:
                payload = head[:-2] + b"X-Slow: " + b"a" * limit
            else:
                conn.sendall(head)
                payload = b"x" * limit
            for index in range(len(payload)):
                if stop.is_set():
                    return
                conn.sendall(payload[index:index + 1])
                time.sleep(interval)
            log.finished += 1
        except OSError:
            log.cut_off += 1
        finally:
            conn.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", log
    finally:
        stop.set()
        listener.close()


@contextlib.contextmanager
def counting() -> Iterator[tuple[int, list[str]]]:
    """A plain-HTTP server on 127.0.0.1 answering 200 to anything; yields (port, paths asked)."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'{"name": "private"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()
