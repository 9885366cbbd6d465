"""The local store and its read-only gateway, served over real HTTP on loopback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from storage_data import seeded_bytes

from studio.errors import NotFound, StorageError
from studio.storage.cid import Cid
from studio.storage.gateway import Gateway
from studio.storage.store import LocalStore
from studio.storage.unixfs import cid_of_path

PNG = b"\x89PNG\r\n\x1a\n" + seeded_bytes("png", 100)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "ipfs")


@pytest.fixture
def gateway(store: LocalStore):
    with Gateway(store) as running:
        yield running


def test_added_file_has_the_kubo_cid_and_reads_back(store: LocalStore, tmp_path: Path) -> None:
    data = seeded_bytes("m1p1", 1024 * 1024 + 1)
    (tmp_path / "f.bin").write_bytes(data)
    cid = store.add_path(tmp_path / "f.bin", cid_version=0)
    assert str(cid) == "QmUxPjVdmVZfJAAxmNt18taFvxuQt2RHk5Qv5C4KFn1fea"  # Kubo v0.22.0
    assert store.cat(cid) == data and store.is_pinned(cid) and store.has(cid)


def test_a_damaged_block_is_reported(store: LocalStore) -> None:
    cid = store.add_bytes(b"hello world")
    block_file = next(p for p in (store.root / "blocks").rglob("*") if p.is_file())
    block_file.write_bytes(b"hello w0rld")
    with pytest.raises(StorageError, match="damaged"):
        store.cat(cid)


def test_a_failed_add_pins_nothing(store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f.bin").write_bytes(seeded_bytes("x", 600000))
    calls = []

    def failing_put(cid, block):
        calls.append(cid)
        if len(calls) == 2:
            raise StorageError("The disk is full.")

    monkeypatch.setattr(store, "put_block", failing_put)
    with pytest.raises(StorageError):
        store.add_path(tmp_path / "f.bin")
    assert store.pins() == []


def test_gateway_serves_a_file_by_cid(store: LocalStore, gateway: Gateway) -> None:
    cid = store.add_bytes(PNG)
    response = requests.get(gateway.ipfs_url(cid), timeout=5)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Ipfs-Path"] == f"/ipfs/{cid}"
    assert "immutable" in response.headers["Cache-Control"]
    assert gateway.url.startswith("http://127.0.0.1:")


def test_gateway_serves_paths_in_a_folder_with_content_types(store: LocalStore, gateway: Gateway,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "works"
    (folder / "0").mkdir(parents=True)
    (folder / "0" / "image.png").write_bytes(PNG)
    (folder / "0" / "metadata.json").write_text('{"name":"x"}')
    (folder / "1").write_text('{"name":"bare json"}')
    (folder / "big.bin").write_bytes(seeded_bytes("big", 700000))
    cid = store.add_path(folder)
    assert cid == cid_of_path(folder, cid_version=1)
    get = lambda path: requests.get(gateway.ipfs_url(cid, path), timeout=5)  # noqa: E731
    assert get("0/image.png").headers["Content-Type"] == "image/png"
    assert get("0/metadata.json").json() == {"name": "x"}
    assert get("1").headers["Content-Type"] == "application/json"
    big = get("big.bin")
    assert big.content == seeded_bytes("big", 700000) and big.headers["Content-Length"] == "700000"
    listing = get("0")
    assert listing.headers["Content-Type"].startswith("text/html") and "metadata.json" in listing.text
    assert get("0/missing.png").status_code == 404
    assert requests.head(gateway.ipfs_url(cid, "0/image.png"), timeout=5).headers["Content-Length"] == str(len(PNG))


def test_gateway_serves_raw_blocks_and_refuses_writes_and_bad_cids(store: LocalStore, gateway: Gateway) -> None:
    cid = store.add_bytes(seeded_bytes("raw", 300 * 1024))
    raw = requests.get(gateway.ipfs_url(cid) + "?format=raw", timeout=5)
    assert raw.headers["Content-Type"] == "application/vnd.ipld.raw" and cid.verify(raw.content)
    assert requests.get(f"{gateway.url}/ipfs/not-a-cid", timeout=5).status_code == 400
    unknown = Cid.parse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    assert requests.get(gateway.ipfs_url(unknown), timeout=5).status_code == 404
    assert requests.post(gateway.ipfs_url(cid), data=b"x", timeout=5).status_code == 405
    assert requests.get(f"{gateway.url}/", timeout=5).status_code == 404


def test_gateway_index_html_and_stop(store: LocalStore, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>hi</h1>")
    cid = store.add_path(tmp_path / "site")
    gateway = Gateway(store)
    url = gateway.start()
    assert gateway.start() == url  # idempotent
    page = requests.get(f"{url}/ipfs/{cid}/", timeout=5)
    assert page.text == "<h1>hi</h1>" and page.headers["Content-Type"].startswith("text/html")
    gateway.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/ipfs/{cid}/", timeout=2)
    with pytest.raises(StorageError, match="not running"):
        gateway.url


def test_resolve_reports_missing_entries(store: LocalStore) -> None:
    cid = store.add_bytes(b"x")
    with pytest.raises(NotFound):
        store.resolve(cid, "a/b")
    assert json.loads(store.cat(store.add_bytes(b'{"a":1}')))["a"] == 1


def test_gateway_serves_the_verifier_page_and_only_its_files(gateway: Gateway) -> None:
    from studio.storage.gateway import verifier_dir

    moved = requests.get(f"{gateway.url}/verify", timeout=5, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"] == "/verify/"
    page = requests.get(f"{gateway.url}/verify/", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.content == (verifier_dir() / "index.html").read_bytes() and b'src="dist/verifier.js"' in page.content
    script = requests.get(f"{gateway.url}/verify/dist/verifier.js", timeout=5)
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert script.content == (verifier_dir() / "dist" / "verifier.js").read_bytes()
    engine = requests.get(f"{gateway.url}/verify/dist/c2pa-engine.js", timeout=5)  # loaded when a file has C2PA
    assert engine.status_code == 200 and engine.headers["Content-Type"].startswith("text/javascript")
    assert engine.content == (verifier_dir() / "dist" / "c2pa-engine.js").read_bytes()
    for other in ("src/verify.js", "src/c2pa.js", "package.json", "../pyproject.toml", "%2e%2e/pyproject.toml", "node_modules"):
        assert requests.get(f"{gateway.url}/verify/{other}", timeout=5).status_code == 404, other
    assert requests.post(f"{gateway.url}/verify/", data=b"x", timeout=5).status_code == 405
