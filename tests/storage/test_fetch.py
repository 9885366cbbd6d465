"""Verified fetching over real loopback HTTP(S): local store first, lying gateways skipped, caps, schemes."""
from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import requests
from loopback import closed_port_url, self_signed_cert, serve
from storage_data import seeded_bytes

from studio.errors import InputError, NetworkError, NotFound
from studio.storage.fetch import FetchCache, Fetched, VerifiedFetcher
from studio.storage.gateway import Gateway
from studio.storage.store import LocalStore

BIG = seeded_bytes("fetch-big", 600_000)  # three blocks under a dag-pb root


@pytest.fixture
def remote(tmp_path: Path):
    """An honest gateway serving a folder with a multi-block file, on its own store."""
    store = LocalStore(tmp_path / "remote")
    folder = tmp_path / "works"
    (folder / "0").mkdir(parents=True)
    (folder / "0" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + BIG)
    (folder / "0" / "metadata.json").write_text('{"name":"Dawn"}')
    cid = store.add_path(folder, cid_version=0)
    with Gateway(store) as gateway:
        yield gateway, cid


def lying_gateway(method: str, path: str, headers: dict, body: bytes):
    return 200, {"Content-Type": "application/vnd.ipld.raw"}, b"not the bytes you asked for"


def huge_gateway(method: str, path: str, headers: dict, body: bytes):
    return 200, {"Content-Type": "application/vnd.ipld.raw"}, bytes(3 * 1024 * 1024)


def test_local_store_is_read_first_without_any_gateway(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "local")
    cid = store.add_bytes(b'{"name":"local"}')
    fetched = VerifiedFetcher(store=store, gateways=()).fetch(f"ipfs://{cid}")
    assert (fetched.data, fetched.source, fetched.verified) == (b'{"name":"local"}', "local", True)
    assert fetched.content_type == "application/json"
    with pytest.raises(NotFound, match="no gateway"):
        VerifiedFetcher(store=store, gateways=()).fetch("ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")


def test_a_lying_gateway_is_detected_and_skipped(remote, tmp_path: Path) -> None:
    gateway, cid = remote
    with serve(lying_gateway) as liar:
        fetcher = VerifiedFetcher(store=LocalStore(tmp_path / "empty"), gateways=(liar, gateway.url))
        fetched = fetcher.fetch(f"ipfs://{cid}/0/image.png")
        assert fetched.data == b"\x89PNG\r\n\x1a\n" + BIG
        assert fetched.source == gateway.url and fetched.content_type == "image/png"
        assert liar in fetcher.distrusted
        # with only liars left, the error says what happened
        only_liar = VerifiedFetcher(gateways=(liar,), attempts=1)
        with pytest.raises(NetworkError, match="do not match the CID"):
            only_liar.fetch(f"ipfs://{cid}/0/metadata.json")


def test_a_huge_block_response_is_cut_off_and_the_gateway_skipped(remote) -> None:
    gateway, cid = remote
    with serve(huge_gateway) as huge:
        fetcher = VerifiedFetcher(gateways=(huge, gateway.url))
        assert fetcher.fetch(f"ipfs://{cid}/0/metadata.json").data == b'{"name":"Dawn"}'
        assert huge in fetcher.distrusted


def test_content_over_the_size_cap_is_refused(remote) -> None:
    gateway, cid = remote
    with pytest.raises(InputError, match="over the limit"):
        VerifiedFetcher(gateways=(gateway.url,), max_bytes=100_000).fetch(f"ipfs://{cid}/0/image.png")


def test_a_gateway_that_is_down_gives_a_clear_error_after_retries(remote) -> None:
    gateway, cid = remote
    down = closed_port_url()
    fetcher = VerifiedFetcher(gateways=(down,), attempts=2)
    with pytest.raises(NetworkError, match="could not be reached after 2 tries"):
        fetcher.fetch(f"ipfs://{cid}/0/metadata.json")
    # the next gateway in the list answers
    assert VerifiedFetcher(gateways=(down, gateway.url), attempts=1).fetch(
        f"ipfs://{cid}/0/metadata.json").source == gateway.url


def test_missing_path_in_a_fetched_folder_is_not_found(remote) -> None:
    gateway, cid = remote
    with pytest.raises(NotFound, match="no entry 'nope.png'"):
        VerifiedFetcher(gateways=(gateway.url,)).fetch(f"ipfs://{cid}/0/nope.png")


