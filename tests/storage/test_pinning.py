"""The Pinning Service API client against a loopback server implementing the spec's subset
(POST /pins, GET /pins/{requestid}, bearer tokens, error objects) plus a CAR upload endpoint."""
from __future__ import annotations

import io
import json
import logging
import uuid
from pathlib import Path

import pytest
from loopback import closed_port_url, serve
from storage_data import make_reference_folder

from studio.errors import InputError, NetworkError, StorageError
from studio.storage.car import read_car
from studio.storage.cid import Cid
from studio.storage.pinning import PinningService
from studio.storage.store import LocalStore
from studio.storage.unixfs import add_path

TOKEN = "psa-secret-token-0123456789abcdef"


class PinningServer:
    """A pinning service: pins what it holds (uploaded as CAR); fails a pin it cannot find."""

    def __init__(self, root: Path) -> None:
        self.store = LocalStore(root / "service")
        self.requests: dict[str, dict] = {}
        self.polls = 0
        self.searches = 1  # polls spent looking for absent content before a pin fails

    def __call__(self, method: str, path: str, headers: dict, body: bytes):
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, json.dumps({"error": {"reason": "UNAUTHORIZED"}}).encode()
        if method == "POST" and path == "/car":
            roots, blocks = read_car(io.BytesIO(body))
            for cid, block in blocks:
                self.store.put_block(cid, block)
            return 200, {}, b"{}"
        if method == "POST" and path == "/psa/pins":
            request = json.loads(body)
            if "cid" not in request:
                return 400, {}, json.dumps({"error": {"reason": "BAD_REQUEST", "details": "cid missing"}}).encode()
            requestid = uuid.uuid4().hex
            self.requests[requestid] = {"requestid": requestid, "status": "queued", "created": "2026-11-29T00:00:00Z",
                                        "pin": request, "delegates": [], "info": {}}
            return 202, {}, json.dumps(self.requests[requestid]).encode()
        if method == "GET" and path.startswith("/psa/pins/"):
            self.polls += 1
            item = self.requests[path.rsplit("/", 1)[1]]
            cid = Cid.parse(item["pin"]["cid"])
            if item["status"] == "queued":
                item["status"] = "pinning"
            elif self.store.has(cid):
                item["status"] = "pinned"
                self.store.pin(cid)
            elif self.polls <= self.searches:
                pass
            else:
                item["status"], item["info"] = "failed", {"status_details": "content not found on the network"}
            return 200, {}, json.dumps(item).encode()
        return 404, {}, json.dumps({"error": {"reason": "NOT_FOUND"}}).encode()


def service(url: str, **kwargs) -> PinningService:
    kwargs.setdefault("sleep", lambda seconds: None)
    return PinningService(f"{url}/psa", TOKEN, **kwargs)


def test_folder_is_uploaded_as_car_pinned_and_polled(tmp_path: Path) -> None:
    server = PinningServer(tmp_path)
    folder = make_reference_folder(tmp_path)
    with serve(server) as url:
        cid = service(url, car_upload_url=f"{url}/car").add_path(folder, cid_version=1)
    assert cid == add_path(folder, cid_version=1).cid
    assert server.store.is_pinned(cid) and server.polls == 2
    assert list(server.requests.values())[0]["pin"] == {"cid": str(cid), "name": "folder"}


def test_a_pin_the_service_cannot_find_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"never uploaded")
    with serve(PinningServer(tmp_path)) as url, pytest.raises(StorageError, match="content not found"):
        service(url).add_path(tmp_path / "a.txt")


def test_a_refused_token_is_reported_without_showing_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(PinningServer(tmp_path)) as url:
        bad = PinningService(f"{url}/psa", "wrong-" + TOKEN)
        with pytest.raises(InputError, match="refused the access token") as raised:
            bad.request_pin("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        with pytest.raises(StorageError, match="BAD_REQUEST: cid missing"):
            service(url)._request("POST", f"{url}/psa/pins", json={})  # noqa: SLF001 - the error object path
    assert TOKEN not in str(raised.value) and TOKEN not in repr(bad)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_a_service_that_is_down_is_retried_then_reported() -> None:
    pauses: list[float] = []
    down = PinningService(f"{closed_port_url()}/psa", TOKEN, attempts=3, backoff=0.1, sleep=pauses.append)
    with pytest.raises(NetworkError, match="could not be reached after 3 tries") as raised:
        down.status("abc")
    assert pauses == [0.1, 0.2] and TOKEN not in str(raised.value)


def test_waiting_gives_up_after_the_timeout(tmp_path: Path) -> None:
    server = PinningServer(tmp_path)
    server.searches = 100
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with serve(server) as url:
        client = service(url, sleep=sleep, poll_interval=100)
        queued = client.request_pin("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        with pytest.raises(NetworkError, match="still reports .* as pinning"):
            client.wait_pinned(queued, timeout=150, clock=lambda: now[0])


def test_an_empty_token_is_refused_up_front() -> None:
    with pytest.raises(InputError, match="needs an access token"):
        PinningService("https://api.example.org/psa", "  ")
