"""Deterministic test data of the storage tests (imported by name; the tests folder has no packages)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def seeded_bytes(seed: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes (SHAKE-256 of the seed), the same on every machine."""
    return hashlib.shake_256(seed.encode()).digest(size) if size else b""


def make_reference_folder(root: Path) -> Path:
    """The folder whose CID Kubo computed (see test_unixfs.py); hidden file included."""
    folder = root / "folder"
    (folder / "sub" / "inner").mkdir(parents=True)
    (folder / "emptydir").mkdir()
    (folder / "b.txt").write_bytes(b"bee\n")
    (folder / "a.txt").write_bytes(b"ay\n")
    (folder / "Z upper.txt").write_bytes(b"zed")
    (folder / "é-unicode.json").write_bytes('{"x":"é"}'.encode())
    (folder / "sub" / "big.bin").write_bytes(seeded_bytes("sub-big", 600000))
    (folder / "sub" / "inner" / "empty.txt").write_bytes(b"")
    (folder / ".hidden").write_bytes(b"secret")
    return folder


def make_loop_folder(root: Path) -> Path:
    """A folder holding a symlink back to its parent (a loop) and a link to a file."""
    folder = root / "loop"
    (folder / "x").mkdir(parents=True)
    (folder / "x" / "f.txt").write_bytes(b"f")
    os.symlink("..", folder / "x" / "back")
    os.symlink("x/f.txt", folder / "link.txt")
    return folder
