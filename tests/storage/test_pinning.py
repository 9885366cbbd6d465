"""The Pinning Service API client against a loopback server implementing the spec's subset
(``standins.PinningServer``: POST /pins, GET /pins, GET /pins/{requestid}, bearer tokens, error
objects) plus a CAR upload endpoint."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from loopback import closed_port_url, serve
from standins import TOKEN, PinningServer
from storage_data import make_reference_folder

from studio.errors import InputError, NetworkError, StorageError
from studio.storage.pinning import PinningService
from studio.storage.unixfs import add_bytes, add_path


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


def test_has_asks_the_service_for_a_pinned_request(tmp_path: Path) -> None:
    server = PinningServer(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"uploaded as a CAR")
    with serve(server) as url:
        client = service(url, car_upload_url=f"{url}/car")
        cid = client.add_path(tmp_path / "a.txt", cid_version=1)
        assert client.has(cid)
        assert not client.has(add_bytes(b"never pinned", cid_version=1).cid)
