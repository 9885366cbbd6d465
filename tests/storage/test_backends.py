"""Kubo RPC and Pinning Service API clients, over real HTTP on loopback.

Kubo: kubo-python's library takes about a minute to start a node here and serves no RPC API
through its C functions, so the node is a loopback STAND-IN implementing the documented subset
(``/api/v0/add`` multipart with cid-version/raw-leaves/chunker/pin/hidden, ``/api/v0/pin/add``,
``/api/v0/pin/rm``, ``/api/v0/version``). It lays files out with the studio's UnixFS code,
which test_unixfs.py checks against Kubo's own CIDs. Pinning service: a loopback server
implementing the spec's ``POST /pins``, ``GET /pins/{requestid}``, ``GET /pins``.
"""
from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from storage_data import seeded_bytes

from studio.errors import InputError, NetworkError, StorageError
from studio.storage.cid import Cid
from studio.storage.kubo import KuboBackend
from studio.storage.pinning import PinningService
from studio.storage.unixfs import cid_of_path

TOKEN = "psa-secret-token-123"


def _serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class KuboStandIn(BaseHTTPRequestHandler):
    """Kubo RPC stand-in: rebuilds the uploaded files in a folder and lays them out as `ipfs add`."""

    workdir: Path
    pins: set
    calls: list
    lie = False

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query))
        command = url.path.removeprefix("/api/v0/")
        self.calls.append((command, params))
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if command == "add":
            lines = self._add(body, params)
        elif command == "pin/add":
            self.pins.add(params["arg"])
            lines = [{"Pins": [params["arg"]]}]
        elif command == "pin/rm":
            self.pins.discard(params["arg"])
            lines = [{"Pins": [params["arg"]]}]
        elif command == "version":
            lines = [{"Version": "0.22.0-standin"}]
        else:
            self.send_response(404)
            self.end_headers()
            return
        out = "".join(json.dumps(line) + "\n" for line in lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def _add(self, body: bytes, params: dict) -> list[dict]:
        boundary = self.headers["Content-Type"].split("boundary=")[1].encode()
        root_name = None
        for part in body.split(b"--" + boundary)[1:-1]:
            head, _, content = part[2:].partition(b"\r\n\r\n")
            content = content[:-2]
            headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
            name = urllib.parse.unquote(headers["Content-Disposition"].split('filename="')[1].rstrip('"'))
            target = self.workdir / name
            root_name = root_name or name
            if headers["Content-Type"] == "application/x-directory":
                target.mkdir(parents=True)
            else:
                target.write_bytes(content)
        assert params["chunker"] == "size-262144" and params["wrap-with-directory"] == "false"
        version = int(params["cid-version"])
        assert params["raw-leaves"] == ("true" if version == 1 else "false")
        cid = cid_of_path(self.workdir / root_name, cid_version=version,
                          include_hidden=params["hidden"] == "true")
        if self.lie:
            cid = Cid.parse("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        if params.get("pin") == "true":
            self.pins.add(str(cid))
        return [{"Name": root_name, "Hash": str(cid), "Size": "0"}]


@pytest.fixture
def kubo(tmp_path: Path):
    handler = type("Kubo", (KuboStandIn,), {"workdir": tmp_path / "kubo-node", "pins": set(), "calls": []})
    handler.workdir.mkdir()
    server = _serve(handler)
    server.handler = handler  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def _api(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_kubo_add_file_and_folder_gives_the_local_cid(kubo, tmp_path: Path, reference_folder: Path) -> None:
    backend = KuboBackend(_api(kubo))
    assert backend.version() == "0.22.0-standin"
    (tmp_path / "art.bin").write_bytes(seeded_bytes("k300", 300 * 1024))
    cid = backend.add_path(tmp_path / "art.bin", cid_version=0)
    assert str(cid) == "QmNYeUnTKtgS8LEGwmiL8RCoZ2GcYtG4xfLH6DDHGMWNQY"  # Kubo v0.22.0's CID
    folder_cid = backend.add_path(reference_folder, cid_version=1)
    assert folder_cid == cid_of_path(reference_folder, cid_version=1)
    assert {str(cid), str(folder_cid)} <= kubo.handler.pins
    assert backend.add_bytes(b"hello world") == Cid.parse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    backend.pin(cid)


def test_kubo_returning_another_cid_is_an_error_and_unpinned(kubo, tmp_path: Path) -> None:
    kubo.handler.lie = True
    (tmp_path / "a.txt").write_bytes(b"a")
    with pytest.raises(StorageError, match="not .* as computed locally"):
        KuboBackend(_api(kubo)).add_path(tmp_path / "a.txt")
    assert kubo.handler.pins == set()
    assert kubo.handler.calls[-1][0] == "pin/rm"


def test_kubo_down_is_retried_with_backoff_then_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    monkeypatch.setattr("studio.storage.kubo.time.sleep", sleeps.append)
    (tmp_path / "a.txt").write_bytes(b"a")
    with pytest.raises(NetworkError, match="could not be reached"):
        KuboBackend(f"http://127.0.0.1:{port}", retries=3, backoff=0.5, timeout=2).add_path(tmp_path / "a.txt")
    assert sleeps == [0.5, 1.0, 2.0]


class PinningStandIn(BaseHTTPRequestHandler):
    """Pinning Service API subset; a pin becomes `pinned` after two status polls."""

    requests_log: list
    pins: dict
    fail_cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        self.requests_log.append((self.command, self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"error": {"reason": "UNAUTHORIZED", "details": "bad token"}})
            return False
        return True

    def do_POST(self) -> None:  # noqa: N802
        if not self._authorised():
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        requestid = f"req-{len(self.pins) + 1}"
        self.pins[requestid] = {"body": body, "polls": 0}
        self._reply(202, {"requestid": requestid, "status": "queued", "created": "2026-11-28T00:00:00Z",
                          "pin": body, "delegates": ["/ip4/203.0.113.1/tcp/4001/p2p/QmServicePeer"]})

    def do_GET(self) -> None:  # noqa: N802
        if not self._authorised():
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/pins":
            results = [self._status(rid, entry, poll=False) for rid, entry in self.pins.items()]
            self._reply(200, {"count": len(results), "results": results})
            return
        requestid = url.path.removeprefix("/pins/")
        if requestid not in self.pins:
            self._reply(404, {"error": {"reason": "NOT_FOUND"}})
            return
        self._reply(200, self._status(requestid, self.pins[requestid], poll=True))

    def _status(self, requestid: str, entry: dict, poll: bool) -> dict:
        if poll:
            entry["polls"] += 1
        if entry["body"]["cid"] == self.fail_cid:
            status = "failed"
        else:
            status = ("queued", "pinning", "pinned")[min(entry["polls"], 2)]
        return {"requestid": requestid, "status": status, "created": "2026-11-28T00:00:00Z",
                "pin": entry["body"], "delegates": []}


@pytest.fixture
def pinning():
    handler = type("Pinning", (PinningStandIn,), {"requests_log": [], "pins": {}})
    server = _serve(handler)
    server.handler = handler  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def test_pin_request_is_polled_until_pinned(pinning, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    service = PinningService(_api(pinning), TOKEN, poll_interval=0.01)
    queued = service.pin("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", name="Dawn #1",
                         origins=["/ip4/127.0.0.1/tcp/4001/p2p/QmLocal"])
    assert queued.status == "queued" and queued.delegates
    done = service.wait(queued.requestid, timeout=5)
    assert done.status == "pinned" and done.name == "Dawn #1"
    assert [p.requestid for p in service.pins(status=["pinned"])] == [queued.requestid]
    assert pinning.handler.requests_log[0][2] == f"Bearer {TOKEN}"
    assert TOKEN not in caplog.text and TOKEN not in repr(service)


def test_failed_pin_and_bad_token_are_clear_errors(pinning) -> None:
    service = PinningService(_api(pinning), TOKEN, poll_interval=0.01)
    request = service.pin(PinningStandIn.fail_cid)
    with pytest.raises(StorageError, match="could not pin"):
        service.wait(request.requestid, timeout=5)
    with pytest.raises(NetworkError, match="refused the access token"):
        PinningService(_api(pinning), "wrong").pin("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    with pytest.raises(NetworkError, match="404"):
        service.status("nope")
    with pytest.raises(InputError):
        PinningService(_api(pinning), "")


def test_pinning_service_down_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    monkeypatch.setattr("studio.storage.pinning.time.sleep", sleeps.append)
    with pytest.raises(NetworkError, match="could not be reached"):
        PinningService(f"http://127.0.0.1:{port}", TOKEN, retries=2, backoff=0.1, timeout=2).pin("Qmx")
    assert sleeps == [0.1, 0.2]
