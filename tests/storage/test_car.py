"""CARv1 export: the exact blocks of a file or folder, readable back and importable."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from storage_data import seeded_bytes

from studio.errors import InputError, StorageError
from studio.storage.car import car_header, export_car, read_car
from studio.storage.cid import Cid
from studio.storage.store import LocalStore
from studio.storage.unixfs import CHUNK_SIZE, add_path, cid_of_path


def test_header_is_the_canonical_dag_cbor_of_roots_and_version() -> None:
    root = Cid.parse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    header = car_header(root)
    # varint length, map(2), "roots": [tag42(bytes(0x00 + cid))], "version": 1
    assert header == (bytes([58, 0xA2, 0x65]) + b"roots" + bytes([0x81, 0xD8, 0x2A, 0x58, 37, 0]) + root.to_bytes()
                      + bytes([0x67]) + b"version" + b"\x01")


@pytest.mark.parametrize("version", [0, 1])
def test_file_car_holds_every_block_once_and_reassembles(tmp_path: Path, version: int) -> None:
    chunk = seeded_bytes("chunk", CHUNK_SIZE)
    data = chunk * 3 + b"tail"  # three identical chunks: stored once
    (tmp_path / "f.bin").write_bytes(data)
    root = export_car(tmp_path / "f.bin", tmp_path / "f.car", cid_version=version)
    assert root == cid_of_path(tmp_path / "f.bin", cid_version=version)
    with open(tmp_path / "f.car", "rb") as stream:
        roots, blocks = read_car(stream)
        seen = list(blocks)
    assert roots == [root]
    assert len(seen) == 3  # root, the repeated chunk, the tail
    store = LocalStore(tmp_path / "store")
    assert store.import_car(tmp_path / "f.car") == [root]
    assert store.cat(root) == data


def test_folder_car_imports_into_a_store(tmp_path: Path, reference_folder: Path) -> None:
    root = export_car(reference_folder, tmp_path / "d.car", cid_version=1)
    store = LocalStore(tmp_path / "store")
    store.import_car(tmp_path / "d.car")
    assert store.cat(root, "sub/big.bin") == seeded_bytes("sub-big", 600000)
    assert store.is_pinned(root)


def test_a_tampered_car_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"hello world")
    export_car(tmp_path / "f.txt", tmp_path / "f.car", cid_version=1)
    data = bytearray((tmp_path / "f.car").read_bytes())
    data[-1] ^= 1
    roots, blocks = read_car(io.BytesIO(bytes(data)))
    with pytest.raises(StorageError, match="does not match"):
        list(blocks)
    with pytest.raises(InputError):
        read_car(io.BytesIO(b"not a car at all"))


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        export_car(tmp_path / "missing", tmp_path / "out.car")
    assert list(tmp_path.iterdir()) == []
