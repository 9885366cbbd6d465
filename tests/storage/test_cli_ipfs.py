"""`studio ipfs …` commands, run through their own argparse registration."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from storage_data import seeded_bytes

from studio.cli import ipfs
from studio.errors import InputError
from studio.storage.cid import Cid
from studio.storage.store import LocalStore


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="studio")
    ipfs.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cid_prints_what_ipfs_add_only_hash_prints(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "hello.txt").write_bytes(b"hello world")
    assert _run(["ipfs", "cid", str(tmp_path / "hello.txt")]) == 0
    assert capsys.readouterr().out.strip() == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
    _run(["ipfs", "cid", "--cid-version", "1", str(tmp_path / "hello.txt")])
    assert capsys.readouterr().out.strip() == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    (tmp_path / "big.bin").write_bytes(seeded_bytes("m1p1", 1024 * 1024 + 1))
    _run(["ipfs", "cid", "--json", str(tmp_path / "big.bin")])
    out = json.loads(capsys.readouterr().out)
    assert out["cid"] == "QmUxPjVdmVZfJAAxmNt18taFvxuQt2RHk5Qv5C4KFn1fea" and out["size"] == 1024 * 1024 + 1


def test_car_then_add_then_get_from_the_local_store(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                      reference_folder: Path) -> None:
    _run(["ipfs", "car", str(reference_folder), "-o", str(tmp_path / "out.car")])
    root = capsys.readouterr().out.strip()
    assert root.startswith("bafybei") and (tmp_path / "out.car").stat().st_size > 600000
    _run(["ipfs", "add", str(reference_folder)])
    assert capsys.readouterr().out.strip() == root
    assert LocalStore.default().is_pinned(Cid.parse(root))
    _run(["ipfs", "get", f"ipfs://{root}/sub/big.bin", "-o", str(tmp_path / "big.bin"), "--gateway", "http://127.0.0.1:9"])
    assert (tmp_path / "big.bin").read_bytes() == seeded_bytes("sub-big", 600000)


def test_bad_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        _run(["ipfs", "cid", str(tmp_path / "missing")])
