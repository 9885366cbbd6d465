"""The shared bounded image opener: decompression bombs of every format are refused before decoding,
damaged files are InputErrors (never Pillow's own exceptions), FIFOs and huge files are not read;
and the places that open images from outside (library import, mint, init images, a stranger's
token image) all go through it."""
from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import InputError
from studio.safeimage import ImageBomb, image_size, load_image, open_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_images import BOMBS, bomb_bmp  # noqa: E402


def _png(size=(6, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (9, 8, 7)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_every_kind_of_bomb_is_refused_before_decoding(kind):
    bomb = BOMBS[kind]()
    with pytest.raises(ImageBomb, match="decompression bomb"):
        image_size(bomb, what=f"bomb.{kind}")
    with pytest.raises(ImageBomb, match=f"bomb.{kind}"):
        load_image(bomb, what=f"bomb.{kind}")


def test_a_bomb_under_twice_pillows_limit_is_refused_too():
    # Pillow itself only warns between its limit and twice it, then decodes 100 megapixels
    with pytest.raises(ImageBomb, match="10,000×10,000 = 100,000,000 pixels, over the limit of 89,478,485"):
        image_size(bomb_bmp(10_000, 10_000), what="quiet.bmp")
    with pytest.raises(ImageBomb, match="over the limit of 1,000"):
        image_size(_png((40, 40)), max_pixels=1000)


@pytest.mark.parametrize("damaged", [b"", b"\x89PNG\r\n\x1a\n", _png()[:45], b"GIF89a" + b"\xff" * 40,
                                     b"\xff\xd8\xff\xe0" + b"\x00" * 30, b"RIFF\x10\x00\x00\x00WEBPVP8 ",
                                     b"BM" + b"\x00" * 60])
def test_damaged_files_are_input_errors(damaged):
    with pytest.raises(InputError):
        load_image(damaged, what="broken")


def test_good_images_open_and_formats_can_be_limited():
    assert image_size(_png(), what="ok.png") == (6, 4)
    assert load_image(_png()).size == (6, 4)
    with pytest.raises(InputError, match="not an image the studio can read"):
        image_size(_png(), formats=("JPEG",))


def test_a_path_that_is_a_fifo_or_over_the_size_cap_is_not_read(tmp_path: Path):
    big = tmp_path / "big.png"
    big.write_bytes(_png())
    with pytest.raises(InputError, match="over the limit of 10"):
        with open_image(big, max_bytes=10):
            pass
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.png")
        with pytest.raises(InputError, match="named pipe"):
            load_image(tmp_path / "pipe.png")


def test_a_bomb_imported_into_the_library_or_minted_is_a_clear_error(tmp_path: Path):
    from studio.workflows.library import read_work_file
    from studio.workflows.mint import _image_size

    for kind, make in BOMBS.items():
        path = tmp_path / f"bomb.{kind}"
        path.write_bytes(make())
        with pytest.raises(InputError, match=f"bomb.{kind}.*decompression bomb"):
            read_work_file(path)
        with pytest.raises(InputError, match="decompression bomb"):
            _image_size(path)


@pytest.mark.parametrize("kind", ["gif", "jpg", "webp", "png"])
def test_a_strangers_bomb_image_becomes_a_note_not_a_crash(kind):
    from studio.workflows.collector import safe_preview

    preview, note = safe_preview(BOMBS[kind]())
    assert preview is None and "decompression bomb" in note