def test_results_are_cached_on_disk(remote, tmp_path: Path) -> None:
    gateway, cid = remote
    cache = FetchCache(tmp_path / "cache")
    uri = f"ipfs://{cid}/0/metadata.json"
    assert VerifiedFetcher(gateways=(gateway.url,), cache=cache).fetch(uri).source == gateway.url
    gateway.stop()
    again = VerifiedFetcher(gateways=(closed_port_url(),), cache=cache).fetch(uri)
    assert (again.data, again.source, again.verified) == (b'{"name":"Dawn"}', "cache", True)


def test_cache_drops_the_oldest_entries_past_its_size(tmp_path: Path) -> None:
    cache = FetchCache(tmp_path / "cache", max_bytes=250)
    for index in range(5):
        cache.put(Fetched(f"ipfs://x/{index}", bytes([index]) * 100, "application/octet-stream", "test", True))
        os.utime(cache._paths(f"ipfs://x/{index}")[0], (index, index))  # noqa: SLF001 - ages on coarse clocks
    cache._trim()  # noqa: SLF001
    assert [cache.get(f"ipfs://x/{index}") is not None for index in range(5)] == [False, False, False, True, True]


def test_https_gateway_links_are_fetched_verified(remote, tmp_path: Path) -> None:
    gateway, cid = remote
    # an https address of a gateway path is read as the CID it names, from the configured gateways
    fetched = VerifiedFetcher(gateways=(gateway.url,)).fetch(f"https://gw.invalid/ipfs/{cid}/0/metadata.json")
    assert fetched.verified and fetched.data == b'{"name":"Dawn"}'


def test_plain_https_with_tls_caps_and_redirects(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    hits = []

    def site(method: str, path: str, headers: dict, body: bytes):
        hits.append(path)
        if path == "/meta.json":
            return 200, {"Content-Type": "application/json"}, b'{"name":"web"}'
        if path == "/big":
            return 200, {}, bytes(200_000)
        if path == "/to-http":
            return 302, {"Location": "http://127.0.0.1:1/x"}, b""
        if path == "/moved":
            return 301, {"Location": "/meta.json"}, b""
        return 404, {}, b"no"

    with serve(site, tls=(cert, key)) as base:
        session = requests.Session()
        session.verify = str(cert)
        fetcher = VerifiedFetcher(gateways=(), session=session, max_bytes=100_000,
                                  cache=FetchCache(tmp_path / "cache"), trusted_hosts=(base,))
        first = fetcher.fetch(f"{base}/meta.json")
        assert (first.data, first.content_type, first.verified) == (b'{"name":"web"}', "application/json", False)
        assert fetcher.fetch(f"{base}/meta.json").source == "cache" and hits == ["/meta.json"]
        assert fetcher.fetch(f"{base}/moved").data == b'{"name":"web"}'
        with pytest.raises(NetworkError, match="over the limit|more than the limit"):
            fetcher.fetch(f"{base}/big")
        with pytest.raises(InputError, match="non-https"):
            fetcher.fetch(f"{base}/to-http")
        with pytest.raises(NotFound):
            fetcher.fetch(f"{base}/missing")


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "http://example.org/x.png", "ftp://x/y", "javascript:x",
                                 "/etc/passwd", "ipfs://not-a-cid", "ipfs://QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn/../x"])
def test_other_schemes_and_bad_uris_are_refused(uri: str) -> None:
    with pytest.raises(InputError):
        VerifiedFetcher(gateways=()).fetch(uri)


def test_data_uris_are_decoded_with_caps() -> None:
    fetcher = VerifiedFetcher(gateways=(), max_bytes=10)
    assert fetcher.fetch("data:application/json;base64,eyJhIjoxfQ==").data == b'{"a":1}'
    plain = fetcher.fetch("data:,hi%20there")
    assert (plain.data, plain.content_type) == (b"hi there", "text/plain;charset=US-ASCII")
    with pytest.raises(InputError, match="over the limit"):
        fetcher.fetch("data:," + "x" * 11)
    with pytest.raises(InputError, match="damaged"):
        fetcher.fetch("data:;base64,!!!")


def test_gateway_addresses_are_checked() -> None:
    with pytest.raises(InputError, match="https://"):
        VerifiedFetcher(gateways=("http://example.org",))
    with pytest.raises(InputError, match="base address"):
        VerifiedFetcher(gateways=("https://ipfs.io/ipfs/",))
