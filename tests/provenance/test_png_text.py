"""PNG text chunks: round trip, tEXt vs iTXt, bad files, and a full disk."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import InputError, NotFound, StorageError
from studio.provenance.png_text import read_png_text, write_png


def _chunk_types(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    types, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        types.append(data[offset + 4:offset + 8])
        offset += 12 + length
    return types


def test_text_round_trips_with_latin1_in_text_and_the_rest_in_itxt(tmp_path: Path) -> None:
    path = tmp_path / "work.png"
    text = {"parameters": "a café at dusk\nSteps: 20", "studio:recipe": '{"prompt": "猫 🐈"}'}
    write_png(Image.new("RGB", (16, 16), "red"), path, text)
    assert read_png_text(path) == text
    types = _chunk_types(path)
    assert types.count(b"tEXt") == 1 and types.count(b"iTXt") == 1
    assert Image.open(path).getpixel((0, 0)) == (255, 0, 0)


def test_a_non_png_or_damaged_file_is_an_input_error(tmp_path: Path) -> None:
    jpeg = tmp_path / "photo.jpg"
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    with pytest.raises(InputError, match="not a PNG"):
        read_png_text(jpeg)
    garbage = tmp_path / "bad.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(InputError):
        read_png_text(garbage)
    with pytest.raises(NotFound):
        read_png_text(tmp_path / "missing.png")


def test_full_disk_leaves_no_file_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, handle):
            self._handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._handle.close()
            return False

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: FullDisk(real_fdopen(fd, mode, *a, **k)))
    path = tmp_path / "works" / "a.png"
    with pytest.raises(StorageError) as info:
        write_png(Image.new("RGB", (8, 8)), path, {"parameters": "x"})
    assert "disk is full" in str(info.value)
    assert list(path.parent.iterdir()) == []


def test_a_bad_key_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        write_png(Image.new("RGB", (8, 8)), tmp_path / "a.png", {"k" * 80: "v"})
    assert not (tmp_path / "a.png").exists()
