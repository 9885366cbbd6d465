"""Verified fetching: local store first, then gateways in order, lying or broken gateways skipped."""
from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from storage_data import seeded_bytes

from studio.errors import InputError, NetworkError, NotFound
from studio.storage.fetch import Fetcher
from studio.storage.gateway import Gateway
from studio.storage.store import LocalStore


class _Liar(BaseHTTPRequestHandler):
    """A gateway that answers every request with the same wrong bytes (or a huge body)."""

    body = b"not what you asked for"
    requests_seen: list[str]

    def do_GET(self) -> None:  # noqa: N802
        self.requests_seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def liar():
    handler = type("Liar", (_Liar,), {"requests_seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.handler = handler  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def remote(tmp_path: Path):
    """An honest gateway over another machine's store (a second store on loopback)."""
    store = LocalStore(tmp_path / "remote")
    with Gateway(store) as gateway:
        yield store, gateway


def _url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_lying_gateway_is_skipped_and_the_honest_one_used(remote, liar, tmp_path: Path) -> None:
    store, gateway = remote
    data = seeded_bytes("art", 700_000)
    cid = store.add_bytes(data, cid_version=0)
    fetcher = Fetcher(gateways=[_url(liar), gateway.url], cache_dir=tmp_path / "cache", retries=0)
    fetched = fetcher.fetch(f"ipfs://{cid}")
    assert fetched.data == data and fetched.source == gateway.url and fetched.cid == cid
    assert liar.handler.requests_seen  # it was asked first, and caught


def test_folder_paths_are_resolved_through_verified_blocks(remote, liar, tmp_path: Path) -> None:
    store, gateway = remote
    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "0").write_bytes(b'{"name":"zero"}')
    (tmp_path / "batch" / "1").write_bytes(seeded_bytes("one", 300_000))
    root = store.add_path(tmp_path / "batch")
    fetcher = Fetcher(gateways=[_url(liar), gateway.url], retries=0)
    assert fetcher.fetch(f"ipfs://{root}/0").data == b'{"name":"zero"}'
    assert fetcher.fetch(f"ipfs://{root}/1").data == seeded_bytes("one", 300_000)


def test_only_liars_is_an_error_naming_them(liar) -> None:
    fetcher = Fetcher(gateways=[_url(liar)], retries=0)
    with pytest.raises(NetworkError, match="served wrong bytes"):
        fetcher.fetch("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")


def test_huge_response_is_cut_at_the_cap(liar) -> None:
    liar.handler.body = b"x" * 5000
    fetcher = Fetcher(gateways=[_url(liar)], max_bytes=1000, retries=0)
    with pytest.raises(NetworkError, match="more than 1,000 bytes"):
        fetcher.fetch("ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")


def test_gateway_down_is_retried_with_backoff_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    monkeypatch.setattr("studio.storage.fetch.time.sleep", sleeps.append)
    fetcher = Fetcher(gateways=[f"http://127.0.0.1:{port}"], retries=2, backoff=0.1, timeout=2)
    with pytest.raises(NetworkError, match="could not be reached"):
        fetcher.fetch("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    assert sleeps == [0.1, 0.2]


def test_local_store_first_then_cache(tmp_path: Path, remote) -> None:
    local = LocalStore(tmp_path / "local")
    cid = local.add_bytes(b"hello world")
    assert Fetcher(store=local, gateways=[]).fetch(f"ipfs://{cid}").source == "local"
    store, gateway = remote
    other = store.add_bytes(b"from far away")
    fetcher = Fetcher(store=local, gateways=[gateway.url], cache_dir=tmp_path / "cache")
    assert fetcher.fetch(f"ipfs://{other}").source == gateway.url
    gateway.stop()
    assert fetcher.fetch(f"ipfs://{other}").data == b"from far away"  # from the cache now
    with pytest.raises(NotFound):
        Fetcher(store=local, gateways=[]).fetch(f"ipfs://{other}")


def test_data_uris_and_refused_schemes() -> None:
    fetcher = Fetcher(gateways=[], max_bytes=10)
    assert fetcher.fetch("data:application/json;base64," + base64.b64encode(b'{"a":1}').decode()).data == b'{"a":1}'
    assert fetcher.fetch("data:,hi%20there").data == b"hi there"
    with pytest.raises(InputError, match="size limit"):
        fetcher.fetch("data:;base64," + base64.b64encode(b"x" * 11).decode())
    for uri in ("file:///etc/passwd", "http://example.com/x", "ftp://x/y", "javascript:alert(1)"):
        with pytest.raises(InputError, match="no other schemes"):
            fetcher.fetch(uri)
    with pytest.raises(InputError):
        Fetcher(gateways=["file:///tmp"])
